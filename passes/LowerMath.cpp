// Lowering of unary math (Abs ... Atanh), the float predicates (IsNaN,
// IsInf), Not, and Cast. Each becomes an elementwise linalg.generic over
// arith/math ops; transcendental math ops are approximated by polynomials
// later (lathe-approximate-math) or become libm calls.
#include "ir/LatheOps.h"
#include "passes/ElementwiseLowering.h"

#include <cmath>

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
LATHE_MATH_SCALAR(TanOp, math::TanOp)
LATHE_MATH_SCALAR(AcosOp, math::AcosOp)
LATHE_MATH_SCALAR(AtanOp, math::AtanOp)
LATHE_MATH_SCALAR(SinhOp, math::SinhOp)
LATHE_MATH_SCALAR(CoshOp, math::CoshOp)
LATHE_MATH_SCALAR(AsinhOp, math::AsinhOp)
LATHE_MATH_SCALAR(AcoshOp, math::AcoshOp)
LATHE_MATH_SCALAR(AtanhOp, math::AtanhOp)
#undef LATHE_MATH_SCALAR

/// sin or cos of x. f32 arguments are reduced in f64 to r in [-pi/4, pi/4]
/// with x = r + q * pi/2: the polynomial approximation (lathe-approximate-
/// math) reduces in f32 only, which costs the result its relative accuracy
/// near the zeros of large arguments (sin(34.5563) was 2e-3 off).
static Value sinOrCos(OpBuilder &b, Location loc, Value x, bool isCos) {
  auto build = [&](Value v, bool cosine) -> Value {
    if (cosine)
      return b.create<math::CosOp>(loc, v);
    return b.create<math::SinOp>(loc, v);
  };
  if (!x.getType().isF32())
    return build(x, isCos);
  Type f64 = b.getF64Type();
  auto c = [&](double v) { return floatConst(b, loc, f64, v); };
  Value wide = b.create<arith::ExtFOp>(loc, f64, x);
  Value q = b.create<math::RoundEvenOp>(
      loc, b.create<arith::MulFOp>(loc, wide, c(2.0 / M_PI)));
  // pi/2 in two parts: r = x - q*hi - q*lo stays exact for |q| < 2^29.
  Value r = b.create<math::FmaOp>(loc, b.create<arith::NegFOp>(loc, q),
                                  c(1.5707963267948966), wide);
  r = b.create<math::FmaOp>(loc, b.create<arith::NegFOp>(loc, q),
                            c(6.123233995736766e-17), r);
  Value narrow = b.create<arith::TruncFOp>(loc, x.getType(), r);
  Value s = build(narrow, false), co = build(narrow, true);
  // Quadrant q mod 4, compared as floats so that NaN and inf select quadrant
  // 0 (whose value is NaN) instead of converting to an integer.
  Value quarter = b.create<math::FloorOp>(
      loc, b.create<arith::MulFOp>(loc, q, c(0.25)));
  Value m = b.create<arith::SubFOp>(
      loc, q, b.create<arith::MulFOp>(loc, quarter, c(4.0)));
  auto is = [&](double k) {
    return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, m, c(k));
  };
  Value negS = b.create<arith::NegFOp>(loc, s);
  Value negC = b.create<arith::NegFOp>(loc, co);
  // sin: s, c, -s, -c; cos: c, -s, -c, s for quadrants 0..3.
  Value v0 = isCos ? co : s, v1 = isCos ? negS : co, v2 = isCos ? negC : negS,
        v3 = isCos ? s : negC;
  Value y = b.create<arith::SelectOp>(loc, is(3.0), v3, v0);
  y = b.create<arith::SelectOp>(loc, is(2.0), v2, y);
  return b.create<arith::SelectOp>(loc, is(1.0), v1, y);
}

static Value scalarOf(SinOp, OpBuilder &b, Location loc, ValueRange a) {
  return sinOrCos(b, loc, a[0], false);
}

static Value scalarOf(CosOp, OpBuilder &b, Location loc, ValueRange a) {
  return sinOrCos(b, loc, a[0], true);
}

/// asin(x) = atan2(x, sqrt((1 - x)(1 + x))) below f64: the polynomial
/// approximation of math.asin is 3e-3 off near |x| = 1. f64 stays libm's.
static Value scalarOf(AsinOp, OpBuilder &b, Location loc, ValueRange a) {
  Value x = a[0];
  if (x.getType().isF64())
    return b.create<math::AsinOp>(loc, x);
  Value one = floatConst(b, loc, x.getType(), 1.0);
  Value cosine = b.create<math::SqrtOp>(
      loc, b.create<arith::MulFOp>(loc, b.create<arith::SubFOp>(loc, one, x),
                                   b.create<arith::AddFOp>(loc, one, x)));
  return b.create<math::Atan2Op>(loc, x, cosine);
}

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
