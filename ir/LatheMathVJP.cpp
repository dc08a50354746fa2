// Vector-Jacobian products of the trigonometric and hyperbolic functions,
// Celu, HardSwish, ThresholdedRelu, Shrink, PRelu and Mod
// (DifferentiableOpInterface, ir/LatheAutodiff.td). Derivatives are
// written with the forward result where that saves work (tan' = 1 + y^2).
// At the kinks of the piecewise activations the left piece's derivative is
// used, as in ir/LatheActivationVJP.cpp; where PyTorch picks otherwise the
// comment says so.
#include "ir/VJPUtils.h"

using namespace mlir;

namespace lathe {

using vjp::isFloatTensor;
using vjp::scalar;
using vjp::typeOf;

static Value constantLike(OpBuilder &b, Location loc, Value like, double v) {
  return scalar(b, loc, typeOf(like).getElementType(), v);
}

/// 1 - x^2 or x^2 + sign: the radicands and denominators of the inverse
/// functions.
static Value oneMinusSquare(OpBuilder &b, Location loc, Value x) {
  return b.create<SubOp>(loc, constantLike(b, loc, x, 1.0),
                         b.create<MulOp>(loc, x, x));
}
static Value squarePlus(OpBuilder &b, Location loc, Value x, double c) {
  return b.create<AddOp>(loc, b.create<MulOp>(loc, x, x),
                         constantLike(b, loc, x, c));
}

LogicalResult TanOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  // tan' = 1 + tan^2.
  if (Value g = vjp::start(*this, resultGrads, operandGrads))
    operandGrads[0] =
        b.create<MulOp>(getLoc(), g, squarePlus(b, getLoc(), getOutput(), 1.0));
  return success();
}

LogicalResult AsinOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  // asin' = 1 / sqrt(1 - x^2).
  if (Value g = vjp::start(*this, resultGrads, operandGrads)) {
    Location loc = getLoc();
    operandGrads[0] = b.create<DivOp>(
        loc, g, b.create<SqrtOp>(loc, oneMinusSquare(b, loc, getInput())));
  }
  return success();
}

LogicalResult AcosOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  // acos' = -1 / sqrt(1 - x^2).
  if (Value g = vjp::start(*this, resultGrads, operandGrads)) {
    Location loc = getLoc();
    operandGrads[0] = b.create<NegOp>(
        loc,
        b.create<DivOp>(
            loc, g, b.create<SqrtOp>(loc, oneMinusSquare(b, loc, getInput()))));
  }
  return success();
}

LogicalResult AtanOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  // atan' = 1 / (1 + x^2).
  if (Value g = vjp::start(*this, resultGrads, operandGrads))
    operandGrads[0] =
        b.create<DivOp>(getLoc(), g, squarePlus(b, getLoc(), getInput(), 1.0));
  return success();
}

LogicalResult SinhOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  if (Value g = vjp::start(*this, resultGrads, operandGrads))
    operandGrads[0] =
        b.create<MulOp>(getLoc(), g, b.create<CoshOp>(getLoc(), getInput()));
  return success();
}

LogicalResult CoshOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  if (Value g = vjp::start(*this, resultGrads, operandGrads))
    operandGrads[0] =
        b.create<MulOp>(getLoc(), g, b.create<SinhOp>(getLoc(), getInput()));
  return success();
}

LogicalResult AsinhOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                SmallVectorImpl<Value> &operandGrads) {
  // asinh' = 1 / sqrt(x^2 + 1).
  if (Value g = vjp::start(*this, resultGrads, operandGrads)) {
    Location loc = getLoc();
    operandGrads[0] = b.create<DivOp>(
        loc, g, b.create<SqrtOp>(loc, squarePlus(b, loc, getInput(), 1.0)));
  }
  return success();
}

LogicalResult AcoshOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                SmallVectorImpl<Value> &operandGrads) {
  // acosh' = 1 / sqrt(x^2 - 1), x > 1.
  if (Value g = vjp::start(*this, resultGrads, operandGrads)) {
    Location loc = getLoc();
    operandGrads[0] = b.create<DivOp>(
        loc, g, b.create<SqrtOp>(loc, squarePlus(b, loc, getInput(), -1.0)));
  }
  return success();
}

LogicalResult AtanhOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                SmallVectorImpl<Value> &operandGrads) {
  // atanh' = 1 / (1 - x^2).
  if (Value g = vjp::start(*this, resultGrads, operandGrads))
    operandGrads[0] =
        b.create<DivOp>(getLoc(), g, oneMinusSquare(b, getLoc(), getInput()));
  return success();
}

//===----------------------------------------------------------------------===//
// Piecewise activations
//===----------------------------------------------------------------------===//

LogicalResult CeluOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  // x > 0: 1; else exp(x / alpha).
  if (Value g = vjp::start(*this, resultGrads, operandGrads)) {
    Location loc = getLoc();
    Value x = getInput();
    double alpha = getAlphaAttr().getValueAsDouble();
    Value left = b.create<MulOp>(
        loc, g,
        b.create<ExpOp>(
            loc, b.create<DivOp>(loc, x, constantLike(b, loc, x, alpha))));
    Value positive = b.create<GreaterOp>(loc, x, constantLike(b, loc, x, 0.0));
    operandGrads[0] = b.create<WhereOp>(loc, positive, g, left);
  }
  return success();
}

LogicalResult HardSwishOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  // y = x * clamp(x / 6 + 1/2, 0, 1): 0 below -3, 1 above 3, x / 3 + 1/2
  // between (PyTorch's hardswish_backward, which also takes the middle
  // piece at both ends).
  if (Value g = vjp::start(*this, resultGrads, operandGrads)) {
    Location loc = getLoc();
    Value x = getInput();
    Value middle = b.create<AddOp>(
        loc, b.create<DivOp>(loc, x, constantLike(b, loc, x, 3.0)),
        constantLike(b, loc, x, 0.5));
    Value slope = b.create<WhereOp>(
        loc, b.create<GreaterOp>(loc, x, constantLike(b, loc, x, 3.0)),
        constantLike(b, loc, x, 1.0), middle);
    slope = b.create<WhereOp>(
        loc, b.create<LessOp>(loc, x, constantLike(b, loc, x, -3.0)),
        constantLike(b, loc, x, 0.0), slope);
    operandGrads[0] = b.create<MulOp>(loc, g, slope);
  }
  return success();
}

LogicalResult
ThresholdedReluOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                            SmallVectorImpl<Value> &operandGrads) {
  if (Value g = vjp::start(*this, resultGrads, operandGrads)) {
    Location loc = getLoc();
    Value x = getInput();
    Value above = b.create<GreaterOp>(
        loc, x, constantLike(b, loc, x, getAlphaAttr().getValueAsDouble()));
    operandGrads[0] =
        b.create<WhereOp>(loc, above, g, constantLike(b, loc, x, 0.0));
  }
  return success();
}

LogicalResult ShrinkOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                 SmallVectorImpl<Value> &operandGrads) {
  // 1 outside [-lambd, lambd] (both pieces are x -/+ bias), 0 inside.
  // Integer Shrink has an integer result: no gradient.
  if (Value g = vjp::start(*this, resultGrads, operandGrads)) {
    Location loc = getLoc();
    Value x = getInput();
    double lambd = getLambdAttr().getValueAsDouble();
    Value outside = b.create<OrOp>(
        loc, b.create<LessOp>(loc, x, constantLike(b, loc, x, -lambd)),
        b.create<GreaterOp>(loc, x, constantLike(b, loc, x, lambd)));
    operandGrads[0] =
        b.create<WhereOp>(loc, outside, g, constantLike(b, loc, x, 0.0));
  }
  return success();
}

LogicalResult PReluOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                SmallVectorImpl<Value> &operandGrads) {
  // y = x > 0 ? x : slope * x (the left piece at 0, as PyTorch's prelu):
  // dx = g or g * slope; dslope = g * x where x <= 0, summed back over the
  // dims the slope was broadcast along.
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  Value x = getInput(), slope = getSlope();
  Value zero = constantLike(b, loc, x, 0.0);
  Value positive = b.create<GreaterOp>(loc, x, zero);
  operandGrads[0] =
      b.create<WhereOp>(loc, positive, g, b.create<MulOp>(loc, g, slope));
  Value ds = b.create<WhereOp>(loc, positive, zero, b.create<MulOp>(loc, g, x));
  operandGrads[1] = vjp::unbroadcast(b, loc, ds, typeOf(slope));
  return success();
}

LogicalResult ModOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  // Float Mod is fmod: a - trunc(a / b) * b, so d/da = 1 and
  // d/db = -trunc(a / b) (the quotient is piecewise constant). Integer Mod
  // has an integer result: no gradient.
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  if (!getFmod())
    return emitError("no gradient for lathe.mod without fmod (floored "
                     "modulo of floats)");
  Value a = getLhs(), d = getRhs();
  Value q = b.create<DivOp>(loc, a, d);
  Value truncated = b.create<WhereOp>(
      loc, b.create<LessOp>(loc, q, constantLike(b, loc, q, 0.0)),
      b.create<CeilOp>(loc, q), b.create<FloorOp>(loc, q));
  if (isFloatTensor(a))
    operandGrads[0] = vjp::unbroadcast(b, loc, g, typeOf(a));
  if (isFloatTensor(d))
    operandGrads[1] = vjp::unbroadcast(
        b, loc, b.create<NegOp>(loc, b.create<MulOp>(loc, g, truncated)),
        typeOf(d));
  return success();
}

} // namespace lathe
