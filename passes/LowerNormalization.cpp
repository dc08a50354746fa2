// Lowering of normalisation layers to linalg: statistics are reductions
// (linalg.generic with the normalised dims as reduction loops) into a tensor
// of the kept dims, which the elementwise step reads through a projection.
#include "ir/LatheOps.h"
#include "passes/LoweringUtils.h"

using namespace mlir;

namespace lathe {
namespace {

/// Map from the full loop nest to the dims not in `reduced`.
AffineMap keptMap(MLIRContext *ctx, ArrayRef<bool> reduced) {
  SmallVector<AffineExpr> exprs;
  for (size_t i = 0; i < reduced.size(); ++i)
    if (!reduced[i])
      exprs.push_back(getAffineDimExpr(i, ctx));
  return AffineMap::get(reduced.size(), 0, exprs, ctx);
}

SmallVector<int64_t> keptShape(ArrayRef<int64_t> shape,
                               ArrayRef<bool> reduced) {
  SmallVector<int64_t> kept;
  for (size_t i = 0; i < shape.size(); ++i)
    if (!reduced[i])
      kept.push_back(shape[i]);
  return kept;
}

/// A linalg.generic over the loop nest of `shape` whose output has the kept
/// dims: sums `term(inputs...)` over the reduced dims.
Value sumOver(OpBuilder &b, Location loc, Type et, ArrayRef<int64_t> shape,
              ArrayRef<bool> reduced, ValueRange inputs,
              ArrayRef<AffineMap> maps, BodyFn term) {
  MLIRContext *ctx = b.getContext();
  auto outType = RankedTensorType::get(keptShape(shape, reduced), et);
  SmallVector<AffineMap> all(maps);
  all.push_back(keptMap(ctx, reduced));
  SmallVector<utils::IteratorType> its;
  for (bool r : reduced)
    its.push_back(r ? utils::IteratorType::reduction
                    : utils::IteratorType::parallel);
  auto generic = b.create<linalg::GenericOp>(
      loc, outType, inputs, filledTensor(b, loc, outType, floatAttr(et, 0.0)),
      all, its, [&](OpBuilder &nb, Location l, ValueRange a) {
        Value t = term(nb, l, a.drop_back());
        nb.create<linalg::YieldOp>(
            l, nb.create<arith::AddFOp>(l, a.back(), t).getResult());
      });
  return generic.getResult(0);
}

/// A parallel linalg.generic producing `outType` (identity output map).
Value mapOver(OpBuilder &b, Location loc, RankedTensorType outType,
              ValueRange inputs, ArrayRef<AffineMap> maps, BodyFn body) {
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> all(maps);
  all.push_back(AffineMap::getMultiDimIdentityMap(outType.getRank(), ctx));
  auto generic = b.create<linalg::GenericOp>(
      loc, outType, inputs, ValueRange{emptyTensor(b, loc, outType)}, all,
      iterators(outType.getRank()),
      [&](OpBuilder &nb, Location l, ValueRange a) {
        nb.create<linalg::YieldOp>(l, body(nb, l, a.drop_back()));
      });
  return generic.getResult(0);
}

struct Moments {
  Value mean, var; // over the kept dims
  AffineMap map;   // full loop nest → kept dims
};

/// Mean and biased variance of `x` over the `reduced` dims, the variance as
/// the mean squared deviation (two passes, as the ONNX references do).
Moments moments(OpBuilder &b, Location loc, Value x, ArrayRef<bool> reduced) {
  MLIRContext *ctx = b.getContext();
  auto type = cast<RankedTensorType>(x.getType());
  Type et = type.getElementType();
  int64_t count = 1;
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (reduced[i])
      count *= type.getDimSize(i);
  AffineMap id = AffineMap::getMultiDimIdentityMap(type.getRank(), ctx);
  AffineMap kept = keptMap(ctx, reduced);
  auto keptType =
      RankedTensorType::get(keptShape(type.getShape(), reduced), et);
  auto divideByCount = [&](Value sum) {
    return buildElementwise(
        b, loc, keptType, {sum},
        [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
          return nb.create<arith::DivFOp>(l, a[0],
                                          floatConst(nb, l, et, double(count)));
        });
  };
  Value mean = divideByCount(
      sumOver(b, loc, et, type.getShape(), reduced, {x}, {id},
              [](OpBuilder &, Location, ValueRange a) { return a[0]; }));
  Value var = divideByCount(
      sumOver(b, loc, et, type.getShape(), reduced, {x, mean}, {id, kept},
              [](OpBuilder &nb, Location l, ValueRange a) -> Value {
                Value diff = nb.create<arith::SubFOp>(l, a[0], a[1]);
                return nb.create<arith::MulFOp>(l, diff, diff);
              }));
  return {mean, var, kept};
}

/// (x - mean) / sqrt(var + epsilon).
Value standardise(OpBuilder &b, Location l, Value x, Value mean, Value var,
                  float epsilon) {
  Type et = x.getType();
  Value denom = b.create<math::SqrtOp>(
      l, b.create<arith::AddFOp>(l, var, floatConst(b, l, et, epsilon)));
  return b.create<arith::DivFOp>(l, b.create<arith::SubFOp>(l, x, mean), denom);
}

/// Converts a float tensor to element type `to` (extf/truncf; f16 <-> bf16
/// through f32).
Value convertFloat(OpBuilder &b, Location loc, Value v, Type to) {
  auto type = cast<RankedTensorType>(v.getType());
  Type from = type.getElementType();
  if (from == to)
    return v;
  unsigned fromWidth = from.getIntOrFloatBitWidth(),
           toWidth = to.getIntOrFloatBitWidth();
  return buildElementwise(
      b, loc, RankedTensorType::get(type.getShape(), to), {v},
      [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
        if (toWidth > fromWidth)
          return nb.create<arith::ExtFOp>(l, to, a[0]);
        if (toWidth < fromWidth)
          return nb.create<arith::TruncFOp>(l, to, a[0]);
        Value wide = nb.create<arith::ExtFOp>(l, nb.getF32Type(), a[0]);
        return nb.create<arith::TruncFOp>(l, to, wide);
      });
}

SmallVector<bool> channelReduced(int64_t rank, bool keepBatch) {
  SmallVector<bool> reduced(rank, true);
  reduced[1] = false;
  if (keepBatch)
    reduced[0] = false;
  return reduced;
}

struct BatchNormTrainingLowering : OpConversionPattern<BatchNormTrainingOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BatchNormTrainingOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto outType = resultType(op, 0), statType = resultType(op, 1);
    Value x = adaptor.getInput();
    if (statType.getElementType() != outType.getElementType())
      return rewriter.notifyMatchFailure(op, "mixed element types");
    int64_t rank = outType.getRank();
    Moments m = moments(rewriter, loc, x, channelReduced(rank, false));
    float eps = op.getEpsilon().convertToFloat();
    AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
    // Once per channel: scale / sqrt(var + epsilon); per element only
    // (x - mean) * factor + bias, no divide or square root (lathe-fuse-groups
    // keeps the per-channel op apart, see computesPerBroadcast).
    auto keptType = cast<RankedTensorType>(m.mean.getType());
    Value factor = buildElementwise(
        rewriter, loc, keptType, {adaptor.getScale(), m.var},
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value denom = b.create<math::SqrtOp>(
              l, b.create<arith::AddFOp>(
                     l, a[1], floatConst(b, l, a[1].getType(), eps)));
          return b.create<arith::DivFOp>(l, a[0], denom);
        });
    Value y =
        mapOver(rewriter, loc, outType, {x, m.mean, factor, adaptor.getBias()},
                {id, m.map, m.map, m.map},
                [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                  Value centred = b.create<arith::SubFOp>(l, a[0], a[1]);
                  return b.create<arith::AddFOp>(
                      l, b.create<arith::MulFOp>(l, centred, a[2]), a[3]);
                });
    double momentum = op.getMomentum().convertToFloat();
    auto update = [&](Value running, Value batch) {
      return buildElementwise(
          rewriter, loc, statType, {running, batch},
          [&](OpBuilder &b, Location l, ValueRange a) -> Value {
            Type et = a[0].getType();
            Value keep = b.create<arith::MulFOp>(
                l, a[0], floatConst(b, l, et, momentum));
            Value add = b.create<arith::MulFOp>(
                l, a[1], floatConst(b, l, et, 1.0 - momentum));
            return b.create<arith::AddFOp>(l, keep, add);
          });
    };
    rewriter.replaceOp(op,
                       {y, update(adaptor.getMean(), m.mean),
                        update(adaptor.getVariance(), m.var), m.mean, m.var});
    return success();
  }
};

struct InstanceNormLowering : OpConversionPattern<InstanceNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(InstanceNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto outType = resultType(op);
    int64_t rank = outType.getRank();
    Moments m =
        moments(rewriter, loc, adaptor.getInput(), channelReduced(rank, true));
    float eps = op.getEpsilon().convertToFloat();
    AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
    AffineMap channel = AffineMap::get(rank, 0, getAffineDimExpr(1, ctx));
    rewriter.replaceOp(
        op, mapOver(rewriter, loc, outType,
                    {adaptor.getInput(), m.mean, m.var, adaptor.getScale(),
                     adaptor.getBias()},
                    {id, m.map, m.map, channel, channel},
                    [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                      Value n = standardise(b, l, a[0], a[1], a[2], eps);
                      return b.create<arith::AddFOp>(
                          l, b.create<arith::MulFOp>(l, a[3], n), a[4]);
                    }));
    return success();
  }
};

/// Statistics in the stash type; Y = (x - mean) * inv_std_dev * scale + bias.
struct LayerNormLowering : OpConversionPattern<LayerNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LayerNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto outType = resultType(op, 0), statType = resultType(op, 1);
    Type et = outType.getElementType(), st = statType.getElementType();
    int64_t rank = outType.getRank();
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += rank;
    SmallVector<bool> reduced(rank, false);
    for (int64_t i = axis; i < rank; ++i)
      reduced[i] = true;
    Value x = convertFloat(rewriter, loc, adaptor.getInput(), st);
    Moments m = moments(rewriter, loc, x, reduced);
    float eps = op.getEpsilon().convertToFloat();
    auto keptType = cast<RankedTensorType>(m.var.getType());
    Value invStd = buildElementwise(
        rewriter, loc, keptType, {m.var},
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value sd = b.create<math::SqrtOp>(
              l, b.create<arith::AddFOp>(l, a[0], floatConst(b, l, st, eps)));
          return b.create<arith::DivFOp>(l, floatConst(b, l, st, 1.0), sd);
        });
    AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
    SmallVector<Value> inputs = {x, m.mean, invStd};
    SmallVector<AffineMap> maps = {id, m.map, m.map};
    for (Value p : {adaptor.getScale(), adaptor.getBias()}) {
      if (!p)
        continue;
      p = convertFloat(rewriter, loc, p, st);
      inputs.push_back(p);
      maps.push_back(
          broadcastMap(ctx, cast<RankedTensorType>(p.getType()).getShape(),
                       outType.getShape()));
    }
    bool hasBias = bool(adaptor.getBias());
    Value y = mapOver(
        rewriter, loc, RankedTensorType::get(outType.getShape(), st), inputs,
        maps, [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value n = b.create<arith::MulFOp>(
              l, b.create<arith::SubFOp>(l, a[0], a[1]), a[2]);
          n = b.create<arith::MulFOp>(l, n, a[3]);
          return hasBias ? b.create<arith::AddFOp>(l, n, a[4]).getResult() : n;
        });
    y = convertFloat(rewriter, loc, y, et);
    rewriter.replaceOp(
        op, {y, reshapeTo(rewriter, loc, m.mean, statType.getShape()),
             reshapeTo(rewriter, loc, invStd, statType.getShape())});
    return success();
  }
};

struct MeanVarianceNormLowering : OpConversionPattern<MeanVarianceNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MeanVarianceNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto outType = resultType(op);
    Type et = outType.getElementType();
    SmallVector<bool> reduced(outType.getRank(), false);
    for (int64_t a : op.getAxes())
      reduced[a] = true;
    Moments m = moments(rewriter, loc, adaptor.getInput(), reduced);
    AffineMap id = AffineMap::getMultiDimIdentityMap(outType.getRank(), ctx);
    rewriter.replaceOp(
        op, mapOver(rewriter, loc, outType, {adaptor.getInput(), m.mean, m.var},
                    {id, m.map, m.map},
                    [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                      Value sd = b.create<arith::AddFOp>(
                          l, b.create<math::SqrtOp>(l, a[2]),
                          floatConst(b, l, et, 1e-9));
                      return b.create<arith::DivFOp>(
                          l, b.create<arith::SubFOp>(l, a[0], a[1]), sd);
                    }));
    return success();
  }
};

/// Squares padded along the channels, a window sum over them, then
/// x / (bias + alpha / size * sum)^beta.
struct LrnLowering : OpConversionPattern<LrnOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LrnOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto outType = resultType(op);
    Type et = outType.getElementType();
    int64_t rank = outType.getRank();
    int64_t size = static_cast<int64_t>(op.getSize());
    int64_t before = (size - 1) / 2, after = size - 1 - before;
    Value x = adaptor.getInput();
    Value squares =
        buildElementwise(rewriter, loc, outType, {x},
                         [](OpBuilder &b, Location l, ValueRange a) -> Value {
                           return b.create<arith::MulFOp>(l, a[0], a[0]);
                         });
    SmallVector<int64_t> paddedShape(outType.getShape());
    paddedShape[1] += before + after;
    SmallVector<OpFoldResult> low(rank, rewriter.getIndexAttr(0)),
        high(rank, rewriter.getIndexAttr(0));
    low[1] = rewriter.getIndexAttr(before);
    high[1] = rewriter.getIndexAttr(after);
    Value zero = rewriter.create<arith::ConstantOp>(loc, floatAttr(et, 0.0));
    Value padded = rewriter.create<tensor::PadOp>(
        loc, RankedTensorType::get(paddedShape, et), squares, low, high, zero);
    // Loops: the output dims, then the window k.
    SmallVector<AffineExpr> inExprs, outExprs;
    for (int64_t i = 0; i < rank; ++i) {
      AffineExpr di = getAffineDimExpr(i, ctx);
      inExprs.push_back(i == 1 ? di + getAffineDimExpr(rank, ctx) : di);
      outExprs.push_back(di);
    }
    Value window =
        rewriter.create<tensor::EmptyOp>(loc, ArrayRef<int64_t>{size}, et);
    Value sums =
        rewriter
            .create<linalg::GenericOp>(
                loc, outType, ValueRange{padded, window},
                filledTensor(rewriter, loc, outType, floatAttr(et, 0.0)),
                ArrayRef<AffineMap>{
                    AffineMap::get(rank + 1, 0, inExprs, ctx),
                    AffineMap::get(rank + 1, 0, getAffineDimExpr(rank, ctx)),
                    AffineMap::get(rank + 1, 0, outExprs, ctx)},
                iterators(rank, 1),
                [](OpBuilder &b, Location l, ValueRange a) {
                  b.create<linalg::YieldOp>(
                      l, b.create<arith::AddFOp>(l, a[2], a[0]).getResult());
                })
            .getResult(0);
    double alpha = op.getAlpha().convertToFloat() / double(size);
    double beta = op.getBeta().convertToFloat();
    double bias = op.getBias().convertToFloat();
    rewriter.replaceOp(
        op,
        buildElementwise(rewriter, loc, outType, {x, sums},
                         [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                           Value base = b.create<arith::AddFOp>(
                               l, floatConst(b, l, et, bias),
                               b.create<arith::MulFOp>(
                                   l, floatConst(b, l, et, alpha), a[1]));
                           Value denom = b.create<math::PowFOp>(
                               l, base, floatConst(b, l, et, beta));
                           return b.create<arith::DivFOp>(l, a[0], denom);
                         }));
    return success();
  }
};

struct LpNormLowering : OpConversionPattern<LpNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LpNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto outType = resultType(op);
    Type et = outType.getElementType();
    int64_t rank = outType.getRank();
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += rank;
    SmallVector<bool> reduced(rank, false);
    reduced[axis] = true;
    bool l1 = op.getP() == 1;
    AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
    Value sum = sumOver(rewriter, loc, et, outType.getShape(), reduced,
                        {adaptor.getInput()}, {id},
                        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                          if (l1)
                            return b.create<math::AbsFOp>(l, a[0]);
                          return b.create<arith::MulFOp>(l, a[0], a[0]);
                        });
    rewriter.replaceOp(
        op, mapOver(rewriter, loc, outType, {adaptor.getInput(), sum},
                    {id, keptMap(ctx, reduced)},
                    [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                      Value norm =
                          l1 ? a[1]
                             : b.create<math::SqrtOp>(l, a[1]).getResult();
                      return b.create<arith::DivFOp>(l, a[0], norm);
                    }));
    return success();
  }
};

} // namespace

void populateNormalizationLowering(const TypeConverter &converter,
                                   RewritePatternSet &patterns) {
  patterns
      .add<BatchNormTrainingLowering, InstanceNormLowering, LayerNormLowering,
           MeanVarianceNormLowering, LrnLowering, LpNormLowering>(
          converter, patterns.getContext());
}

} // namespace lathe
