// Type inference, verifiers and folders of the ops in LatheNNOps.td (the
// older conv/pool/gemm ops are still in LatheOps.cpp).
#include "ir/InferUtils.h"
#include "ir/LatheOps.h"

#include "mlir/IR/PatternMatch.h"

#include <map>
#include <set>

using namespace mlir;
using namespace lathe;
using namespace lathe::infer;

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

LogicalResult
ConvTransposeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                  Adaptor adaptor,
                                  SmallVectorImpl<Type> &results) {
  const char *name = "lathe.conv_transpose";
  Shape in = shapeOf(adaptor.getInput()), w = shapeOf(adaptor.getWeight());
  if (w.size() != in.size())
    return fail(loc, Twine(name) + ": weight " + str(w) + " and input " +
                         str(in) + " differ in rank");
  size_t spatial = in.size() >= 2 ? in.size() - 2 : 0;
  Shape kernel(w.begin() + std::min<size_t>(2, w.size()), w.end());
  if (failed(checkWindow(loc, name, in, spatial, kernel, adaptor.getStrides(),
                         adaptor.getDilations(), adaptor.getPads())))
    return failure();
  ArrayRef<int64_t> outPad = adaptor.getOutputPadding();
  if (outPad.size() != spatial)
    return fail(loc, Twine(name) + ": output_padding " + str(outPad) +
                         " must have one value per spatial dim");
  int64_t group = static_cast<int64_t>(adaptor.getGroup());
  if (group < 1 || in[1] % group != 0)
    return fail(loc, Twine(name) + ": group " + Twine(group) +
                         " does not divide the channels " + Twine(in[1]));
  if (w[0] != in[1])
    return fail(loc, Twine(name) + ": weight " + str(w) + " expects " +
                         Twine(w[0]) + " input channels, input has " +
                         Twine(in[1]));
  int64_t filters = w[1] * group;
  if (Value bias = adaptor.getBias())
    if (shapeOf(bias) != Shape{filters})
      return fail(loc, Twine(name) + ": bias " + str(shapeOf(bias)) +
                           " must be [" + Twine(filters) + "]");
  Shape out = {in[0], filters};
  for (size_t i = 0; i < spatial; ++i) {
    int64_t s = adaptor.getStrides()[i];
    if (outPad[i] < 0)
      return fail(loc, Twine(name) + ": output_padding " + str(outPad) +
                           " must be non-negative");
    int64_t size = (in[i + 2] - 1) * s +
                   (kernel[i] - 1) * adaptor.getDilations()[i] + 1 + outPad[i] -
                   adaptor.getPads()[i] - adaptor.getPads()[i + spatial];
    if (size < 1)
      return fail(loc, Twine(name) + ": pads " + str(adaptor.getPads()) +
                           " leave no output");
    out.push_back(size);
  }
  return inferred(results, out, elementTypeOf(adaptor.getInput()));
}

LogicalResult MaxPoolWithIndicesOp::inferReturnTypes(
    MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &results) {
  const char *name = "lathe.max_pool_with_indices";
  Shape in = shapeOf(adaptor.getInput());
  if (failed(checkWindow(loc, name, in, in.size() >= 2 ? in.size() - 2 : 0,
                         adaptor.getKernelShape(), adaptor.getStrides(),
                         adaptor.getDilations(), adaptor.getPads())))
    return failure();
  int64_t order = static_cast<int64_t>(adaptor.getStorageOrder());
  if (order != 0 && order != 1)
    return fail(loc, Twine(name) + ": storage_order must be 0 or 1");
  if (failed(inferWindowOutput(loc, name, in, in[1], adaptor.getKernelShape(),
                               adaptor.getStrides(), adaptor.getDilations(),
                               adaptor.getPads(), adaptor.getCeilMode(),
                               elementTypeOf(adaptor.getInput()), results)))
    return failure();
  auto outType = cast<RankedTensorType>(results.back());
  return inferred(results, Shape(outType.getShape()),
                  IntegerType::get(ctx, 64));
}

LogicalResult MaxPoolGradOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &results) {
  const char *name = "lathe.max_pool_grad";
  Shape in = shapeOf(adaptor.getInput()), g = shapeOf(adaptor.getOutputGrad());
  ArrayRef<int64_t> kernel = adaptor.getKernelShape();
  if (elementTypeOf(adaptor.getInput()) !=
      elementTypeOf(adaptor.getOutputGrad()))
    return fail(loc, Twine(name) + ": input and output_grad element types "
                                   "differ");
  bool tiles = in.size() >= 3 && g.size() == in.size() &&
               kernel.size() == in.size() - 2 && in[0] == g[0] && in[1] == g[1];
  for (size_t i = 0; tiles && i < kernel.size(); ++i)
    tiles = kernel[i] >= 1 && g[i + 2] * kernel[i] == in[i + 2];
  if (!tiles)
    return fail(loc, Twine(name) + ": windows " + str(kernel) +
                         " of output_grad " + str(g) + " must tile the input " +
                         str(in) + " exactly");
  return inferred(results, in, elementTypeOf(adaptor.getInput()));
}

LogicalResult MaxUnpoolOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  const char *name = "lathe.max_unpool";
  Shape in = shapeOf(adaptor.getInput());
  if (shapeOf(adaptor.getIndices()) != in)
    return fail(loc, Twine(name) + ": indices " +
                         str(shapeOf(adaptor.getIndices())) +
                         " must have the input's shape " + str(in));
  ArrayRef<int64_t> idx = adaptor.getIndexShape(),
                    out = adaptor.getOutputShape();
  if (idx.size() != in.size() || out.size() != in.size())
    return fail(loc, Twine(name) + ": index_shape " + str(idx) +
                         " and output_shape " + str(out) +
                         " must have the input's rank");
  for (size_t i = 0; i < in.size(); ++i)
    if (idx[i] < 1 || out[i] < idx[i] || (i < 2 && idx[i] != in[i]))
      return fail(loc, Twine(name) + ": index_shape " + str(idx) +
                           " must keep N and C of the input " + str(in) +
                           " and fit in output_shape " + str(out));
  return inferred(results, Shape(out), elementTypeOf(adaptor.getInput()));
}

//===----------------------------------------------------------------------===//
// Normalisation
//===----------------------------------------------------------------------===//

/// Checks that each of `params` is 1-D of the channel count.
static LogicalResult checkChannelParams(std::optional<Location> loc,
                                        StringRef name, const Shape &in,
                                        ArrayRef<Value> params) {
  if (in.size() < 2)
    return fail(loc,
                Twine(name) + ": input must be [N, C, ...], got " + str(in));
  for (Value p : params) {
    if (shapeOf(p) != Shape{in[1]})
      return fail(loc, Twine(name) + ": parameter of shape " + str(shapeOf(p)) +
                           " must be [" + Twine(in[1]) + "]");
    if (elementTypeOf(p) != elementTypeOf(params[0]))
      return fail(loc, Twine(name) + ": parameters differ in element type");
  }
  return success();
}

LogicalResult BatchNormTrainingOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &results) {
  Shape in = shapeOf(adaptor.getInput());
  if (failed(checkChannelParams(loc, "lathe.batch_norm_training", in,
                                {adaptor.getScale(), adaptor.getBias(),
                                 adaptor.getMean(), adaptor.getVariance()})))
    return failure();
  results.push_back(adaptor.getInput().getType());
  for (int i = 0; i < 4; ++i)
    results.push_back(adaptor.getMean().getType());
  return success();
}

LogicalResult InstanceNormOp::inferReturnTypes(MLIRContext *,
                                               std::optional<Location> loc,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &results) {
  Shape in = shapeOf(adaptor.getInput());
  if (failed(checkChannelParams(loc, "lathe.instance_norm", in,
                                {adaptor.getScale(), adaptor.getBias()})))
    return failure();
  return inferSameAsInput(adaptor.getInput(), results);
}

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *ctx,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  const char *name = "lathe.layer_norm";
  Shape in = shapeOf(adaptor.getInput());
  auto axis = normaliseAxis(static_cast<int64_t>(adaptor.getAxis()), in.size());
  if (!axis)
    return fail(loc, Twine(name) + ": axis " +
                         Twine(static_cast<int64_t>(adaptor.getAxis())) +
                         " is out of range for rank " + Twine(in.size()));
  Shape normalised(in.begin() + *axis, in.end());
  SmallVector<Value> params = {adaptor.getScale()};
  if (adaptor.getBias())
    params.push_back(adaptor.getBias());
  for (Value p : params) {
    auto b = broadcastShapes(shapeOf(p), normalised);
    if (!b || *b != normalised)
      return fail(loc, Twine(name) + ": parameter of shape " + str(shapeOf(p)) +
                           " does not broadcast to " + str(normalised));
  }
  // stash_type is an ONNX TensorProto element type code.
  int64_t stash = static_cast<int64_t>(adaptor.getStashType());
  Type statType;
  if (stash == 1)
    statType = Float32Type::get(ctx);
  else if (stash == 10)
    statType = Float16Type::get(ctx);
  else if (stash == 11)
    statType = Float64Type::get(ctx);
  else if (stash == 16)
    statType = BFloat16Type::get(ctx);
  else
    return fail(loc, Twine(name) + ": stash_type " + Twine(stash) +
                         " is not a float type code (1, 10, 11, 16)");
  Shape stat = in;
  for (size_t i = *axis; i < in.size(); ++i)
    stat[i] = 1;
  results.push_back(adaptor.getInput().getType());
  (void)inferred(results, stat, statType);
  return inferred(results, stat, statType);
}

LogicalResult
MeanVarianceNormOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                     Adaptor adaptor,
                                     SmallVectorImpl<Type> &results) {
  Shape in = shapeOf(adaptor.getInput());
  std::set<int64_t> seen;
  for (int64_t a : adaptor.getAxes())
    if (a < 0 || a >= static_cast<int64_t>(in.size()) || !seen.insert(a).second)
      return fail(loc,
                  "lathe.mean_variance_norm: axes " + str(adaptor.getAxes()) +
                      " must be distinct dims of rank " + Twine(in.size()));
  return inferSameAsInput(adaptor.getInput(), results);
}

LogicalResult LrnOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &results) {
  if (shapeOf(adaptor.getInput()).size() < 2)
    return fail(loc, "lathe.lrn: input must be [N, C, ...]");
  if (static_cast<int64_t>(adaptor.getSize()) < 1)
    return fail(loc, "lathe.lrn: size must be positive");
  return inferSameAsInput(adaptor.getInput(), results);
}

LogicalResult LpNormOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  int64_t rank = shapeOf(adaptor.getInput()).size();
  if (!normaliseAxis(static_cast<int64_t>(adaptor.getAxis()), rank))
    return fail(loc, "lathe.lp_norm: axis " +
                         Twine(static_cast<int64_t>(adaptor.getAxis())) +
                         " is out of range for rank " + Twine(rank));
  int64_t p = static_cast<int64_t>(adaptor.getP());
  if (p != 1 && p != 2)
    return fail(loc, "lathe.lp_norm: p must be 1 or 2, got " + Twine(p));
  return inferSameAsInput(adaptor.getInput(), results);
}

//===----------------------------------------------------------------------===//
// Einsum
//===----------------------------------------------------------------------===//

LogicalResult EinsumOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  const char *name = "lathe.einsum";
  if (adaptor.getInputs().empty())
    return fail(loc, Twine(name) + ": needs at least one operand");
  ArrayRef<int64_t> labels = adaptor.getLabels();
  std::map<int64_t, int64_t> sizes;
  size_t next = 0;
  for (Value v : adaptor.getInputs()) {
    for (int64_t d : shapeOf(v)) {
      if (next >= labels.size())
        return fail(loc, Twine(name) + ": fewer labels than operand dims");
      auto [it, inserted] = sizes.insert({labels[next], d});
      if (!inserted && it->second != d)
        return fail(loc, Twine(name) + ": label " + Twine(labels[next]) +
                             " has sizes " + Twine(it->second) + " and " +
                             Twine(d));
      ++next;
    }
  }
  if (next != labels.size())
    return fail(loc, Twine(name) + ": more labels than operand dims");
  Shape out;
  std::set<int64_t> seen;
  for (int64_t l : adaptor.getOutputLabels()) {
    auto it = sizes.find(l);
    if (it == sizes.end() || !seen.insert(l).second)
      return fail(loc, Twine(name) + ": output label " + Twine(l) +
                           " is repeated or not an operand label");
    out.push_back(it->second);
  }
  return inferred(results, out, elementTypeOf(adaptor.getInputs()[0]));
}

//===----------------------------------------------------------------------===//
// Resampling
//===----------------------------------------------------------------------===//

LogicalResult ResizeOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  const char *name = "lathe.resize";
  Shape in = shapeOf(adaptor.getInput());
  size_t rank = in.size();
  ArrayRef<int64_t> sizes = adaptor.getSizes();
  if (adaptor.getScales().size() != rank || sizes.size() != rank)
    return fail(loc, Twine(name) +
                         ": scales and sizes must have one value per "
                         "dim of the input " +
                         str(in));
  if (!adaptor.getRoi().empty() && adaptor.getRoi().size() != 2 * rank)
    return fail(loc,
                Twine(name) + ": roi must be empty or hold 2 * rank values");
  for (size_t i = 0; i < rank; ++i)
    if (sizes[i] < 1 || !(adaptor.getScales()[i] > 0))
      return fail(loc, Twine(name) + ": sizes " + str(sizes) +
                           " and scales must be positive");
  StringRef mode = adaptor.getMode();
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    return fail(loc, Twine(name) + ": unknown mode '" + mode + "'");
  if (mode != "nearest" && !isa<FloatType>(elementTypeOf(adaptor.getInput())))
    return fail(loc, Twine(name) + ": " + mode +
                         " interpolation needs a float input");
  StringRef ctm = adaptor.getCoordinateTransformationMode();
  if (ctm != "half_pixel" && ctm != "pytorch_half_pixel" &&
      ctm != "align_corners" && ctm != "asymmetric" &&
      ctm != "tf_half_pixel_for_nn" && ctm != "tf_crop_and_resize")
    return fail(loc, Twine(name) +
                         ": unknown coordinate_transformation_mode '" + ctm +
                         "'");
  if (ctm == "tf_crop_and_resize" && adaptor.getRoi().empty())
    return fail(loc, Twine(name) + ": tf_crop_and_resize needs a roi");
  StringRef nm = adaptor.getNearestMode();
  if (nm != "round_prefer_floor" && nm != "round_prefer_ceil" &&
      nm != "floor" && nm != "ceil" && nm != "simple")
    return fail(loc, Twine(name) + ": unknown nearest_mode '" + nm + "'");
  return inferred(results, Shape(sizes), elementTypeOf(adaptor.getInput()));
}

LogicalResult GridSampleOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &results) {
  const char *name = "lathe.grid_sample";
  Shape in = shapeOf(adaptor.getInput()), grid = shapeOf(adaptor.getGrid());
  if (in.size() != 4 || grid.size() != 4 || grid[0] != in[0] || grid[3] != 2)
    return fail(loc, Twine(name) + ": input " + str(in) + " and grid " +
                         str(grid) +
                         " must be [N, C, H, W] and [N, Ho, Wo, 2]");
  StringRef mode = adaptor.getMode(), pad = adaptor.getPaddingMode();
  if (mode != "bilinear" && mode != "nearest" && mode != "bicubic")
    return fail(loc, Twine(name) + ": unknown mode '" + mode + "'");
  if (pad != "zeros" && pad != "border" && pad != "reflection")
    return fail(loc, Twine(name) + ": unknown padding_mode '" + pad + "'");
  return inferred(results, Shape{in[0], in[1], grid[1], grid[2]},
                  elementTypeOf(adaptor.getInput()));
}

//===----------------------------------------------------------------------===//
// Canonicalization patterns
//===----------------------------------------------------------------------===//

namespace {

/// Gemm reads A and B transposed for free, so a 2-D transpose feeding either
/// becomes the transA/transB flag. The transpose stays for its other users.
struct FoldTransposeIntoGemm : public OpRewritePattern<GemmOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GemmOp op,
                                PatternRewriter &rewriter) const override {
    auto transposeOf = [](Value v) -> Value {
      auto t = v.getDefiningOp<TransposeOp>();
      if (!t || t.getPerm() != ArrayRef<int64_t>{1, 0})
        return {};
      return t.getInput();
    };
    Value a = transposeOf(op.getA()), b = transposeOf(op.getB());
    if (!a && !b)
      return failure();
    rewriter.modifyOpInPlace(op, [&] {
      if (a) {
        op.getAMutable().assign(a);
        op.setTransA(!op.getTransA());
      }
      if (b) {
        op.getBMutable().assign(b);
        op.setTransB(!op.getTransB());
      }
    });
    return success();
  }
};

} // namespace

void GemmOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                         MLIRContext *context) {
  results.add<FoldTransposeIntoGemm>(context);
}
