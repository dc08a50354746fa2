// Lowering of the pointwise activations (Relu ... Shrink, PRelu): each is an
// elementwise linalg.generic whose body is built here. (Softmax, LogSoftmax
// and Hardmax reduce along an axis: LowerElementwise.cpp.)
#include "ir/LatheOps.h"
#include "passes/ElementwiseLowering.h"

using namespace mlir;

namespace lathe {

static Value fconst(OpBuilder &b, Location loc, Value like, double v) {
  return floatConst(b, loc, like.getType(), v);
}

static Value fconst(OpBuilder &b, Location loc, Value like, APFloat v) {
  return fconst(b, loc, like, v.convertToFloat());
}

/// exp(x) - 1.
static Value expMinusOne(OpBuilder &b, Location loc, Value x) {
  return b.create<arith::SubFOp>(loc, b.create<math::ExpOp>(loc, x),
                                 fconst(b, loc, x, 1.0));
}

/// max(lo, min(hi, x)).
static Value clamp(OpBuilder &b, Location loc, Value x, double lo, double hi) {
  Value upper = b.create<arith::MinimumFOp>(loc, x, fconst(b, loc, x, hi));
  return b.create<arith::MaximumFOp>(loc, upper, fconst(b, loc, x, lo));
}

static Value lessThanZero(OpBuilder &b, Location loc, Value x) {
  return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, x,
                                 fconst(b, loc, x, 0.0));
}

//===----------------------------------------------------------------------===//
// Scalar bodies (found by ElementwiseLowering through argument-dependent
// lookup, hence in namespace lathe)
//===----------------------------------------------------------------------===//

static Value scalarOf(ReluOp, OpBuilder &b, Location loc, ValueRange a) {
  return b.create<arith::MaximumFOp>(loc, a[0], fconst(b, loc, a[0], 0.0));
}

static Value scalarOf(SigmoidOp, OpBuilder &b, Location loc, ValueRange a) {
  Value one = fconst(b, loc, a[0], 1.0);
  Value e = b.create<math::ExpOp>(loc, b.create<arith::NegFOp>(loc, a[0]));
  return b.create<arith::DivFOp>(loc, one,
                                 b.create<arith::AddFOp>(loc, one, e));
}

static Value scalarOf(TanhOp, OpBuilder &b, Location loc, ValueRange a) {
  return b.create<math::TanhOp>(loc, a[0]);
}

static Value scalarOf(LeakyReluOp op, OpBuilder &b, Location loc,
                      ValueRange a) {
  Value x = a[0];
  Value scaled =
      b.create<arith::MulFOp>(loc, fconst(b, loc, x, op.getAlpha()), x);
  return b.create<arith::SelectOp>(loc, lessThanZero(b, loc, x), scaled, x);
}

static Value scalarOf(EluOp op, OpBuilder &b, Location loc, ValueRange a) {
  Value x = a[0];
  Value neg = b.create<arith::MulFOp>(loc, fconst(b, loc, x, op.getAlpha()),
                                      expMinusOne(b, loc, x));
  return b.create<arith::SelectOp>(loc, lessThanZero(b, loc, x), neg, x);
}

static Value scalarOf(SeluOp op, OpBuilder &b, Location loc, ValueRange a) {
  Value x = a[0];
  Value gamma = fconst(b, loc, x, op.getGamma());
  Value neg = b.create<arith::MulFOp>(loc, fconst(b, loc, x, op.getAlpha()),
                                      expMinusOne(b, loc, x));
  Value positive = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, x,
                                           fconst(b, loc, x, 0.0));
  Value inner = b.create<arith::SelectOp>(loc, positive, x, neg);
  return b.create<arith::MulFOp>(loc, gamma, inner);
}

static Value scalarOf(CeluOp op, OpBuilder &b, Location loc, ValueRange a) {
  Value x = a[0];
  Value alpha = fconst(b, loc, x, op.getAlpha());
  Value zero = fconst(b, loc, x, 0.0);
  Value neg = b.create<arith::MulFOp>(
      loc, alpha,
      expMinusOne(b, loc, b.create<arith::DivFOp>(loc, x, alpha)));
  return b.create<arith::AddFOp>(loc,
                                 b.create<arith::MaximumFOp>(loc, x, zero),
                                 b.create<arith::MinimumFOp>(loc, neg, zero));
}

static Value scalarOf(HardSigmoidOp op, OpBuilder &b, Location loc,
                      ValueRange a) {
  Value x = a[0];
  Value lin = b.create<arith::AddFOp>(
      loc, b.create<arith::MulFOp>(loc, fconst(b, loc, x, op.getAlpha()), x),
      fconst(b, loc, x, op.getBeta()));
  return clamp(b, loc, lin, 0.0, 1.0);
}

static Value scalarOf(HardSwishOp, OpBuilder &b, Location loc, ValueRange a) {
  Value x = a[0];
  // ONNX defines HardSwish as x * HardSigmoid(x) with alpha 1/6, beta 1/2.
  Value lin = b.create<arith::AddFOp>(
      loc, b.create<arith::MulFOp>(loc, fconst(b, loc, x, 1.0f / 6.0f), x),
      fconst(b, loc, x, 0.5));
  return b.create<arith::MulFOp>(loc, x, clamp(b, loc, lin, 0.0, 1.0));
}

static Value scalarOf(SoftplusOp, OpBuilder &b, Location loc, ValueRange a) {
  // ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|): no overflow for large x.
  Value x = a[0];
  Value negAbs =
      b.create<arith::NegFOp>(loc, b.create<math::AbsFOp>(loc, x));
  Value tail =
      b.create<math::Log1pOp>(loc, b.create<math::ExpOp>(loc, negAbs));
  return b.create<arith::AddFOp>(
      loc, b.create<arith::MaximumFOp>(loc, x, fconst(b, loc, x, 0.0)), tail);
}

static Value scalarOf(SoftsignOp, OpBuilder &b, Location loc, ValueRange a) {
  Value x = a[0];
  Value denom = b.create<arith::AddFOp>(loc, fconst(b, loc, x, 1.0),
                                        b.create<math::AbsFOp>(loc, x));
  return b.create<arith::DivFOp>(loc, x, denom);
}

static Value scalarOf(ThresholdedReluOp op, OpBuilder &b, Location loc,
                      ValueRange a) {
  Value x = a[0];
  Value above = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, x,
                                        fconst(b, loc, x, op.getAlpha()));
  return b.create<arith::SelectOp>(loc, above, x, fconst(b, loc, x, 0.0));
}

static Value scalarOf(ShrinkOp op, OpBuilder &b, Location loc, ValueRange a) {
  Type t = a[0].getType();
  bool uns = isUnsigned(op.getInput());
  // Integers: computed in f64 and truncated back, as ONNX's reference.
  Value x = isa<FloatType>(t)
                ? a[0]
                : convertScalar(b, loc, a[0], b.getF64Type(), uns, false);
  double lambd = op.getLambd().convertToFloat();
  Value bias = fconst(b, loc, x, op.getBias());
  Value below = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, x,
                                        fconst(b, loc, x, -lambd));
  Value above = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, x,
                                        fconst(b, loc, x, lambd));
  Value y = b.create<arith::SelectOp>(
      loc, above, b.create<arith::SubFOp>(loc, x, bias), fconst(b, loc, x, 0.0));
  y = b.create<arith::SelectOp>(loc, below, b.create<arith::AddFOp>(loc, x, bias),
                                y);
  return convertScalar(b, loc, y, t, false, uns);
}

static Value scalarOf(PReluOp op, OpBuilder &b, Location loc, ValueRange a) {
  Value x = a[0], slope = a[1];
  Type t = x.getType();
  if (isa<FloatType>(t))
    return b.create<arith::SelectOp>(loc, lessThanZero(b, loc, x),
                                     b.create<arith::MulFOp>(loc, slope, x), x);
  if (isUnsigned(op.getInput()))
    return x;
  Value negative = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, x,
                                           intConst(b, loc, t, 0));
  return b.create<arith::SelectOp>(loc, negative,
                                   b.create<arith::MulIOp>(loc, slope, x), x);
}

void populateActivationLowering(const TypeConverter &converter,
                                RewritePatternSet &patterns) {
  addElementwise<ReluOp, SigmoidOp, TanhOp, LeakyReluOp, EluOp, SeluOp, CeluOp,
                 HardSigmoidOp, HardSwishOp, SoftplusOp, SoftsignOp,
                 ThresholdedReluOp, ShrinkOp, PReluOp>(converter, patterns);
}

} // namespace lathe
