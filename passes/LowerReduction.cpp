// Lowering of reductions and arg-reductions to linalg. CumSum and TopK are
// in LowerScan.cpp.
#include "ir/LatheOps.h"
#include "passes/LoweringUtils.h"
#include "passes/ReductionUtils.h"

using namespace mlir;

namespace lathe {

//===----------------------------------------------------------------------===//
// Scalar helpers shared with LowerScan.cpp
//===----------------------------------------------------------------------===//

Value scalarAdd(OpBuilder &b, Location loc, Value x, Value y) {
  if (isa<FloatType>(x.getType()))
    return b.create<arith::AddFOp>(loc, x, y);
  return b.create<arith::AddIOp>(loc, x, y);
}

Value scalarBeats(OpBuilder &b, Location loc, Value x, Value y, bool greater,
                  bool isUnsigned) {
  if (!isa<FloatType>(x.getType())) {
    auto pred = greater ? (isUnsigned ? arith::CmpIPredicate::ugt
                                      : arith::CmpIPredicate::sgt)
                        : (isUnsigned ? arith::CmpIPredicate::ult
                                      : arith::CmpIPredicate::slt);
    return b.create<arith::CmpIOp>(loc, pred, x, y);
  }
  Value ordered = b.create<arith::CmpFOp>(
      loc, greater ? arith::CmpFPredicate::OGT : arith::CmpFPredicate::OLT, x,
      y);
  Value xNaN = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNO, x, x);
  Value yNumber = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::ORD, y, y);
  return b.create<arith::OrIOp>(loc, ordered,
                                b.create<arith::AndIOp>(loc, xNaN, yNumber));
}

Value scalarEqual(OpBuilder &b, Location loc, Value x, Value y) {
  if (!isa<FloatType>(x.getType()))
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, x, y);
  Value equal = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, x, y);
  Value xNaN = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNO, x, x);
  Value yNaN = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNO, y, y);
  return b.create<arith::OrIOp>(loc, equal,
                                b.create<arith::AndIOp>(loc, xNaN, yNaN));
}

Value indexAlong(OpBuilder &b, Location loc, int64_t dim) {
  Value i = b.create<linalg::IndexOp>(loc, dim);
  return b.create<arith::IndexCastOp>(loc, b.getI64Type(), i);
}

Value reduceInto(OpBuilder &b, Location loc, Value input,
                 ArrayRef<int64_t> axes, ValueRange extraInputs,
                 ValueRange inits, ReduceBodyFn body) {
  auto type = cast<RankedTensorType>(input.getType());
  MLIRContext *ctx = b.getContext();
  int64_t rank = type.getRank();
  SmallVector<AffineExpr> kept;
  SmallVector<utils::IteratorType> iters;
  for (int64_t d = 0; d < rank; ++d) {
    bool reduced = llvm::is_contained(axes, d);
    iters.push_back(reduced ? utils::IteratorType::reduction
                            : utils::IteratorType::parallel);
    if (!reduced)
      kept.push_back(getAffineDimExpr(d, ctx));
  }
  AffineMap keptMap = AffineMap::get(rank, 0, kept, ctx);
  SmallVector<Value> ins = {input};
  ins.append(extraInputs.begin(), extraInputs.end());
  SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(rank, ctx)};
  maps.append(extraInputs.size(), keptMap);
  maps.append(inits.size(), keptMap);
  SmallVector<Type> resultTypes;
  for (Value init : inits)
    resultTypes.push_back(init.getType());
  auto generic = b.create<linalg::GenericOp>(
      loc, resultTypes, ins, inits, maps, iters,
      [&](OpBuilder &nb, Location nloc, ValueRange a) {
        ValueRange in = a.take_front(ins.size());
        ValueRange acc = a.drop_front(ins.size());
        nb.create<linalg::YieldOp>(nloc, body(nb, nloc, in, acc));
      });
  return generic.getResult(0);
}

RankedTensorType keptType(RankedTensorType in, ArrayRef<int64_t> axes,
                          Type elementType) {
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < in.getRank(); ++d)
    if (!llvm::is_contained(axes, d))
      shape.push_back(in.getDimSize(d));
  return RankedTensorType::get(shape, elementType);
}

namespace {

//===----------------------------------------------------------------------===//
// Reduce* ops
//===----------------------------------------------------------------------===//

enum class Combine { Sum, Max, Min, Prod };

/// The neutral element of `c` for element type `t`.
TypedAttr identityOf(Combine c, Type t, bool isUnsigned) {
  if (auto ft = dyn_cast<FloatType>(t)) {
    const llvm::fltSemantics &sem = ft.getFloatSemantics();
    switch (c) {
    case Combine::Sum:
      return FloatAttr::get(t, APFloat::getZero(sem));
    case Combine::Prod:
      return FloatAttr::get(t, APFloat::getOne(sem));
    case Combine::Max:
      return FloatAttr::get(t, APFloat::getInf(sem, /*Negative=*/true));
    case Combine::Min:
      return FloatAttr::get(t, APFloat::getInf(sem));
    }
  }
  unsigned w = t.getIntOrFloatBitWidth();
  APInt v;
  switch (c) {
  case Combine::Sum:
    v = APInt::getZero(w);
    break;
  case Combine::Prod:
    v = APInt(w, 1);
    break;
  case Combine::Max:
    v = isUnsigned ? APInt::getZero(w) : APInt::getSignedMinValue(w);
    break;
  case Combine::Min:
    v = isUnsigned ? APInt::getMaxValue(w) : APInt::getSignedMaxValue(w);
    break;
  }
  return IntegerAttr::get(t, v);
}

Value combine(Combine c, OpBuilder &b, Location loc, Value x, Value y,
              bool isUnsigned) {
  bool isFloat = isa<FloatType>(x.getType());
  switch (c) {
  case Combine::Sum:
    return scalarAdd(b, loc, x, y);
  case Combine::Prod:
    return isFloat ? b.create<arith::MulFOp>(loc, x, y).getResult()
                   : b.create<arith::MulIOp>(loc, x, y).getResult();
  case Combine::Max: // NaN propagates, as numpy's max
    if (isFloat)
      return b.create<arith::MaximumFOp>(loc, x, y);
    return isUnsigned ? b.create<arith::MaxUIOp>(loc, x, y).getResult()
                      : b.create<arith::MaxSIOp>(loc, x, y).getResult();
  case Combine::Min:
    if (isFloat)
      return b.create<arith::MinimumFOp>(loc, x, y);
    return isUnsigned ? b.create<arith::MinUIOp>(loc, x, y).getResult()
                      : b.create<arith::MinSIOp>(loc, x, y).getResult();
  }
  llvm_unreachable("unknown combination");
}

/// Converts between an integer or float scalar and f64 (float inputs use
/// their own type: only integers are widened).
Value toF64(OpBuilder &b, Location loc, Value x, bool isUnsigned) {
  if (isa<FloatType>(x.getType()))
    return x;
  if (isUnsigned)
    return b.create<arith::UIToFPOp>(loc, b.getF64Type(), x);
  return b.create<arith::SIToFPOp>(loc, b.getF64Type(), x);
}
Value fromF64(OpBuilder &b, Location loc, Value x, Type t, bool isUnsigned) {
  if (x.getType() == t)
    return x;
  if (isUnsigned)
    return b.create<arith::FPToUIOp>(loc, t, x);
  return b.create<arith::FPToSIOp>(loc, t, x);
}

/// Reduce ops: pre-map each element, combine, post-map each result.
template <typename OpT> struct ReduceLowering : OpConversionPattern<OpT> {
  using OpConversionPattern<OpT>::OpConversionPattern;

  static constexpr Combine combination() {
    if constexpr (std::is_same_v<OpT, ReduceMaxOp>)
      return Combine::Max;
    if constexpr (std::is_same_v<OpT, ReduceMinOp>)
      return Combine::Min;
    if constexpr (std::is_same_v<OpT, ReduceProdOp>)
      return Combine::Prod;
    return Combine::Sum;
  }

  /// |x| for L1, x * x for L2 and SumSquare.
  static Value pre(OpBuilder &b, Location loc, Value x, bool isUnsigned) {
    bool isFloat = isa<FloatType>(x.getType());
    if constexpr (std::is_same_v<OpT, ReduceL1Op>) {
      if (isFloat)
        return b.create<math::AbsFOp>(loc, x);
      return isUnsigned ? x : b.create<math::AbsIOp>(loc, x).getResult();
    }
    if constexpr (std::is_same_v<OpT, ReduceL2Op> ||
                  std::is_same_v<OpT, ReduceSumSquareOp>)
      return isFloat ? b.create<arith::MulFOp>(loc, x, x).getResult()
                     : b.create<arith::MulIOp>(loc, x, x).getResult();
    return x;
  }

  /// Mean divides by the count; L2 and LogSum apply sqrt and log (in f64
  /// for integers, truncated back).
  static Value post(OpBuilder &b, Location loc, Value s, int64_t count,
                    bool isUnsigned) {
    Type t = s.getType();
    if constexpr (std::is_same_v<OpT, ReduceMeanOp>) {
      if (isa<FloatType>(t))
        return b.create<arith::DivFOp>(loc, s, floatConst(b, loc, t, count));
      if (count == 0) // an integer division by zero would be undefined
        return s;
      Value n = b.create<arith::ConstantOp>(loc, b.getIntegerAttr(t, count));
      return isUnsigned ? b.create<arith::DivUIOp>(loc, s, n).getResult()
                        : b.create<arith::DivSIOp>(loc, s, n).getResult();
    }
    if constexpr (std::is_same_v<OpT, ReduceL2Op>)
      return fromF64(b, loc,
                     b.create<math::SqrtOp>(loc, toF64(b, loc, s, isUnsigned)),
                     t, isUnsigned);
    if constexpr (std::is_same_v<OpT, ReduceLogSumOp>)
      return fromF64(b, loc,
                     b.create<math::LogOp>(loc, toF64(b, loc, s, isUnsigned)),
                     t, isUnsigned);
    return s;
  }

  LogicalResult
  matchAndRewrite(OpT op, typename OpT::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    auto inType = cast<RankedTensorType>(x.getType());
    RankedTensorType outType = resultType(op);
    Type et = outType.getElementType();
    bool isUns = isUnsigned(op.getInput());
    ArrayRef<int64_t> axes = op.getAxes();
    int64_t count = 1;
    for (int64_t a : axes)
      count *= inType.getDimSize(a);
    RankedTensorType kept = keptType(inType, axes, et);
    Value v;
    if constexpr (std::is_same_v<OpT, ReduceLogSumExpOp>) {
      v = logSumExp(rewriter, loc, x, axes, kept, isUns);
    } else {
      Combine c = combination();
      Value init = filledTensor(rewriter, loc, kept, identityOf(c, et, isUns));
      v = reduceInto(
          rewriter, loc, x, axes, {}, init,
          [&](OpBuilder &b, Location l, ValueRange in,
              ValueRange acc) -> SmallVector<Value> {
            return {combine(c, b, l, pre(b, l, in[0], isUns), acc[0], isUns)};
          });
      if (!std::is_same_v<OpT, ReduceSumOp>)
        v = buildElementwise(rewriter, loc, kept, v,
                             [&](OpBuilder &b, Location l, ValueRange a) {
                               return post(b, l, a[0], count, isUns);
                             });
    }
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, v, outType.getShape()));
    return success();
  }

  /// m + log(sum(exp(x - m))), m = max(x) where finite (an infinite max
  /// would turn x - m into NaN; shifting by 0 gives the right +-inf then).
  /// Integers are exponentiated in f64.
  static Value logSumExp(OpBuilder &rw, Location loc, Value x,
                         ArrayRef<int64_t> axes, RankedTensorType kept,
                         bool isUns) {
    Type et = kept.getElementType();
    Type ft = isa<FloatType>(et) ? et : rw.getF64Type();
    Value max = reduceInto(
        rw, loc, x, axes, {},
        filledTensor(rw, loc, kept, identityOf(Combine::Max, et, isUns)),
        [&](OpBuilder &b, Location l, ValueRange in,
            ValueRange acc) -> SmallVector<Value> {
          return {combine(Combine::Max, b, l, in[0], acc[0], isUns)};
        });
    RankedTensorType keptF = RankedTensorType::get(kept.getShape(), ft);
    Value shift = buildElementwise(
        rw, loc, keptF, max, [&](OpBuilder &b, Location l, ValueRange a) {
          Value m = toF64(b, l, a[0], isUns);
          Value inf = b.create<arith::ConstantOp>(
              l,
              FloatAttr::get(ft, APFloat::getInf(
                                     cast<FloatType>(ft).getFloatSemantics())));
          Value finite = b.create<arith::CmpFOp>(
              l, arith::CmpFPredicate::OLT, b.create<math::AbsFOp>(l, m), inf);
          return b
              .create<arith::SelectOp>(l, finite, m, floatConst(b, l, ft, 0.0))
              .getResult();
        });
    Value sum = reduceInto(rw, loc, x, axes, shift,
                           filledTensor(rw, loc, keptF, floatAttr(ft, 0.0)),
                           [&](OpBuilder &b, Location l, ValueRange in,
                               ValueRange acc) -> SmallVector<Value> {
                             Value d = b.create<arith::SubFOp>(
                                 l, toF64(b, l, in[0], isUns), in[1]);
                             return {b.create<arith::AddFOp>(
                                 l, b.create<math::ExpOp>(l, d), acc[0])};
                           });
    return buildElementwise(rw, loc, kept, ValueRange{sum, shift},
                            [&](OpBuilder &b, Location l, ValueRange a) {
                              Value r = b.create<arith::AddFOp>(
                                  l, b.create<math::LogOp>(l, a[0]), a[1]);
                              return fromF64(b, l, r, et, isUns);
                            });
  }
};

//===----------------------------------------------------------------------===//
// ArgMax, ArgMin
//===----------------------------------------------------------------------===//

/// One reduction carrying (best value, its index); index -1 means "none
/// yet", so the result does not depend on the iteration order.
template <typename OpT> struct ArgReduceLowering : OpConversionPattern<OpT> {
  using OpConversionPattern<OpT>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpT op, typename OpT::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    constexpr bool isMax = std::is_same_v<OpT, ArgMaxOp>;
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    auto inType = cast<RankedTensorType>(x.getType());
    Type et = inType.getElementType();
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += inType.getRank();
    bool isUns = isUnsigned(op.getInput());
    bool last = op.getSelectLastIndex();
    RankedTensorType keptV = keptType(inType, axis, et);
    RankedTensorType keptI = keptType(inType, axis, rewriter.getI64Type());
    Value inits[] = {
        filledTensor(rewriter, loc, keptV, rewriter.getZeroAttr(et)),
        filledTensor(rewriter, loc, keptI, rewriter.getI64IntegerAttr(-1))};
    auto body = [&](OpBuilder &b, Location l, ValueRange in,
                    ValueRange acc) -> SmallVector<Value> {
      Value v = in[0], best = acc[0], bestI = acc[1];
      Value i = indexAlong(b, l, axis);
      // NaN wins both ways, as numpy's argmax and argmin.
      Value wins = scalarBeats(b, l, v, best, isMax, isUns);
      Value tieBreak = b.create<arith::CmpIOp>(
          l, last ? arith::CmpIPredicate::sgt : arith::CmpIPredicate::slt, i,
          bestI);
      Value tie =
          b.create<arith::AndIOp>(l, scalarEqual(b, l, v, best), tieBreak);
      Value none =
          b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, bestI,
                                  b.create<arith::ConstantIntOp>(l, 0, 64));
      Value take =
          b.create<arith::OrIOp>(l, none, b.create<arith::OrIOp>(l, wins, tie));
      return {b.create<arith::SelectOp>(l, take, v, best),
              b.create<arith::SelectOp>(l, take, i, bestI)};
    };
    auto generic = cast<linalg::GenericOp>(
        reduceInto(rewriter, loc, x, axis, {}, inits, body).getDefiningOp());
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, generic.getResult(1),
                                     resultType(op).getShape()));
    return success();
  }
};

} // namespace

void populateReductionLowering(const TypeConverter &converter,
                               RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns
      .add<ReduceLowering<ReduceSumOp>, ReduceLowering<ReduceMeanOp>,
           ReduceLowering<ReduceMaxOp>, ReduceLowering<ReduceMinOp>,
           ReduceLowering<ReduceProdOp>, ReduceLowering<ReduceL1Op>,
           ReduceLowering<ReduceL2Op>, ReduceLowering<ReduceLogSumOp>,
           ReduceLowering<ReduceLogSumExpOp>, ReduceLowering<ReduceSumSquareOp>,
           ArgReduceLowering<ArgMaxOp>, ArgReduceLowering<ArgMinOp>>(converter,
                                                                     ctx);
  populateScanLowering(converter, patterns);
}

} // namespace lathe
