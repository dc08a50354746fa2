// Lowering of the binary elementwise ops (arithmetic, comparisons, logic,
// Where), BatchNorm (inference), Softmax and LogSoftmax, and constants.
// Unary math and Cast are in LowerMath.cpp, activations in
// LowerActivation.cpp.
#include "ir/LatheOps.h"
#include "passes/ElementwiseLowering.h"

using namespace mlir;

namespace lathe {

//===----------------------------------------------------------------------===//
// Scalar bodies (found by ElementwiseLowering through argument-dependent
// lookup, hence in namespace lathe)
//===----------------------------------------------------------------------===//

static bool isFloat(Value v) { return isa<FloatType>(v.getType()); }

static Value scalarOf(AddOp, OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return b.create<arith::AddFOp>(loc, a[0], a[1]);
  return b.create<arith::AddIOp>(loc, a[0], a[1]);
}

static Value scalarOf(SubOp, OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return b.create<arith::SubFOp>(loc, a[0], a[1]);
  return b.create<arith::SubIOp>(loc, a[0], a[1]);
}

static Value scalarOf(MulOp, OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return b.create<arith::MulFOp>(loc, a[0], a[1]);
  return b.create<arith::MulIOp>(loc, a[0], a[1]);
}

/// Integer division or remainder that cannot trap: x86 faults on a zero
/// divisor and on INT_MIN / -1. Those give 0 (numpy's result for a zero
/// divisor), except that the quotient by -1 is the wrapped negation.
static Value integerDivision(OpBuilder &b, Location loc, Value lhs, Value rhs,
                             bool isUnsigned, bool remainder) {
  Type t = lhs.getType();
  Value zero = intConst(b, loc, t, 0), one = intConst(b, loc, t, 1);
  Value byZero =
      b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, rhs, zero);
  Value special = byZero;
  Value byMinusOne;
  if (!isUnsigned) {
    byMinusOne = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, rhs,
                                         intConst(b, loc, t, -1));
    special = b.create<arith::OrIOp>(loc, byZero, byMinusOne);
  }
  Value divisor = b.create<arith::SelectOp>(loc, special, one, rhs);
  Value v;
  if (remainder)
    v = isUnsigned ? b.create<arith::RemUIOp>(loc, lhs, divisor).getResult()
                   : b.create<arith::RemSIOp>(loc, lhs, divisor).getResult();
  else
    v = isUnsigned ? b.create<arith::DivUIOp>(loc, lhs, divisor).getResult()
                   : b.create<arith::DivSIOp>(loc, lhs, divisor).getResult();
  // (The remainder by -1 is already right: the one by 1, 0.)
  if (!isUnsigned && !remainder)
    v = b.create<arith::SelectOp>(loc, byMinusOne,
                                  b.create<arith::SubIOp>(loc, zero, lhs), v);
  return b.create<arith::SelectOp>(loc, byZero, zero, v);
}

static Value scalarOf(DivOp op, OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return b.create<arith::DivFOp>(loc, a[0], a[1]);
  return integerDivision(b, loc, a[0], a[1], isUnsigned(op.getLhs()),
                         /*remainder=*/false);
}

static Value scalarOf(MaxOp op, OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return b.create<arith::MaximumFOp>(loc, a[0], a[1]);
  if (isUnsigned(op.getLhs()))
    return b.create<arith::MaxUIOp>(loc, a[0], a[1]);
  return b.create<arith::MaxSIOp>(loc, a[0], a[1]);
}

static Value scalarOf(MinOp op, OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return b.create<arith::MinimumFOp>(loc, a[0], a[1]);
  if (isUnsigned(op.getLhs()))
    return b.create<arith::MinUIOp>(loc, a[0], a[1]);
  return b.create<arith::MinSIOp>(loc, a[0], a[1]);
}

static Value scalarOf(ModOp op, OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return b.create<arith::RemFOp>(loc, a[0], a[1]);
  bool uns = isUnsigned(op.getLhs());
  Value r = integerDivision(b, loc, a[0], a[1], uns, /*remainder=*/true);
  if (uns || op.getFmod())
    return r;
  // Floored modulo: a non-zero remainder whose sign differs from the
  // divisor's moves by one divisor.
  Value zero = intConst(b, loc, r.getType(), 0);
  Value nonZero =
      b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, r, zero);
  Value signs = b.create<arith::XOrIOp>(loc, r, a[1]);
  Value differ =
      b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, signs, zero);
  Value fix = b.create<arith::AndIOp>(loc, nonZero, differ);
  return b.create<arith::SelectOp>(loc, fix,
                                   b.create<arith::AddIOp>(loc, r, a[1]), r);
}

/// base^e for integers by repeated squaring; negative exponents give what
/// the exact result truncates to (1 for base 1, ±1 for base -1, else 0).
static Value integerPow(OpBuilder &b, Location loc, Value base, Value e,
                        bool isUnsignedBase) {
  Type t = base.getType();
  Value zero = intConst(b, loc, t, 0), one = intConst(b, loc, t, 1);
  Value negative =
      isUnsignedBase
          ? b.create<arith::ConstantOp>(loc, b.getBoolAttr(false)).getResult()
          : b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, e, zero)
                .getResult();
  Value start = b.create<arith::SelectOp>(loc, negative, zero, e);
  auto loop = b.create<scf::WhileOp>(
      loc, TypeRange{t, t, t}, ValueRange{one, base, start},
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value more = nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::ne,
                                              args[2], zero);
        nb.create<scf::ConditionOp>(l, more, args);
      },
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value bit = nb.create<arith::AndIOp>(l, args[2], one);
        Value odd =
            nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::ne, bit, zero);
        Value times = nb.create<arith::MulIOp>(l, args[0], args[1]);
        Value acc = nb.create<arith::SelectOp>(l, odd, times, args[0]);
        Value square = nb.create<arith::MulIOp>(l, args[1], args[1]);
        Value rest = nb.create<arith::ShRUIOp>(l, args[2], one);
        nb.create<scf::YieldOp>(l, ValueRange{acc, square, rest});
      });
  Value result = loop.getResult(0);
  if (isUnsignedBase)
    return result;
  Value minusOne = intConst(b, loc, t, -1);
  Value isOne =
      b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, base, one);
  Value isMinusOne =
      b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, base, minusOne);
  Value eOdd =
      b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne,
                              b.create<arith::AndIOp>(loc, e, one), zero);
  Value signOfMinusOne = b.create<arith::SelectOp>(loc, eOdd, minusOne, one);
  Value forNegative = b.create<arith::SelectOp>(
      loc, isOne, one,
      b.create<arith::SelectOp>(loc, isMinusOne, signOfMinusOne, zero));
  return b.create<arith::SelectOp>(loc, negative, forNegative, result);
}

static Value scalarOf(PowOp op, OpBuilder &b, Location loc, ValueRange a) {
  Value base = a[0], e = a[1];
  bool baseUnsigned = isUnsigned(op.getLhs());
  bool expUnsigned = isUnsigned(op.getRhs());
  Type bt = base.getType();
  if (isFloat(base)) {
    e = convertScalar(b, loc, e, bt, expUnsigned, false);
    return b.create<math::PowFOp>(loc, base, e);
  }
  if (!isFloat(e))
    return integerPow(b, loc, base,
                      convertScalar(b, loc, e, bt, expUnsigned, baseUnsigned),
                      baseUnsigned);
  // Integer base, float exponent: numpy computes in double and the result is
  // converted back to the base's type.
  Type f64 = b.getF64Type();
  Value x = convertScalar(b, loc, base, f64, baseUnsigned, false);
  Value y = convertScalar(b, loc, e, f64, false, false);
  Value p = b.create<math::PowFOp>(loc, x, y);
  return convertScalar(b, loc, p, bt, false, baseUnsigned);
}

static Value scalarOf(BitShiftOp op, OpBuilder &b, Location loc, ValueRange a) {
  Type t = a[0].getType();
  Value shifted = op.getDirection() == "LEFT"
                      ? b.create<arith::ShLIOp>(loc, a[0], a[1]).getResult()
                      : b.create<arith::ShRUIOp>(loc, a[0], a[1]).getResult();
  // LLVM's shifts by the width or more are poison; numpy gives 0.
  Value width = intConst(b, loc, t, t.getIntOrFloatBitWidth());
  Value tooFar =
      b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::uge, a[1], width);
  return b.create<arith::SelectOp>(loc, tooFar, intConst(b, loc, t, 0),
                                   shifted);
}

/// Comparison of `lhs` and `rhs` by a predicate given for floats, signed and
/// unsigned integers.
static Value compare(Value latheLhs, OpBuilder &b, Location loc, ValueRange a,
                     arith::CmpFPredicate f, arith::CmpIPredicate s,
                     arith::CmpIPredicate u) {
  if (isFloat(a[0]))
    return b.create<arith::CmpFOp>(loc, f, a[0], a[1]);
  // Bools compare as unsigned (false < true).
  bool uns = isUnsigned(latheLhs) || a[0].getType().isInteger(1);
  return b.create<arith::CmpIOp>(loc, uns ? u : s, a[0], a[1]);
}

static Value scalarOf(EqualOp op, OpBuilder &b, Location loc, ValueRange a) {
  return compare(op.getLhs(), b, loc, a, arith::CmpFPredicate::OEQ,
                 arith::CmpIPredicate::eq, arith::CmpIPredicate::eq);
}
static Value scalarOf(LessOp op, OpBuilder &b, Location loc, ValueRange a) {
  return compare(op.getLhs(), b, loc, a, arith::CmpFPredicate::OLT,
                 arith::CmpIPredicate::slt, arith::CmpIPredicate::ult);
}
static Value scalarOf(LessOrEqualOp op, OpBuilder &b, Location loc,
                      ValueRange a) {
  return compare(op.getLhs(), b, loc, a, arith::CmpFPredicate::OLE,
                 arith::CmpIPredicate::sle, arith::CmpIPredicate::ule);
}
static Value scalarOf(GreaterOp op, OpBuilder &b, Location loc, ValueRange a) {
  return compare(op.getLhs(), b, loc, a, arith::CmpFPredicate::OGT,
                 arith::CmpIPredicate::sgt, arith::CmpIPredicate::ugt);
}
static Value scalarOf(GreaterOrEqualOp op, OpBuilder &b, Location loc,
                      ValueRange a) {
  return compare(op.getLhs(), b, loc, a, arith::CmpFPredicate::OGE,
                 arith::CmpIPredicate::sge, arith::CmpIPredicate::uge);
}

static Value scalarOf(AndOp, OpBuilder &b, Location loc, ValueRange a) {
  return b.create<arith::AndIOp>(loc, a[0], a[1]);
}
static Value scalarOf(OrOp, OpBuilder &b, Location loc, ValueRange a) {
  return b.create<arith::OrIOp>(loc, a[0], a[1]);
}
static Value scalarOf(XorOp, OpBuilder &b, Location loc, ValueRange a) {
  return b.create<arith::XOrIOp>(loc, a[0], a[1]);
}

static Value scalarOf(WhereOp, OpBuilder &b, Location loc, ValueRange a) {
  return b.create<arith::SelectOp>(loc, a[0], a[1], a[2]);
}

namespace {

/// Identity and inference Dropout forward their input.
template <typename OpT> struct ForwardLowering : OpConversionPattern<OpT> {
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
    SmallVector<AffineMap> maps = {identity, channel, channel,
                                   channel,  channel, identity};
    auto generic = rewriter.create<linalg::GenericOp>(
        op.getLoc(), type, ins,
        ValueRange{emptyTensor(rewriter, op.getLoc(), type)}, maps,
        iterators(rank), [&](OpBuilder &b, Location loc, ValueRange a) {
          Type t = a[0].getType();
          Value var =
              b.create<arith::AddFOp>(loc, a[4], floatConst(b, loc, t, eps));
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

/// A reduction along `axis` iterates the kept dims in order, then the axis
/// innermost: the input's map, the reduced result's map and its type.
struct AlongAxis {
  AffineMap input, reduced;
  RankedTensorType reducedType;
};
AlongAxis alongAxis(MLIRContext *ctx, RankedTensorType type, int64_t axis) {
  int64_t rank = type.getRank();
  SmallVector<int64_t> outShape;
  SmallVector<AffineExpr> outExprs, inExprs(rank);
  unsigned d = 0;
  for (int64_t i = 0; i < rank; ++i) {
    if (i == axis)
      continue;
    outShape.push_back(type.getDimSize(i));
    outExprs.push_back(getAffineDimExpr(d, ctx));
    inExprs[i] = getAffineDimExpr(d++, ctx);
  }
  inExprs[axis] = getAffineDimExpr(rank - 1, ctx);
  return {AffineMap::get(rank, 0, inExprs, ctx),
          AffineMap::get(rank, 0, outExprs, ctx),
          RankedTensorType::get(outShape, type.getElementType())};
}

/// A reduction of `input` along `axis` into a tensor of the other dims.
Value reduceAlong(OpBuilder &b, Location loc, Value input, int64_t axis,
                  TypedAttr init, BodyFn combine) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  AlongAxis along = alongAxis(b.getContext(), type, axis);
  RankedTensorType outType = along.reducedType;
  SmallVector<AffineMap> maps = {along.input, along.reduced};
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

/// One pass over the reduction: the running maximum m and the sum s of
/// exp(x - m) along `axis`, s rescaled by exp(m_old - m_new) when the
/// maximum grows (the "online softmax" recurrence). The selects keep
/// -inf inputs from producing exp(-inf - -inf) = NaN.
std::pair<Value, Value> onlineMaxSum(OpBuilder &b, Location loc, Value x,
                                     int64_t axis) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  Type et = type.getElementType();
  AlongAxis along = alongAxis(b.getContext(), type, axis);
  RankedTensorType outType = along.reducedType;
  AffineMap out = along.reduced;
  Value maxInit = filledTensor(
      b, loc, outType, floatAttr(et, -std::numeric_limits<double>::infinity()));
  Value sumInit = filledTensor(b, loc, outType, floatAttr(et, 0.0));
  auto generic = b.create<linalg::GenericOp>(
      loc, TypeRange{outType, outType}, ValueRange{x},
      ValueRange{maxInit, sumInit}, ArrayRef<AffineMap>{along.input, out, out},
      iterators(rank - 1, 1), [&](OpBuilder &nb, Location l, ValueRange a) {
        Value v = a[0], m = a[1], sum = a[2];
        Value one = nb.create<arith::ConstantOp>(l, floatAttr(et, 1.0));
        Value next = nb.create<arith::MaximumFOp>(l, m, v);
        auto expDiff = [&](Value from) -> Value {
          Value same = nb.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ,
                                                from, next);
          Value e = nb.create<math::ExpOp>(
              l, nb.create<arith::SubFOp>(l, from, next));
          return nb.create<arith::SelectOp>(l, same, one, e);
        };
        Value scaled = nb.create<arith::MulFOp>(l, sum, expDiff(m));
        Value total = nb.create<arith::AddFOp>(l, scaled, expDiff(v));
        nb.create<linalg::YieldOp>(l, ValueRange{next, total});
      });
  return {generic.getResult(0), generic.getResult(1)};
}

/// Softmax: y = exp(x - m) / s; LogSoftmax: y = x - m - log(s), with m and
/// s from one pass over the reduction (onlineMaxSum).
template <typename OpT> struct SoftmaxLowering : OpConversionPattern<OpT> {
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
    auto [max, sum] = onlineMaxSum(rewriter, loc, x, axis);
    AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, ctx);
    AffineMap reduced = reducedMap(ctx, rank, axis);
    auto out = rewriter.create<linalg::GenericOp>(
        loc, type, ValueRange{x, max, sum},
        ValueRange{emptyTensor(rewriter, loc, type)},
        ArrayRef<AffineMap>{identity, reduced, reduced, identity},
        iterators(rank), [&](OpBuilder &b, Location l, ValueRange a) {
          Value shifted = b.create<arith::SubFOp>(l, a[0], a[1]);
          Value y = isLog ? b.create<arith::SubFOp>(
                                 l, shifted, b.create<math::LogOp>(l, a[2]))
                                .getResult()
                          : b.create<arith::DivFOp>(
                                 l, b.create<math::ExpOp>(l, shifted), a[2])
                                .getResult();
          b.create<linalg::YieldOp>(l, y);
        });
    rewriter.replaceOp(op, out.getResult(0));
    return success();
  }
};

/// Hardmax: m = max along the axis, k = the first index holding m, then
/// y = (index == k). Loops keep the reduced dim innermost, as reduceAlong.
struct HardmaxLowering : OpConversionPattern<HardmaxOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(HardmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = resultType(op);
    Type et = type.getElementType();
    MLIRContext *ctx = rewriter.getContext();
    Value x = adaptor.getInput();
    int64_t rank = type.getRank();
    if (rank == 0) {
      rewriter.replaceOp(op,
                         filledTensor(rewriter, loc, type, floatAttr(et, 1.0)));
      return success();
    }
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += rank;
    int64_t size = type.getDimSize(axis);
    Value max =
        reduceAlong(rewriter, loc, x, axis,
                    floatAttr(et, -std::numeric_limits<double>::infinity()),
                    [](OpBuilder &b, Location l, ValueRange a) -> Value {
                      return b.create<arith::MaximumFOp>(l, a[0], a[1]);
                    });
    // Iteration space: kept dims (in order), then the axis.
    SmallVector<AffineExpr> inExprs(rank), keptExprs;
    SmallVector<int64_t> keptShape;
    unsigned d = 0;
    for (int64_t i = 0; i < rank; ++i) {
      if (i == axis)
        continue;
      keptShape.push_back(type.getDimSize(i));
      keptExprs.push_back(getAffineDimExpr(d, ctx));
      inExprs[i] = getAffineDimExpr(d++, ctx);
    }
    inExprs[axis] = getAffineDimExpr(rank - 1, ctx);
    AffineMap inMap = AffineMap::get(rank, 0, inExprs, ctx);
    AffineMap keptMap = AffineMap::get(rank, 0, keptExprs, ctx);
    Type i64 = rewriter.getI64Type();
    auto indexType = RankedTensorType::get(keptShape, i64);
    auto first = rewriter.create<linalg::GenericOp>(
        loc, indexType, ValueRange{x, max},
        filledTensor(rewriter, loc, indexType,
                     rewriter.getI64IntegerAttr(size)),
        ArrayRef<AffineMap>{inMap, keptMap, keptMap}, iterators(rank - 1, 1),
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value i = b.create<arith::IndexCastOp>(
              l, i64, b.create<linalg::IndexOp>(l, rank - 1));
          Value isMax =
              b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, a[0], a[1]);
          Value candidate = b.create<arith::SelectOp>(
              l, isMax, i,
              b.create<arith::ConstantOp>(l, b.getI64IntegerAttr(size)));
          b.create<linalg::YieldOp>(
              l, b.create<arith::MinSIOp>(l, candidate, a[2]).getResult());
        });
    AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, ctx);
    auto out = rewriter.create<linalg::GenericOp>(
        loc, type, ValueRange{first.getResult(0)},
        ValueRange{emptyTensor(rewriter, loc, type)},
        ArrayRef<AffineMap>{reducedMap(ctx, rank, axis), identity},
        iterators(rank), [&](OpBuilder &b, Location l, ValueRange a) {
          Value i = b.create<arith::IndexCastOp>(
              l, i64, b.create<linalg::IndexOp>(l, axis));
          Value hit =
              b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, i, a[0]);
          Value y = b.create<arith::SelectOp>(l, hit, floatConst(b, l, et, 1.0),
                                              floatConst(b, l, et, 0.0));
          b.create<linalg::YieldOp>(l, y);
        });
    rewriter.replaceOp(op, out.getResult(0));
    return success();
  }
};

} // namespace

void populateElementwiseLowering(const TypeConverter &converter,
                                 RewritePatternSet &patterns) {
  addElementwise<AddOp, SubOp, MulOp, DivOp, MaxOp, MinOp, ModOp, PowOp,
                 BitShiftOp, EqualOp, LessOp, LessOrEqualOp, GreaterOp,
                 GreaterOrEqualOp, AndOp, OrOp, XorOp, WhereOp>(converter,
                                                                patterns);
  patterns.add<ForwardLowering<IdentityOp>, ForwardLowering<DropoutOp>,
               ConstantLowering, BatchNormLowering, SoftmaxLowering<SoftmaxOp>,
               SoftmaxLowering<LogSoftmaxOp>, HardmaxLowering>(
      converter, patterns.getContext());
  populateMathLowering(converter, patterns);
  populateActivationLowering(converter, patterns);
}

} // namespace lathe
