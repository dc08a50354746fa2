// Lowering of CumSum and TopK: loops (scf.for) over the scanned axis whose
// steps are linalg ops on slices.
#include "ir/LatheOps.h"
#include "passes/LoweringUtils.h"
#include "passes/ReductionUtils.h"

using namespace mlir;

namespace lathe {
namespace {

/// Offsets/sizes/strides of the slice at `index` along `axis` of `shape`.
struct AxisSlice {
  SmallVector<OpFoldResult> offsets, sizes, strides;
  AxisSlice(OpBuilder &b, ArrayRef<int64_t> shape, int64_t axis, Value index) {
    for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
      offsets.push_back(d == axis ? OpFoldResult(index) : b.getIndexAttr(0));
      sizes.push_back(b.getIndexAttr(d == axis ? 1 : shape[d]));
      strides.push_back(b.getIndexAttr(1));
    }
  }
};

RankedTensorType withDim(RankedTensorType t, int64_t axis, int64_t size,
                         Type elementType) {
  SmallVector<int64_t> shape(t.getShape());
  shape[axis] = size;
  return RankedTensorType::get(shape, elementType);
}

int64_t normalised(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

/// Running sum: one step per position along the axis adds that slice to an
/// accumulator slice and stores the accumulator (before the addition when
/// exclusive). Reverse walks the positions from the end.
struct CumSumLowering : OpConversionPattern<CumSumOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(CumSumOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    RankedTensorType type = resultType(op);
    Type et = type.getElementType();
    int64_t axis = normalised(op.getAxis(), type.getRank());
    int64_t n = type.getDimSize(axis);
    int64_t rank = type.getRank();
    RankedTensorType sliceType = withDim(type, axis, 1, et);
    bool exclusive = op.getExclusive(), reverse = op.getReverse();
    Value acc0 =
        filledTensor(rewriter, loc, sliceType, rewriter.getZeroAttr(et));
    Value out0 = emptyTensor(rewriter, loc, type);
    Value lb = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value ub = rewriter.create<arith::ConstantIndexOp>(loc, n);
    Value step = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    auto loop = rewriter.create<scf::ForOp>(
        loc, lb, ub, step, ValueRange{out0, acc0},
        [&](OpBuilder &b, Location l, Value iv, ValueRange iter) {
          Value index = iv;
          if (reverse)
            index = b.create<arith::SubIOp>(
                l, b.create<arith::ConstantIndexOp>(l, n - 1), iv);
          AxisSlice s(b, type.getShape(), axis, index);
          Value xs = b.create<tensor::ExtractSliceOp>(
              l, sliceType, x, s.offsets, s.sizes, s.strides);
          // The accumulator is updated in place (its buffer is the loop's).
          auto accumulate = [&]() {
            return b
                .create<linalg::GenericOp>(
                    l, sliceType, xs, iter[1],
                    SmallVector<AffineMap>(2, b.getMultiDimIdentityMap(rank)),
                    iterators(rank),
                    [](OpBuilder &nb, Location nl, ValueRange a) {
                      nb.create<linalg::YieldOp>(nl,
                                                 scalarAdd(nb, nl, a[1], a[0]));
                    })
                .getResult(0);
          };
          auto store = [&](Value slice) {
            return b.create<tensor::InsertSliceOp>(l, slice, iter[0], s.offsets,
                                                   s.sizes, s.strides);
          };
          Value out, acc;
          if (exclusive) {
            out = store(iter[1]);
            acc = accumulate();
          } else {
            acc = accumulate();
            out = store(acc);
          }
          b.create<scf::YieldOp>(l, ValueRange{out, acc});
        });
    rewriter.replaceOp(op, loop.getResult(0));
    return success();
  }
};

/// Selection: step r finds, in one reduction along the axis, the best
/// element that comes after the one step r-1 found, in the total order
/// "better value first (NaN largest), then lower index". O(k * n).
struct TopKLowering : OpConversionPattern<TopKOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TopKOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    auto inType = cast<RankedTensorType>(x.getType());
    Type et = inType.getElementType();
    Type i64 = rewriter.getI64Type();
    int64_t axis = normalised(op.getAxis(), inType.getRank());
    bool isUns = isUnsigned(op.getInput()), largest = op.getLargest();
    RankedTensorType valsType = resultType(op, 0), idxsType = resultType(op, 1);
    RankedTensorType keptV = keptType(inType, axis, et);
    RankedTensorType keptI = keptType(inType, axis, i64);
    SmallVector<int64_t> sliceShape(valsType.getShape());
    sliceShape[axis] = 1;
    auto noValue = [&](OpBuilder &b, Location l) {
      return filledTensor(b, l, keptV, b.getZeroAttr(et));
    };
    auto noIndex = [&](OpBuilder &b, Location l) {
      return filledTensor(b, l, keptI, b.getI64IntegerAttr(-1));
    };
    // (a, ia) comes before (c, ic) in the result.
    auto before = [&](OpBuilder &b, Location l, Value a, Value ia, Value c,
                      Value ic) -> Value {
      Value better = largest ? scalarBeats(b, l, a, c, true, isUns)
                             : scalarBeats(b, l, c, a, true, isUns);
      Value tie = b.create<arith::AndIOp>(
          l, scalarEqual(b, l, a, c),
          b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, ia, ic));
      return b.create<arith::OrIOp>(l, better, tie);
    };
    auto body = [&](OpBuilder &b, Location l, ValueRange in,
                    ValueRange acc) -> SmallVector<Value> {
      Value v = in[0], prevV = in[1], prevI = in[2];
      Value bestV = acc[0], bestI = acc[1];
      Value j = indexAlong(b, l, axis);
      Value zero = b.create<arith::ConstantIntOp>(l, 0, 64);
      Value first =
          b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, prevI, zero);
      Value eligible =
          b.create<arith::OrIOp>(l, first, before(b, l, prevV, prevI, v, j));
      Value none =
          b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, bestI, zero);
      Value better =
          b.create<arith::OrIOp>(l, none, before(b, l, v, j, bestV, bestI));
      Value take = b.create<arith::AndIOp>(l, eligible, better);
      return {b.create<arith::SelectOp>(l, take, v, bestV),
              b.create<arith::SelectOp>(l, take, j, bestI)};
    };

    // The result tensors are the loop's only state (so that they bufferize
    // in place): step r reads step r-1's pick from them; index -1, which
    // they start with, means "no previous pick".
    Value lb = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value ub = rewriter.create<arith::ConstantIndexOp>(loc, op.getK());
    Value step = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    SmallVector<Value> iterInit = {
        filledTensor(rewriter, loc, valsType, rewriter.getZeroAttr(et)),
        filledTensor(rewriter, loc, idxsType, rewriter.getI64IntegerAttr(-1))};
    auto loop = rewriter.create<scf::ForOp>(
        loc, lb, ub, step, iterInit,
        [&](OpBuilder &b, Location l, Value r, ValueRange iter) {
          Value c0 = b.create<arith::ConstantIndexOp>(l, 0);
          Value c1 = b.create<arith::ConstantIndexOp>(l, 1);
          Value isFirst =
              b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, r, c0);
          Value prevPos = b.create<arith::SelectOp>(
              l, isFirst, c0, b.create<arith::SubIOp>(l, r, c1));
          AxisSlice prev(b, sliceShape, axis, prevPos);
          auto previous = [&](Value all, RankedTensorType kept) {
            Value slice = b.create<tensor::ExtractSliceOp>(
                l, RankedTensorType::get(sliceShape, kept.getElementType()),
                all, prev.offsets, prev.sizes, prev.strides);
            return reshapeTo(b, l, slice, kept.getShape());
          };
          Value prevs[] = {previous(iter[0], keptV), previous(iter[1], keptI)};
          Value inits[] = {noValue(b, l), noIndex(b, l)};
          auto generic = cast<linalg::GenericOp>(
              reduceInto(b, l, x, axis, prevs, inits, body).getDefiningOp());
          AxisSlice s(b, sliceShape, axis, r);
          auto store = [&](Value best, Value all) {
            return b.create<tensor::InsertSliceOp>(
                l, reshapeTo(b, l, best, sliceShape), all, s.offsets, s.sizes,
                s.strides);
          };
          Value vals = store(generic.getResult(0), iter[0]);
          Value idxs = store(generic.getResult(1), iter[1]);
          b.create<scf::YieldOp>(l, ValueRange{vals, idxs});
        });
    rewriter.replaceOp(op, {loop.getResult(0), loop.getResult(1)});
    return success();
  }
};

} // namespace

void populateScanLowering(const TypeConverter &converter,
                          RewritePatternSet &patterns) {
  patterns.add<CumSumLowering, TopKLowering>(converter, patterns.getContext());
}

} // namespace lathe
