// Lowering of unary math (Abs ... Atanh), the float predicates (IsNaN,
// IsInf), Not, and Cast. Each becomes an elementwise linalg.generic over
// arith/math ops; transcendental math ops are approximated by polynomials
// later (lathe-approximate-math) or become libm calls.
#include "ir/LatheOps.h"
#include "passes/ElementwiseLowering.h"

using namespace mlir;

namespace lathe {

Value convertScalar(OpBuilder &b, Location loc, Value v, Type to,
                    bool srcUnsigned, bool dstUnsigned) {
  Type from = v.getType();
  if (from == to)
    return v;
  auto fromFloat = dyn_cast<FloatType>(from);
  auto toFloat = dyn_cast<FloatType>(to);
  if (to.isInteger(1)) {
    // x != 0; NaN is true (numpy's astype(bool)).
    if (fromFloat)
      return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNE, v,
                                     floatConst(b, loc, from, 0.0));
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, v,
                                   intConst(b, loc, from, 0));
  }
  // Bools are 0 or 1: unsigned whatever the target.
  if (from.isInteger(1))
    srcUnsigned = true;
  if (fromFloat && toFloat) {
    if (fromFloat.getWidth() < toFloat.getWidth())
      return b.create<arith::ExtFOp>(loc, to, v);
    return b.create<arith::TruncFOp>(loc, to, v);
  }
  if (toFloat) {
    if (srcUnsigned)
      return b.create<arith::UIToFPOp>(loc, to, v);
    return b.create<arith::SIToFPOp>(loc, to, v);
  }
  if (fromFloat) {
    if (dstUnsigned)
      return b.create<arith::FPToUIOp>(loc, to, v);
    return b.create<arith::FPToSIOp>(loc, to, v);
  }
  unsigned fromWidth = from.getIntOrFloatBitWidth();
  unsigned toWidth = to.getIntOrFloatBitWidth();
  if (fromWidth > toWidth)
    return b.create<arith::TruncIOp>(loc, to, v);
  if (srcUnsigned)
    return b.create<arith::ExtUIOp>(loc, to, v);
  return b.create<arith::ExtSIOp>(loc, to, v);
}

//===----------------------------------------------------------------------===//
// Scalar bodies (found by ElementwiseLowering through argument-dependent
// lookup, hence in namespace lathe)
//===----------------------------------------------------------------------===//

static Value scalarOf(AbsOp op, OpBuilder &b, Location loc, ValueRange a) {
  if (isa<FloatType>(a[0].getType()))
    return b.create<math::AbsFOp>(loc, a[0]);
  if (isUnsigned(op.getInput()))
    return a[0];
  return b.create<math::AbsIOp>(loc, a[0]);
}

static Value scalarOf(NegOp, OpBuilder &b, Location loc, ValueRange a) {
  if (isa<FloatType>(a[0].getType()))
    return b.create<arith::NegFOp>(loc, a[0]);
  return b.create<arith::SubIOp>(loc, intConst(b, loc, a[0].getType(), 0),
                                 a[0]);
}

static Value scalarOf(SignOp op, OpBuilder &b, Location loc, ValueRange a) {
  Value x = a[0];
  Type t = x.getType();
  if (isa<FloatType>(t)) {
    // Zero and NaN fall through to x itself.
    Value pos = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, x,
                                        floatConst(b, loc, t, 0.0));
    Value neg = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, x,
                                        floatConst(b, loc, t, 0.0));
    Value inner = b.create<arith::SelectOp>(
        loc, neg, floatConst(b, loc, t, -1.0), x);
    return b.create<arith::SelectOp>(loc, pos, floatConst(b, loc, t, 1.0),
                                     inner);
  }
  Value zero = intConst(b, loc, t, 0);
  Value nonZero =
      b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, x, zero);
  Value one = b.create<arith::ExtUIOp>(loc, t, nonZero);
  if (isUnsigned(op.getInput()))
    return one;
  Value neg = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, x, zero);
  return b.create<arith::SelectOp>(loc, neg, intConst(b, loc, t, -1), one);
}

static Value scalarOf(ReciprocalOp, OpBuilder &b, Location loc, ValueRange a) {
  return b.create<arith::DivFOp>(
      loc, floatConst(b, loc, a[0].getType(), 1.0), a[0]);
}

// Ops that are one math op of their operand.
#define LATHE_MATH_SCALAR(OP, MATH)                                            \
  static Value scalarOf(OP, OpBuilder &b, Location loc, ValueRange a) {        \
    return b.create<MATH>(loc, a[0]);                                          \
  }
LATHE_MATH_SCALAR(ExpOp, math::ExpOp)
LATHE_MATH_SCALAR(LogOp, math::LogOp)
LATHE_MATH_SCALAR(SqrtOp, math::SqrtOp)
LATHE_MATH_SCALAR(FloorOp, math::FloorOp)
LATHE_MATH_SCALAR(CeilOp, math::CeilOp)
LATHE_MATH_SCALAR(RoundOp, math::RoundEvenOp)
LATHE_MATH_SCALAR(ErfOp, math::ErfOp)
LATHE_MATH_SCALAR(SinOp, math::SinOp)
LATHE_MATH_SCALAR(CosOp, math::CosOp)
LATHE_MATH_SCALAR(TanOp, math::TanOp)
LATHE_MATH_SCALAR(AsinOp, math::AsinOp)
LATHE_MATH_SCALAR(AcosOp, math::AcosOp)
LATHE_MATH_SCALAR(AtanOp, math::AtanOp)
LATHE_MATH_SCALAR(SinhOp, math::SinhOp)
LATHE_MATH_SCALAR(CoshOp, math::CoshOp)
LATHE_MATH_SCALAR(AsinhOp, math::AsinhOp)
LATHE_MATH_SCALAR(AcoshOp, math::AcoshOp)
LATHE_MATH_SCALAR(AtanhOp, math::AtanhOp)
#undef LATHE_MATH_SCALAR

static Value scalarOf(IsNaNOp, OpBuilder &b, Location loc, ValueRange a) {
  return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNO, a[0], a[0]);
}

static Value scalarOf(IsInfOp op, OpBuilder &b, Location loc, ValueRange a) {
  Type t = a[0].getType();
  double inf = std::numeric_limits<double>::infinity();
  Value result = b.create<arith::ConstantOp>(loc, b.getBoolAttr(false));
  if (op.getDetectPositive())
    result = b.create<arith::OrIOp>(
        loc, result,
        b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, a[0],
                                floatConst(b, loc, t, inf)));
  if (op.getDetectNegative())
    result = b.create<arith::OrIOp>(
        loc, result,
        b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, a[0],
                                floatConst(b, loc, t, -inf)));
  return result;
}

static Value scalarOf(NotOp, OpBuilder &b, Location loc, ValueRange a) {
  return b.create<arith::XOrIOp>(
      loc, a[0], b.create<arith::ConstantOp>(loc, b.getBoolAttr(true)));
}

static Value scalarOf(CastOp op, OpBuilder &b, Location loc, ValueRange a) {
  Type to = op.getTo();
  return convertScalar(b, loc, a[0], signlessType(to), isUnsigned(op.getInput()),
                       to.isUnsignedInteger());
}

void populateMathLowering(const TypeConverter &converter,
                          RewritePatternSet &patterns) {
  addElementwise<AbsOp, NegOp, SignOp, ReciprocalOp, ExpOp, LogOp, SqrtOp,
                 FloorOp, CeilOp, RoundOp, ErfOp, SinOp, CosOp, TanOp, AsinOp,
                 AcosOp, AtanOp, SinhOp, CoshOp, AsinhOp, AcoshOp, AtanhOp,
                 IsNaNOp, IsInfOp, NotOp, CastOp>(converter, patterns);
}

} // namespace lathe
