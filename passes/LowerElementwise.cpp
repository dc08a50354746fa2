// Lowering of elementwise ops, activations, BatchNorm (inference), Softmax
// and LogSoftmax, and constants.
#include "ir/LatheOps.h"
#include "passes/LoweringUtils.h"

using namespace mlir;

namespace lathe {
namespace {

template <typename OpT>
struct BinaryLowering : OpConversionPattern<OpT> {
  using OpConversionPattern<OpT>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpT op, typename OpT::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    bool isFloat = isa<FloatType>(resultType(op).getElementType());
    Value v = buildElementwise(
        rewriter, op.getLoc(), resultType(op),
        {adaptor.getLhs(), adaptor.getRhs()},
        [&](OpBuilder &b, Location loc, ValueRange a) -> Value {
          if constexpr (std::is_same_v<OpT, AddOp>)
            return isFloat ? b.create<arith::AddFOp>(loc, a[0], a[1]).getResult()
                           : b.create<arith::AddIOp>(loc, a[0], a[1]).getResult();
          if constexpr (std::is_same_v<OpT, SubOp>)
            return isFloat ? b.create<arith::SubFOp>(loc, a[0], a[1]).getResult()
                           : b.create<arith::SubIOp>(loc, a[0], a[1]).getResult();
          if constexpr (std::is_same_v<OpT, MulOp>)
            return isFloat ? b.create<arith::MulFOp>(loc, a[0], a[1]).getResult()
                           : b.create<arith::MulIOp>(loc, a[0], a[1]).getResult();
          return isFloat ? b.create<arith::DivFOp>(loc, a[0], a[1]).getResult()
                         : b.create<arith::DivSIOp>(loc, a[0], a[1]).getResult();
        });
    rewriter.replaceOp(op, v);
    return success();
  }
};

/// Scalar body of each activation.
Value activation(Operation *op, OpBuilder &b, Location loc, Value x) {
  Type t = x.getType();
  Value zero = floatConst(b, loc, t, 0.0);
  Value one = floatConst(b, loc, t, 1.0);
  if (isa<ReluOp>(op))
    return b.create<arith::MaximumFOp>(loc, x, zero);
  if (isa<SigmoidOp>(op)) {
    Value e = b.create<math::ExpOp>(loc, b.create<arith::NegFOp>(loc, x));
    return b.create<arith::DivFOp>(loc, one, b.create<arith::AddFOp>(loc, one, e));
  }
  if (isa<TanhOp>(op))
    return b.create<math::TanhOp>(loc, x);
  Value negative =
      b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, x, zero);
  if (auto leaky = dyn_cast<LeakyReluOp>(op)) {
    Value alpha = floatConst(b, loc, t, leaky.getAlpha().convertToFloat());
    return b.create<arith::SelectOp>(loc, negative,
                                     b.create<arith::MulFOp>(loc, alpha, x), x);
  }
  auto elu = cast<EluOp>(op);
  Value alpha = floatConst(b, loc, t, elu.getAlpha().convertToFloat());
  Value em1 = b.create<arith::SubFOp>(loc, b.create<math::ExpOp>(loc, x), one);
  return b.create<arith::SelectOp>(loc, negative,
                                   b.create<arith::MulFOp>(loc, alpha, em1), x);
}

template <typename OpT>
struct ActivationLowering : OpConversionPattern<OpT> {
  using OpConversionPattern<OpT>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpT op, typename OpT::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Operation *raw = op.getOperation();
    Value v = buildElementwise(rewriter, op.getLoc(), resultType(op),
                               {adaptor.getInput()},
                               [&](OpBuilder &b, Location loc, ValueRange a) {
                                 return activation(raw, b, loc, a[0]);
                               });
    rewriter.replaceOp(op, v);
    return success();
  }
};

/// Identity and inference Dropout forward their input.
template <typename OpT>
struct ForwardLowering : OpConversionPattern<OpT> {
  using OpConversionPattern<OpT>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpT op, typename OpT::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, adaptor.getInput());
    return success();
  }
};

struct ConstantLowering : OpConversionPattern<ConstantOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConstantOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto value = cast<DenseElementsAttr>(op.getValueAttr());
    Type et = signlessType(value.getElementType());
    if (et != value.getElementType())
      value = value.bitcast(et);
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, value);
    return success();
  }
};

/// y = (x - mean) * (scale / sqrt(var + eps)) + bias, per channel (dim 1).
struct BatchNormLowering : OpConversionPattern<BatchNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BatchNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    RankedTensorType type = resultType(op);
    MLIRContext *ctx = rewriter.getContext();
    int64_t rank = type.getRank();
    AffineMap channel = AffineMap::get(rank, 0, getAffineDimExpr(1, ctx));
    AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, ctx);
    float eps = op.getEpsilon().convertToFloat();
    SmallVector<Value> ins = {adaptor.getInput(), adaptor.getScale(),
                              adaptor.getBias(), adaptor.getMean(),
                              adaptor.getVariance()};
    SmallVector<AffineMap> maps = {identity, channel, channel, channel, channel,
                                   identity};
    auto generic = rewriter.create<linalg::GenericOp>(
        op.getLoc(), type, ins,
        ValueRange{emptyTensor(rewriter, op.getLoc(), type)}, maps,
        iterators(rank), [&](OpBuilder &b, Location loc, ValueRange a) {
          Type t = a[0].getType();
          Value var = b.create<arith::AddFOp>(loc, a[4], floatConst(b, loc, t, eps));
          Value inv = b.create<math::RsqrtOp>(loc, var);
          Value scale = b.create<arith::MulFOp>(loc, a[1], inv);
          Value centered = b.create<arith::SubFOp>(loc, a[0], a[3]);
          Value y = b.create<math::FmaOp>(loc, centered, scale, a[2]);
          b.create<linalg::YieldOp>(loc, y);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// A reduction of `input` along `axis` into a tensor of the other dims.
Value reduceAlong(OpBuilder &b, Location loc, Value input, int64_t axis,
                  TypedAttr init, BodyFn combine) {
  auto type = cast<RankedTensorType>(input.getType());
  MLIRContext *ctx = b.getContext();
  int64_t rank = type.getRank();
  SmallVector<int64_t> outShape;
  SmallVector<AffineExpr> outExprs, inExprs(rank);
  // Loop order: the kept dims, then the reduced one (innermost).
  unsigned d = 0;
  for (int64_t i = 0; i < rank; ++i) {
    if (i == axis)
      continue;
    outShape.push_back(type.getDimSize(i));
    outExprs.push_back(getAffineDimExpr(d, ctx));
    inExprs[i] = getAffineDimExpr(d++, ctx);
  }
  inExprs[axis] = getAffineDimExpr(rank - 1, ctx);
  auto outType = RankedTensorType::get(outShape, type.getElementType());
  SmallVector<AffineMap> maps = {AffineMap::get(rank, 0, inExprs, ctx),
                                 AffineMap::get(rank, 0, outExprs, ctx)};
  auto generic = b.create<linalg::GenericOp>(
      loc, outType, input, filledTensor(b, loc, outType, init), maps,
      iterators(rank - 1, 1), [&](OpBuilder &nb, Location nloc, ValueRange a) {
        nb.create<linalg::YieldOp>(nloc, combine(nb, nloc, a));
      });
  return generic.getResult(0);
}

/// Map of a tensor reduced along `axis` inside the full iteration space.
AffineMap reducedMap(MLIRContext *ctx, int64_t rank, int64_t axis) {
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < rank; ++i)
    if (i != axis)
      exprs.push_back(getAffineDimExpr(i, ctx));
  return AffineMap::get(rank, 0, exprs, ctx);
}

/// Softmax: e = exp(x - max), y = e / sum(e).
/// LogSoftmax: y = x - max - log(sum(exp(x - max))).
template <typename OpT>
struct SoftmaxLowering : OpConversionPattern<OpT> {
  using OpConversionPattern<OpT>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpT op, typename OpT::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    constexpr bool isLog = std::is_same_v<OpT, LogSoftmaxOp>;
    Location loc = op.getLoc();
    RankedTensorType type = resultType(op);
    MLIRContext *ctx = rewriter.getContext();
    Value x = adaptor.getInput();
    int64_t rank = type.getRank();
    if (rank == 0) { // softmax of a scalar is 1, log-softmax 0
      rewriter.replaceOp(op, filledTensor(rewriter, loc, type,
                                          floatAttr(type.getElementType(),
                                                    isLog ? 0.0 : 1.0)));
      return success();
    }
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += rank;
    Type et = type.getElementType();
    Value max = reduceAlong(
        rewriter, loc, x, axis,
        floatAttr(et, -std::numeric_limits<double>::infinity()),
        [](OpBuilder &b, Location l, ValueRange a) -> Value {
          return b.create<arith::MaximumFOp>(l, a[0], a[1]);
        });
    AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, ctx);
    AffineMap reduced = reducedMap(ctx, rank, axis);
    auto shifted = rewriter.create<linalg::GenericOp>(
        loc, type, ValueRange{x, max}, ValueRange{emptyTensor(rewriter, loc, type)},
        ArrayRef<AffineMap>{identity, reduced, identity}, iterators(rank),
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value s = b.create<arith::SubFOp>(l, a[0], a[1]);
          b.create<linalg::YieldOp>(l, isLog ? s : b.create<math::ExpOp>(l, s).getResult());
        });
    Value sum = reduceAlong(rewriter, loc, shifted.getResult(0), axis,
                            floatAttr(et, 0.0),
                            [](OpBuilder &b, Location l, ValueRange a) -> Value {
                              Value e = isLog ? b.create<math::ExpOp>(l, a[0]).getResult() : a[0];
                              return b.create<arith::AddFOp>(l, e, a[1]);
                            });
    auto out = rewriter.create<linalg::GenericOp>(
        loc, type, ValueRange{shifted.getResult(0), sum},
        ValueRange{emptyTensor(rewriter, loc, type)},
        ArrayRef<AffineMap>{identity, reduced, identity}, iterators(rank),
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value y = isLog ? b.create<arith::SubFOp>(
                                l, a[0], b.create<math::LogOp>(l, a[1]))
                                .getResult()
                          : b.create<arith::DivFOp>(l, a[0], a[1]).getResult();
          b.create<linalg::YieldOp>(l, y);
        });
    rewriter.replaceOp(op, out.getResult(0));
    return success();
  }
};

} // namespace

void populateElementwiseLowering(const TypeConverter &converter, RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<BinaryLowering<AddOp>, BinaryLowering<SubOp>,
               BinaryLowering<MulOp>, BinaryLowering<DivOp>,
               ActivationLowering<ReluOp>, ActivationLowering<SigmoidOp>,
               ActivationLowering<TanhOp>, ActivationLowering<LeakyReluOp>,
               ActivationLowering<EluOp>, ForwardLowering<IdentityOp>,
               ForwardLowering<DropoutOp>, ConstantLowering, BatchNormLowering,
               SoftmaxLowering<SoftmaxOp>, SoftmaxLowering<LogSoftmaxOp>>(converter, ctx);
}

} // namespace lathe
