// Lowering of the index-driven data movement: gathers are linalg.generics
// over the result that read data with tensor.extract at the run-time index;
// scatters are scf.for nests over the updates that insert into a copy of the
// data in order (later updates win; reductions combine), since duplicate
// indices make them sequential. Negative indices count from the end of the
// dim; out-of-range ones are invalid ONNX and not checked.
#include "ir/LatheOps.h"
#include "passes/LoweringUtils.h"

using namespace mlir;

namespace lathe {
namespace {

int64_t normalisedAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

struct GatherLowering : OpConversionPattern<GatherOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GatherOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (replaceIfEmpty(op, rewriter))
      return success();
    auto type = resultType(op);
    Value data = adaptor.getData();
    auto dataType = cast<RankedTensorType>(data.getType());
    int64_t axis = normalisedAxis(op.getAxis(), dataType.getRank());
    int64_t idxRank =
        cast<RankedTensorType>(adaptor.getIndices().getType()).getRank();
    MLIRContext *ctx = rewriter.getContext();
    // Result dims [axis, axis + idxRank) walk the indices.
    SmallVector<AffineExpr> exprs;
    for (int64_t d = 0; d < idxRank; ++d)
      exprs.push_back(getAffineDimExpr(axis + d, ctx));
    Value v = buildIndexedGeneric(
        rewriter, op.getLoc(), type, {adaptor.getIndices()},
        {AffineMap::get(type.getRank(), 0, exprs, ctx)},
        [&](OpBuilder &b, Location l, ValueRange args, ValueRange ivs) {
          SmallVector<Value> idx(ivs.begin(), ivs.begin() + axis);
          idx.push_back(
              normalisedIndex(b, l, args[0], dataType.getDimSize(axis)));
          idx.append(ivs.begin() + axis + idxRank, ivs.end());
          return b.create<tensor::ExtractOp>(l, data, idx).getResult();
        });
    rewriter.replaceOp(op, v);
    return success();
  }
};

struct GatherElementsLowering : OpConversionPattern<GatherElementsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GatherElementsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (replaceIfEmpty(op, rewriter))
      return success();
    auto type = resultType(op);
    Value data = adaptor.getData();
    auto dataType = cast<RankedTensorType>(data.getType());
    int64_t axis = normalisedAxis(op.getAxis(), dataType.getRank());
    Value v = buildIndexedGeneric(
        rewriter, op.getLoc(), type, {adaptor.getIndices()},
        {AffineMap::getMultiDimIdentityMap(type.getRank(),
                                           rewriter.getContext())},
        [&](OpBuilder &b, Location l, ValueRange args, ValueRange ivs) {
          SmallVector<Value> idx(ivs.begin(), ivs.end());
          idx[axis] = normalisedIndex(b, l, args[0], dataType.getDimSize(axis));
          return b.create<tensor::ExtractOp>(l, data, idx).getResult();
        });
    rewriter.replaceOp(op, v);
    return success();
  }
};

struct GatherNDLowering : OpConversionPattern<GatherNDOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GatherNDOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (replaceIfEmpty(op, rewriter))
      return success();
    auto type = resultType(op);
    Value data = adaptor.getData(), indices = adaptor.getIndices();
    auto dataType = cast<RankedTensorType>(data.getType());
    auto idxType = cast<RankedTensorType>(indices.getType());
    int64_t batch = op.getBatchDims();
    int64_t k = idxType.getShape().back();
    int64_t lead = idxType.getRank() - 1; // result dims that walk indices
    Value v = buildIndexedGeneric(
        rewriter, op.getLoc(), type, {}, {},
        [&](OpBuilder &b, Location l, ValueRange, ValueRange ivs) {
          SmallVector<Value> at(ivs.begin(), ivs.begin() + lead);
          at.push_back(nullptr);
          SmallVector<Value> idx(ivs.begin(), ivs.begin() + batch);
          for (int64_t j = 0; j < k; ++j) {
            at.back() = b.create<arith::ConstantIndexOp>(l, j);
            Value i = b.create<tensor::ExtractOp>(l, indices, at);
            idx.push_back(
                normalisedIndex(b, l, i, dataType.getDimSize(batch + j)));
          }
          idx.append(ivs.begin() + lead, ivs.end());
          return b.create<tensor::ExtractOp>(l, data, idx).getResult();
        });
    rewriter.replaceOp(op, v);
    return success();
  }
};

/// old (reduction) update, for the scatters' element type.
Value combine(OpBuilder &b, Location loc, StringRef reduction, Value old,
              Value update, bool isUnsignedType) {
  bool fp = isa<FloatType>(old.getType());
  if (reduction == "add")
    return fp ? b.create<arith::AddFOp>(loc, old, update).getResult()
              : b.create<arith::AddIOp>(loc, old, update).getResult();
  if (reduction == "mul")
    return fp ? b.create<arith::MulFOp>(loc, old, update).getResult()
              : b.create<arith::MulIOp>(loc, old, update).getResult();
  if (reduction == "max")
    return fp ? b.create<arith::MaximumFOp>(loc, old, update).getResult()
           : isUnsignedType
               ? b.create<arith::MaxUIOp>(loc, old, update).getResult()
               : b.create<arith::MaxSIOp>(loc, old, update).getResult();
  if (reduction == "min")
    return fp ? b.create<arith::MinimumFOp>(loc, old, update).getResult()
           : isUnsignedType
               ? b.create<arith::MinUIOp>(loc, old, update).getResult()
               : b.create<arith::MinSIOp>(loc, old, update).getResult();
  return update;
}

using ScatterBodyFn =
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange ivs)>;

/// An in-order loop nest over `updates` that writes each update, combined by
/// `reduction`, into `data` at the position `position(ivs)` gives.
Value scatterLoops(OpBuilder &b, Location loc, Value data, Value updates,
                   StringRef reduction, bool isUnsignedType,
                   ScatterBodyFn position) {
  auto updType = cast<RankedTensorType>(updates.getType());
  SmallVector<Value> lbs, ubs, steps;
  Value c0 = b.create<arith::ConstantIndexOp>(loc, 0);
  Value c1 = b.create<arith::ConstantIndexOp>(loc, 1);
  for (int64_t d : updType.getShape()) {
    lbs.push_back(c0);
    ubs.push_back(b.create<arith::ConstantIndexOp>(loc, d));
    steps.push_back(c1);
  }
  auto write = [&](OpBuilder &nb, Location l, ValueRange ivs,
                   Value current) -> Value {
    Value update = nb.create<tensor::ExtractOp>(l, updates, ivs);
    SmallVector<Value> at = position(nb, l, ivs);
    if (reduction != "none") {
      Value old = nb.create<tensor::ExtractOp>(l, current, at);
      update = combine(nb, l, reduction, old, update, isUnsignedType);
    }
    return nb.create<tensor::InsertOp>(l, update, current, at);
  };
  if (updType.getRank() == 0)
    return write(b, loc, {}, data);
  scf::LoopNest nest =
      scf::buildLoopNest(b, loc, lbs, ubs, steps, ValueRange{data},
                         [&](OpBuilder &nb, Location l, ValueRange ivs,
                             ValueRange iterArgs) -> scf::ValueVector {
                           return {write(nb, l, ivs, iterArgs[0])};
                         });
  return nest.results.front();
}

struct ScatterElementsLowering : OpConversionPattern<ScatterElementsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ScatterElementsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (replaceIfEmpty(op, rewriter))
      return success();
    auto dataType = cast<RankedTensorType>(adaptor.getData().getType());
    int64_t axis = normalisedAxis(op.getAxis(), dataType.getRank());
    Value indices = adaptor.getIndices();
    Value v = scatterLoops(
        rewriter, op.getLoc(), adaptor.getData(), adaptor.getUpdates(),
        op.getReduction(), isUnsigned(op.getData()),
        [&](OpBuilder &b, Location l, ValueRange ivs) {
          SmallVector<Value> at(ivs.begin(), ivs.end());
          Value i = b.create<tensor::ExtractOp>(l, indices, ivs);
          at[axis] = normalisedIndex(b, l, i, dataType.getDimSize(axis));
          return at;
        });
    rewriter.replaceOp(op, v);
    return success();
  }
};

struct ScatterNDLowering : OpConversionPattern<ScatterNDOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ScatterNDOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (replaceIfEmpty(op, rewriter))
      return success();
    auto dataType = cast<RankedTensorType>(adaptor.getData().getType());
    Value indices = adaptor.getIndices();
    auto idxType = cast<RankedTensorType>(indices.getType());
    int64_t k = idxType.getShape().back();
    int64_t lead = idxType.getRank() - 1; // update dims that walk indices
    Value v = scatterLoops(
        rewriter, op.getLoc(), adaptor.getData(), adaptor.getUpdates(),
        op.getReduction(), isUnsigned(op.getData()),
        [&](OpBuilder &b, Location l, ValueRange ivs) {
          SmallVector<Value> from(ivs.begin(), ivs.begin() + lead);
          from.push_back(nullptr);
          SmallVector<Value> at;
          for (int64_t j = 0; j < k; ++j) {
            from.back() = b.create<arith::ConstantIndexOp>(l, j);
            Value i = b.create<tensor::ExtractOp>(l, indices, from);
            at.push_back(normalisedIndex(b, l, i, dataType.getDimSize(j)));
          }
          at.append(ivs.begin() + lead, ivs.end());
          return at;
        });
    rewriter.replaceOp(op, v);
    return success();
  }
};

} // namespace

void populateIndexingLowering(const TypeConverter &converter,
                              RewritePatternSet &patterns) {
  patterns.add<GatherLowering, GatherElementsLowering, GatherNDLowering,
               ScatterElementsLowering, ScatterNDLowering>(
      converter, patterns.getContext());
}

} // namespace lathe
