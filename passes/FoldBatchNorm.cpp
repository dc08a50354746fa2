// lathe-fold-batchnorm: inference batch normalisation is an affine map per
// channel, y = x * scale + shift, so with constant parameters it costs nothing
// when the producing layer's weights absorb it, and one multiply-add (fused
// into the neighbouring elementwise loop) otherwise.
//
// All arithmetic is in double and each new tensor is rounded once to its
// element type, so folding adds at most one rounding per weight.
#include "ir/InferUtils.h"
#include "ir/LatheDialect.h"
#include "ir/LatheOps.h"
#include "passes/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/SetVector.h"

#include <cmath>

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_FOLDBATCHNORM
#include "passes/Passes.h.inc"

namespace {

using Doubles = std::vector<double>;

/// The elements of a constant float tensor in row-major order; nullopt when
/// `v` is not produced by a constant.
std::optional<Doubles> constantValues(Value v) {
  DenseElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)) ||
      !isa<FloatType>(attr.getElementType()))
    return std::nullopt;
  Doubles out;
  out.reserve(attr.getNumElements());
  // f32 and f64 read directly: through APFloat, the 11 M weights of
  // ResNet-18 took 2 s of its 10 s compile.
  if (attr.getElementType().isF32()) {
    for (float f : attr.getValues<float>())
      out.push_back(f);
    return out;
  }
  if (attr.getElementType().isF64()) {
    for (double d : attr.getValues<double>())
      out.push_back(d);
    return out;
  }
  for (APFloat f : attr.getValues<APFloat>()) {
    bool lost;
    f.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
    out.push_back(f.convertToDouble());
  }
  return out;
}

/// A `lathe.constant` of `shape` and `elementType` holding `values` rounded
/// once (to nearest even), marked as produced by folding.
Value foldedConstant(RewriterBase &rewriter, Location loc, const Shape &shape,
                     Type elementType, ArrayRef<double> values) {
  auto type = RankedTensorType::get(shape, elementType);
  auto make = [&](DenseElementsAttr attr) {
    auto op = rewriter.create<ConstantOp>(loc, attr);
    op->setAttr("lathe.folded", rewriter.getUnitAttr());
    return op;
  };
  // A double converts to float rounding to nearest even, as APFloat does.
  if (elementType.isF32()) {
    SmallVector<float> floats(values.begin(), values.end());
    return make(DenseElementsAttr::get(type, ArrayRef<float>(floats)));
  }
  if (elementType.isF64())
    return make(DenseElementsAttr::get(type, values));
  const llvm::fltSemantics &sem =
      cast<FloatType>(elementType).getFloatSemantics();
  SmallVector<APFloat> elements;
  elements.reserve(values.size());
  for (double d : values) {
    APFloat f(d);
    bool lost;
    f.convert(sem, APFloat::rmNearestTiesToEven, &lost);
    elements.push_back(f);
  }
  return make(DenseElementsAttr::get(type, elements));
}

/// The per-channel affine map of a batch_norm with constant parameters.
struct Affine {
  Doubles scale, shift;
};

std::optional<Affine> affineOf(BatchNormOp bn) {
  auto gamma = constantValues(bn.getScale());
  auto beta = constantValues(bn.getBias());
  auto mean = constantValues(bn.getMean());
  auto var = constantValues(bn.getVariance());
  if (!gamma || !beta || !mean || !var)
    return std::nullopt;
  double eps = bn.getEpsilonAttr().getValueAsDouble();
  Affine a;
  for (size_t c = 0; c < gamma->size(); ++c) {
    double s = (*gamma)[c] / std::sqrt((*var)[c] + eps);
    a.scale.push_back(s);
    a.shift.push_back((*beta)[c] - (*mean)[c] * s);
  }
  return a;
}

Type elementTypeOf(Value v) { return infer::elementTypeOf(v); }
Shape shapeOf(Value v) { return infer::shapeOf(v); }

/// New bias of a layer whose output channel c is scaled: b * scale + shift
/// (shift alone when there was no bias). nullopt when the bias is not
/// constant.
std::optional<Value> foldedBias(RewriterBase &rewriter, Location loc,
                                Value bias, const Affine &a, Type et) {
  Doubles b(a.scale.size(), 0.0);
  if (bias) {
    auto values = constantValues(bias);
    if (!values)
      return std::nullopt;
    b = *values;
  }
  for (size_t c = 0; c < b.size(); ++c)
    b[c] = b[c] * a.scale[c] + a.shift[c];
  return foldedConstant(rewriter, loc, {int64_t(b.size())}, et, b);
}

/// Conv weights are [Cout, Cin/group, k...]: output channel co owns the
/// contiguous block W[co].
Value foldIntoConv(RewriterBase &rewriter, ConvOp conv, const Affine &a,
                   Location loc) {
  auto w = constantValues(conv.getWeight());
  if (!w)
    return {};
  Shape wShape = shapeOf(conv.getWeight());
  Type et = elementTypeOf(conv.getWeight());
  auto bias = foldedBias(rewriter, loc, conv.getBias(), a, et);
  if (!bias)
    return {};
  int64_t block = numElements(wShape) / wShape[0];
  for (size_t i = 0; i < w->size(); ++i)
    (*w)[i] *= a.scale[i / block];
  Value weight = foldedConstant(rewriter, loc, wShape, et, *w);
  return rewriter.create<ConvOp>(loc, conv.getInput(), weight, *bias,
                                 conv.getStridesAttr(), conv.getDilationsAttr(),
                                 conv.getPadsAttr(), conv.getGroupAttr());
}

/// ConvTranspose weights are [Cin, Cout/group, k...]: input channel ci
/// belongs to group ci / (Cin/group), whose output channels start at
/// group * Cout/group, so W[ci, j] feeds output channel
/// (ci / (Cin/group)) * (Cout/group) + j.
Value foldIntoConvTranspose(RewriterBase &rewriter, ConvTransposeOp conv,
                            const Affine &a, Location loc) {
  auto w = constantValues(conv.getWeight());
  if (!w)
    return {};
  Shape wShape = shapeOf(conv.getWeight());
  Type et = elementTypeOf(conv.getWeight());
  auto bias = foldedBias(rewriter, loc, conv.getBias(), a, et);
  if (!bias)
    return {};
  int64_t group = conv.getGroup();
  int64_t cinPerGroup = wShape[0] / group, coutPerGroup = wShape[1];
  int64_t kernel = numElements(wShape) / (wShape[0] * wShape[1]);
  for (size_t i = 0; i < w->size(); ++i) {
    int64_t ci = i / (coutPerGroup * kernel);
    int64_t j = (i / kernel) % coutPerGroup;
    (*w)[i] *= a.scale[(ci / cinPerGroup) * coutPerGroup + j];
  }
  Value weight = foldedConstant(rewriter, loc, wShape, et, *w);
  return rewriter.create<ConvTransposeOp>(
      loc, conv.getInput(), weight, *bias, conv.getStridesAttr(),
      conv.getDilationsAttr(), conv.getPadsAttr(), conv.getOutputPaddingAttr(),
      conv.getGroupAttr());
}

/// Scales column n of op(B) by scale[n]: B is [K, N], or [N, K] with transB.
std::optional<Value> scaledColumns(RewriterBase &rewriter, Location loc,
                                   Value bValue, bool transB, const Affine &a) {
  auto b = constantValues(bValue);
  if (!b)
    return std::nullopt;
  Shape shape = shapeOf(bValue);
  int64_t k = transB ? shape[1] : shape[0], n = transB ? shape[0] : shape[1];
  for (size_t i = 0; i < b->size(); ++i)
    (*b)[i] *= a.scale[transB ? i / k : i % n];
  return foldedConstant(rewriter, loc, shape, elementTypeOf(bValue), *b);
}

/// Gemm: y = alpha * op(A) op(B) + beta * C, BN over the columns. Scaling
/// op(B)'s columns scales the product; the new C is beta * C * scale + shift
/// (broadcast at least to [N]), with beta = 1.
Value foldIntoGemm(RewriterBase &rewriter, GemmOp gemm, const Affine &a,
                   Location loc) {
  Type et = elementTypeOf(gemm.getB());
  Shape cShape = {int64_t(a.scale.size())}, outShape = cShape;
  Doubles c(1, 0.0);
  if (Value cValue = gemm.getC()) {
    auto values = constantValues(cValue);
    if (!values)
      return {};
    c = *values;
    cShape = shapeOf(cValue);
    outShape = *broadcastShapes(cShape, outShape);
  } else {
    cShape = {};
  }
  auto b = scaledColumns(rewriter, loc, gemm.getB(), gemm.getTransB(), a);
  if (!b)
    return {};
  // Numpy broadcasting of C (right-aligned, size-1 dims repeat) into
  // outShape, whose last dim is the channel.
  double beta = gemm.getBetaAttr().getValueAsDouble();
  int64_t rank = outShape.size(), offset = rank - cShape.size();
  Doubles out(numElements(outShape));
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t rest = i, src = 0, stride = 1;
    for (int64_t d = rank - 1; d >= 0; --d) {
      int64_t idx = rest % outShape[d];
      rest /= outShape[d];
      if (d >= offset) {
        int64_t dim = cShape[d - offset];
        src += (dim == 1 ? 0 : idx) * stride;
        stride *= dim;
      }
    }
    int64_t ch = i % outShape.back();
    out[i] = beta * c[src] * a.scale[ch] + a.shift[ch];
  }
  Value newC = foldedConstant(rewriter, loc, outShape, et, out);
  return rewriter.create<GemmOp>(
      loc, gemm.getA(), *b, newC, gemm.getTransAAttr(), gemm.getTransBAttr(),
      gemm.getAlphaAttr(), rewriter.getF32FloatAttr(1.0f));
}

/// A 2-D MatMul [M, K] x [K, N] is a Gemm without C: it becomes one with the
/// scaled B and C = shift.
Value foldIntoMatMul(RewriterBase &rewriter, MatMulOp mm, const Affine &a,
                     Location loc) {
  if (shapeOf(mm.getA()).size() != 2 || shapeOf(mm.getB()).size() != 2)
    return {};
  auto b = scaledColumns(rewriter, loc, mm.getB(), /*transB=*/false, a);
  if (!b)
    return {};
  Value c = foldedConstant(rewriter, loc, {int64_t(a.shift.size())},
                           elementTypeOf(mm.getB()), a.shift);
  return rewriter.create<GemmOp>(loc, mm.getA(), *b, c, false, false,
                                 APFloat(1.0f), APFloat(1.0f));
}

/// The folded layer replacing `bn` and its producer, or null when the
/// producer is not a foldable layer used only by `bn`. BN normalises axis 1,
/// which for Gemm/MatMul is the column (last) axis only for rank-2 outputs.
Value foldIntoProducer(RewriterBase &rewriter, BatchNormOp bn,
                       const Affine &a) {
  Value input = bn.getInput();
  Operation *producer = input.getDefiningOp();
  if (!producer || !input.hasOneUse())
    return {};
  Location loc = rewriter.getFusedLoc({producer->getLoc(), bn.getLoc()});
  // Constants go right before the producer, the new layer replaces it.
  rewriter.setInsertionPoint(producer);
  // The layer's element type is the one the new weights get; BN's output
  // has the same type (it is the layer's output type).
  Value folded;
  if (auto conv = dyn_cast<ConvOp>(producer))
    folded = foldIntoConv(rewriter, conv, a, loc);
  else if (auto convT = dyn_cast<ConvTransposeOp>(producer))
    folded = foldIntoConvTranspose(rewriter, convT, a, loc);
  else if (shapeOf(input).size() != 2)
    return {};
  else if (auto gemm = dyn_cast<GemmOp>(producer))
    folded = foldIntoGemm(rewriter, gemm, a, loc);
  else if (auto mm = dyn_cast<MatMulOp>(producer))
    folded = foldIntoMatMul(rewriter, mm, a, loc);
  if (folded) {
    // Keeps discardable attributes (e.g. names for inspection) of the layer.
    for (NamedAttribute attr : producer->getDiscardableAttrs())
      folded.getDefiningOp()->setAttr(attr.getName(), attr.getValue());
  }
  return folded;
}

/// y = x * scale + shift with constants shaped [C, 1, ..., 1], which
/// broadcast along axis 1 of the [N, C, ...] input.
Value lowerToMulAdd(RewriterBase &rewriter, BatchNormOp bn, const Affine &a) {
  rewriter.setInsertionPoint(bn);
  Shape shape = shapeOf(bn.getInput());
  Shape paramShape(shape.size() - 1, 1);
  paramShape[0] = shape[1];
  Type et = elementTypeOf(bn.getInput());
  Location loc = bn.getLoc();
  Value scale = foldedConstant(rewriter, loc, paramShape, et, a.scale);
  Value shift = foldedConstant(rewriter, loc, paramShape, et, a.shift);
  Value mul = rewriter.create<MulOp>(loc, bn.getInput(), scale);
  return rewriter.create<AddOp>(loc, mul, shift);
}

struct FoldBatchNormPass : impl::FoldBatchNormBase<FoldBatchNormPass> {
  void runOnOperation() override {
    SmallVector<BatchNormOp> bns;
    getOperation().walk([&](BatchNormOp bn) { bns.push_back(bn); });
    IRRewriter rewriter(&getContext());
    // In program order, so BN -> BN folds the second into what replaced the
    // first.
    for (BatchNormOp bn : bns) {
      std::optional<Affine> a = affineOf(bn);
      if (!a)
        continue;
      Operation *producer = bn.getInput().getDefiningOp();
      // Not the input: it dies with the producer when that is folded.
      SmallVector<Value> inputs(llvm::drop_begin(bn->getOperands()));
      if (Value folded = foldIntoProducer(rewriter, bn, *a)) {
        inputs.append(producer->operand_begin(), producer->operand_end());
        rewriter.replaceOp(bn, folded);
        rewriter.eraseOp(producer);
      } else {
        rewriter.replaceOp(bn, lowerToMulAdd(rewriter, bn, *a));
      }
      eraseDeadConstants(rewriter, inputs);
    }
  }

  /// The parameters and old weights, unless something else still uses them.
  /// One constant may appear several times (beta and mean both zeros).
  static void eraseDeadConstants(RewriterBase &rewriter,
                                 ArrayRef<Value> values) {
    llvm::SmallSetVector<Operation *, 8> dead;
    for (Value v : values)
      if (auto c = v.getDefiningOp<ConstantOp>(); c && c->use_empty())
        dead.insert(c);
    for (Operation *op : dead)
      rewriter.eraseOp(op);
  }
};

} // namespace
} // namespace lathe
