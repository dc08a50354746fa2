// Type inference, verifiers and folders of the ops in LatheShapeOps.td.
#include "ir/InferUtils.h"
#include "ir/LatheOps.h"

#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace lathe;
using namespace lathe::infer;

//===----------------------------------------------------------------------===//
// Slicing, broadcasting, padding
//===----------------------------------------------------------------------===//

LogicalResult SliceOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &results) {
  Shape in = shapeOf(adaptor.getInput());
  ArrayRef<int64_t> offsets = adaptor.getOffsets(), sizes = adaptor.getSizes(),
                    strides = adaptor.getStrides();
  if (offsets.size() != in.size() || sizes.size() != in.size() ||
      strides.size() != in.size())
    return fail(loc, "lathe.slice: offsets " + str(offsets) + ", sizes " +
                         str(sizes) + " and strides " + str(strides) +
                         " do not match rank " + Twine(in.size()));
  for (size_t d = 0; d < in.size(); ++d) {
    if (strides[d] == 0 || sizes[d] < 0)
      return fail(loc, "lathe.slice: strides must be non-zero and sizes "
                       "non-negative");
    if (sizes[d] == 0)
      continue;
    int64_t last = offsets[d] + (sizes[d] - 1) * strides[d];
    if (offsets[d] < 0 || offsets[d] >= in[d] || last < 0 || last >= in[d])
      return fail(loc, "lathe.slice: dim " + Twine(d) + " reads [" +
                           Twine(offsets[d]) + ", " + Twine(last) +
                           "] outside the input " + str(in));
  }
  return inferred(results, Shape(sizes.begin(), sizes.end()),
                  elementTypeOf(adaptor.getInput()));
}

LogicalResult ExpandOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  Shape in = shapeOf(adaptor.getInput());
  Shape shape(adaptor.getShape().begin(), adaptor.getShape().end());
  auto out = broadcastShapes(in, shape);
  if (!out)
    return fail(loc, "lathe.expand: input " + str(in) +
                         " does not broadcast with shape " + str(shape));
  return inferred(results, *out, elementTypeOf(adaptor.getInput()));
}

LogicalResult TileOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &results) {
  Shape in = shapeOf(adaptor.getInput());
  ArrayRef<int64_t> repeats = adaptor.getRepeats();
  if (repeats.size() != in.size())
    return fail(loc, "lathe.tile: repeats " + str(repeats) +
                         " do not match rank " + Twine(in.size()));
  Shape out;
  for (size_t d = 0; d < in.size(); ++d) {
    if (repeats[d] < 0)
      return fail(loc, "lathe.tile: repeats must be non-negative");
    out.push_back(in[d] * repeats[d]);
  }
  return inferred(results, out, elementTypeOf(adaptor.getInput()));
}

LogicalResult PadOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &results) {
  Shape in = shapeOf(adaptor.getInput());
  ArrayRef<int64_t> pads = adaptor.getPads();
  StringRef mode = adaptor.getMode();
  if (mode != "constant" && mode != "reflect" && mode != "edge")
    return fail(loc, "lathe.pad: mode '" + mode +
                         "' is not one of constant, reflect, edge");
  if (pads.size() != 2 * in.size())
    return fail(loc, "lathe.pad: pads " + str(pads) + " do not fit rank " +
                         Twine(in.size()));
  if (Value v = adaptor.getValue()) {
    if (elementTypeOf(v) != elementTypeOf(adaptor.getInput()) ||
        numElements(shapeOf(v)) != 1)
      return fail(loc, "lathe.pad: the value must be one element of the "
                       "input's type");
  }
  Shape out;
  for (size_t d = 0; d < in.size(); ++d) {
    int64_t size = in[d] + pads[d] + pads[d + in.size()];
    if (size < 0)
      return fail(loc, "lathe.pad: pads " + str(pads) + " crop more than dim " +
                           Twine(d) + " of " + str(in));
    // Reflect and edge read the input, which must not be empty there.
    if (mode != "constant" && size > 0 && in[d] == 0)
      return fail(loc, "lathe.pad: " + mode + " mode cannot pad an empty dim");
    out.push_back(size);
  }
  return inferred(results, out, elementTypeOf(adaptor.getInput()));
}

LogicalResult TriluOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &results) {
  Shape in = shapeOf(adaptor.getInput());
  if (in.size() < 2)
    return fail(loc, "lathe.trilu: input must have rank >= 2, got " + str(in));
  if (Value k = adaptor.getKValue())
    if (numElements(shapeOf(k)) != 1)
      return fail(loc, "lathe.trilu: k must be one element");
  return inferSameAsInput(adaptor.getInput(), results);
}

LogicalResult OneHotOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  Shape in = shapeOf(adaptor.getIndices());
  if (shapeOf(adaptor.getValues()) != Shape{2})
    return fail(loc, "lathe.one_hot: values must be [2], got " +
                         str(shapeOf(adaptor.getValues())));
  int64_t depth = static_cast<int64_t>(adaptor.getDepth());
  if (depth < 1)
    return fail(loc,
                "lathe.one_hot: depth must be positive, got " + Twine(depth));
  auto axis =
      normaliseAxis(static_cast<int64_t>(adaptor.getAxis()), in.size() + 1);
  if (!axis)
    return fail(loc, "lathe.one_hot: axis " +
                         Twine(static_cast<int64_t>(adaptor.getAxis())) +
                         " is out of range for rank " + Twine(in.size() + 1));
  Shape out = in;
  out.insert(out.begin() + *axis, depth);
  return inferred(results, out, elementTypeOf(adaptor.getValues()));
}

LogicalResult
ReverseSequenceOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                    Adaptor adaptor,
                                    SmallVectorImpl<Type> &results) {
  Shape in = shapeOf(adaptor.getInput());
  int64_t batch = static_cast<int64_t>(adaptor.getBatchAxis());
  int64_t time = static_cast<int64_t>(adaptor.getTimeAxis());
  if (in.size() < 2 || batch < 0 || time < 0 || batch > 1 || time > 1 ||
      batch == time)
    return fail(loc, "lathe.reverse_sequence: batch_axis and time_axis must "
                     "be 0 and 1 in some order, for an input of rank >= 2");
  if (shapeOf(adaptor.getSeqLens()) != Shape{in[batch]})
    return fail(loc, "lathe.reverse_sequence: seq_lens must be [" +
                         Twine(in[batch]) + "]");
  return inferSameAsInput(adaptor.getInput(), results);
}

//===----------------------------------------------------------------------===//
// Gathers and scatters
//===----------------------------------------------------------------------===//

LogicalResult GatherOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  Shape data = shapeOf(adaptor.getData()), idx = shapeOf(adaptor.getIndices());
  auto axis =
      normaliseAxis(static_cast<int64_t>(adaptor.getAxis()), data.size());
  if (!axis)
    return fail(loc, "lathe.gather: axis " +
                         Twine(static_cast<int64_t>(adaptor.getAxis())) +
                         " is out of range for rank " + Twine(data.size()));
  Shape out(data.begin(), data.begin() + *axis);
  out.insert(out.end(), idx.begin(), idx.end());
  out.insert(out.end(), data.begin() + *axis + 1, data.end());
  return inferred(results, out, elementTypeOf(adaptor.getData()));
}

LogicalResult
GatherElementsOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                   Adaptor adaptor,
                                   SmallVectorImpl<Type> &results) {
  Shape data = shapeOf(adaptor.getData()), idx = shapeOf(adaptor.getIndices());
  if (data.size() != idx.size() || data.empty())
    return fail(loc, "lathe.gather_elements: data " + str(data) +
                         " and indices " + str(idx) +
                         " must have the same rank >= 1");
  if (!normaliseAxis(static_cast<int64_t>(adaptor.getAxis()), data.size()))
    return fail(loc, "lathe.gather_elements: axis " +
                         Twine(static_cast<int64_t>(adaptor.getAxis())) +
                         " is out of range for rank " + Twine(data.size()));
  return inferred(results, idx, elementTypeOf(adaptor.getData()));
}

/// Checks data/indices of GatherND and ScatterND; returns k (the tuple
/// length) or nullopt after reporting.
static std::optional<int64_t> checkND(std::optional<Location> loc,
                                      StringRef name, const Shape &data,
                                      const Shape &idx, int64_t batchDims) {
  if (idx.empty() || data.empty()) {
    (void)fail(loc, Twine(name) + ": data and indices must have rank >= 1");
    return std::nullopt;
  }
  int64_t k = idx.back();
  int64_t b = batchDims;
  if (b < 0 || b >= static_cast<int64_t>(std::min(data.size(), idx.size())) ||
      k < 1 || b + k > static_cast<int64_t>(data.size())) {
    (void)fail(loc, Twine(name) + ": indices " + str(idx) +
                        " do not address data " + str(data) +
                        " with batch_dims " + Twine(b));
    return std::nullopt;
  }
  for (int64_t i = 0; i < b; ++i)
    if (data[i] != idx[i]) {
      (void)fail(loc, Twine(name) + ": batch dims of data " + str(data) +
                          " and indices " + str(idx) + " differ");
      return std::nullopt;
    }
  return k;
}

LogicalResult GatherNDOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &results) {
  Shape data = shapeOf(adaptor.getData()), idx = shapeOf(adaptor.getIndices());
  int64_t b = static_cast<int64_t>(adaptor.getBatchDims());
  auto k = checkND(loc, "lathe.gather_nd", data, idx, b);
  if (!k)
    return failure();
  Shape out(idx.begin(), idx.end() - 1);
  out.insert(out.end(), data.begin() + b + *k, data.end());
  return inferred(results, out, elementTypeOf(adaptor.getData()));
}

static LogicalResult checkReduction(std::optional<Location> loc, StringRef name,
                                    StringRef reduction) {
  if (reduction != "none" && reduction != "add" && reduction != "mul" &&
      reduction != "max" && reduction != "min")
    return fail(loc, Twine(name) + ": reduction '" + reduction +
                         "' is not one of none, add, mul, max, min");
  return success();
}

LogicalResult
ScatterElementsOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                    Adaptor adaptor,
                                    SmallVectorImpl<Type> &results) {
  Shape data = shapeOf(adaptor.getData()), idx = shapeOf(adaptor.getIndices());
  if (failed(checkReduction(loc, "lathe.scatter_elements",
                            adaptor.getReduction())))
    return failure();
  if (data.size() != idx.size() || data.empty() ||
      shapeOf(adaptor.getUpdates()) != idx)
    return fail(loc, "lathe.scatter_elements: data " + str(data) +
                         ", indices " + str(idx) + " and updates " +
                         str(shapeOf(adaptor.getUpdates())) +
                         " must have one rank >= 1, indices and updates one "
                         "shape");
  if (elementTypeOf(adaptor.getUpdates()) != elementTypeOf(adaptor.getData()))
    return fail(loc, "lathe.scatter_elements: updates and data differ in "
                     "element type");
  if (!normaliseAxis(static_cast<int64_t>(adaptor.getAxis()), data.size()))
    return fail(loc, "lathe.scatter_elements: axis " +
                         Twine(static_cast<int64_t>(adaptor.getAxis())) +
                         " is out of range for rank " + Twine(data.size()));
  return inferSameAsInput(adaptor.getData(), results);
}

LogicalResult ScatterNDOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  Shape data = shapeOf(adaptor.getData()), idx = shapeOf(adaptor.getIndices());
  if (failed(checkReduction(loc, "lathe.scatter_nd", adaptor.getReduction())))
    return failure();
  auto k = checkND(loc, "lathe.scatter_nd", data, idx, 0);
  if (!k)
    return failure();
  Shape updates(idx.begin(), idx.end() - 1);
  updates.insert(updates.end(), data.begin() + *k, data.end());
  if (shapeOf(adaptor.getUpdates()) != updates)
    return fail(loc, "lathe.scatter_nd: updates " +
                         str(shapeOf(adaptor.getUpdates())) + " must be " +
                         str(updates));
  if (elementTypeOf(adaptor.getUpdates()) != elementTypeOf(adaptor.getData()))
    return fail(loc,
                "lathe.scatter_nd: updates and data differ in element type");
  return inferSameAsInput(adaptor.getData(), results);
}

//===----------------------------------------------------------------------===//
// Folders and canonicalization patterns
//===----------------------------------------------------------------------===//

OpFoldResult ExpandOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

OpFoldResult FlattenOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

namespace {

/// Reshape or Flatten of a Reshape or Flatten: only the last shape matters
/// (both keep the row-major element order), so the chain becomes one Reshape
/// of the first input.
template <typename OpT> struct ComposeReshapes : public OpRewritePattern<OpT> {
  using OpRewritePattern<OpT>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpT op,
                                PatternRewriter &rewriter) const override {
    Operation *producer = op.getInput().getDefiningOp();
    if (!isa_and_nonnull<ReshapeOp, FlattenOp>(producer))
      return failure();
    rewriter.replaceOpWithNewOp<ReshapeOp>(op, producer->getOperand(0),
                                           op.getType().getShape());
    return success();
  }
};

/// transpose(transpose(x, inner), outer) is transpose(x, inner[outer[i]]);
/// when that is the identity the folder then removes it.
struct ComposeTransposes : public OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<TransposeOp>();
    if (!inner)
      return failure();
    SmallVector<int64_t> perm;
    for (int64_t p : op.getPerm())
      perm.push_back(inner.getPerm()[p]);
    rewriter.replaceOpWithNewOp<TransposeOp>(op, inner.getInput(), perm);
    return success();
  }
};

} // namespace

void ReshapeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                            MLIRContext *context) {
  results.add<ComposeReshapes<ReshapeOp>>(context);
}

void FlattenOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                            MLIRContext *context) {
  results.add<ComposeReshapes<FlattenOp>>(context);
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  for (auto [i, p] : llvm::enumerate(getPerm()))
    if (p != static_cast<int64_t>(i))
      return {};
  return getInput();
}

void TransposeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                              MLIRContext *context) {
  results.add<ComposeTransposes>(context);
}
