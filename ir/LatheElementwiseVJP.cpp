// Vector-Jacobian products of the elementwise arithmetic ops, Where, Cast and
// the unary math functions (DifferentiableOpInterface, ir/LatheAutodiff.td).
// Operands that broadcast get their gradient summed back to their own shape
// (vjp::unbroadcast). Integer and bool operands get no gradient.
#include "ir/VJPUtils.h"

#include <cmath>

using namespace mlir;

namespace lathe {

using vjp::isFloatTensor;
using vjp::scalar;
using vjp::typeOf;
using vjp::unbroadcast;

/// Sets the gradient of operand `i` from `grad` of the result's shape when
/// that operand is a float tensor.
static void setBroadcastGrad(OpBuilder &b, Location loc, Operation *op,
                             unsigned i, Value grad,
                             SmallVectorImpl<Value> &operandGrads) {
  Value operand = op->getOperand(i);
  if (isFloatTensor(operand))
    operandGrads[i] = unbroadcast(b, loc, grad, typeOf(operand));
}

//===----------------------------------------------------------------------===//
// Binary arithmetic
//===----------------------------------------------------------------------===//

LogicalResult AddOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  setBroadcastGrad(b, getLoc(), *this, 0, g, operandGrads);
  setBroadcastGrad(b, getLoc(), *this, 1, g, operandGrads);
  return success();
}

LogicalResult SubOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  setBroadcastGrad(b, loc, *this, 0, g, operandGrads);
  setBroadcastGrad(b, loc, *this, 1, b.create<NegOp>(loc, g), operandGrads);
  return success();
}

LogicalResult MulOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  setBroadcastGrad(b, loc, *this, 0, b.create<MulOp>(loc, g, getRhs()),
                   operandGrads);
  setBroadcastGrad(b, loc, *this, 1, b.create<MulOp>(loc, g, getLhs()),
                   operandGrads);
  return success();
}

LogicalResult DivOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  // d(a/b)/da = 1/b; d(a/b)/db = -a/b^2 = -y/b (y is already computed).
  setBroadcastGrad(b, loc, *this, 0, b.create<DivOp>(loc, g, getRhs()),
                   operandGrads);
  Value gy = b.create<MulOp>(loc, g, getOutput());
  setBroadcastGrad(b, loc, *this, 1,
                   b.create<NegOp>(loc, b.create<DivOp>(loc, gy, getRhs())),
                   operandGrads);
  return success();
}

/// Max and Min: the gradient goes to the operand that equals the result. On a
/// tie it is split evenly between both operands, ONNX Runtime's convention
/// (its Min/Max gradient divides dY by the number of inputs equal to Y) and
/// PyTorch's for maximum/minimum. Where the result is NaN no operand
/// equals it and the gradient is NaN (0/0).
static LogicalResult buildMinMaxVJP(OpBuilder &b, Operation *op,
                                    ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  Value g = vjp::start(op, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = op->getLoc();
  Value y = op->getResult(0);
  Type elementType = typeOf(y).getElementType();
  Value isA = vjp::maskToFloat(
      b, loc, b.create<EqualOp>(loc, op->getOperand(0), y), elementType);
  Value isB = vjp::maskToFloat(
      b, loc, b.create<EqualOp>(loc, op->getOperand(1), y), elementType);
  Value share = b.create<DivOp>(loc, g, b.create<AddOp>(loc, isA, isB));
  setBroadcastGrad(b, loc, op, 0, b.create<MulOp>(loc, share, isA),
                   operandGrads);
  setBroadcastGrad(b, loc, op, 1, b.create<MulOp>(loc, share, isB),
                   operandGrads);
  return success();
}

LogicalResult MaxOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  return buildMinMaxVJP(b, *this, resultGrads, operandGrads);
}

LogicalResult MinOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  return buildMinMaxVJP(b, *this, resultGrads, operandGrads);
}

LogicalResult PowOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  Value x = getLhs(), y = getOutput();
  Type elementType = typeOf(x).getElementType();
  // The exponent may have another element type (Pow-12+): compute in the
  // base's type, as the op does.
  Value e = getRhs();
  if (typeOf(e).getElementType() != elementType)
    e = b.create<CastOp>(loc, e, TypeAttr::get(elementType));
  // d(x^e)/dx = e * x^(e-1).
  Value eMinus1 = b.create<SubOp>(loc, e, scalar(b, loc, elementType, 1.0));
  Value dx = b.create<MulOp>(loc, e, b.create<PowOp>(loc, x, eMinus1));
  setBroadcastGrad(b, loc, *this, 0, b.create<MulOp>(loc, g, dx), operandGrads);
  if (!isFloatTensor(getRhs()))
    return success();
  // d(x^e)/de = x^e * ln(x); taken as 0 where x = 0 and e >= 0 (the limit
  // PyTorch uses too), where ln(0) = -inf would give 0 * -inf = NaN.
  Value zero = scalar(b, loc, elementType, 0.0);
  Value de =
      b.create<MulOp>(loc, b.create<MulOp>(loc, g, y), b.create<LogOp>(loc, x));
  Value limit = b.create<AndOp>(loc, b.create<EqualOp>(loc, x, zero),
                                b.create<GreaterOrEqualOp>(loc, e, zero));
  de = b.create<WhereOp>(loc, limit, zero, de);
  Type exponentType = typeOf(getRhs()).getElementType();
  if (exponentType != elementType)
    de = b.create<CastOp>(loc, de, TypeAttr::get(exponentType));
  setBroadcastGrad(b, loc, *this, 1, de, operandGrads);
  return success();
}

//===----------------------------------------------------------------------===//
// Where and Cast
//===----------------------------------------------------------------------===//

LogicalResult WhereOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                SmallVectorImpl<Value> &operandGrads) {
  // The condition is bool: it never gets a gradient.
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  Value zero = scalar(b, loc, typeOf(g).getElementType(), 0.0);
  setBroadcastGrad(b, loc, *this, 1,
                   b.create<WhereOp>(loc, getCondition(), g, zero),
                   operandGrads);
  setBroadcastGrad(b, loc, *this, 2,
                   b.create<WhereOp>(loc, getCondition(), zero, g),
                   operandGrads);
  return success();
}

LogicalResult CastOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  // Only float-to-float casts pass a gradient: a cast from an integer has
  // an integer input, one to an integer is piecewise constant.
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g || !isFloatTensor(getInput()))
    return success();
  Type from = typeOf(getInput()).getElementType();
  operandGrads[0] =
      from == typeOf(g).getElementType()
          ? g
          : b.create<CastOp>(getLoc(), g, TypeAttr::get(from)).getResult();
  return success();
}

//===----------------------------------------------------------------------===//
// Unary math
//===----------------------------------------------------------------------===//

LogicalResult NegOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  if (Value g = vjp::start(*this, resultGrads, operandGrads))
    operandGrads[0] = b.create<NegOp>(getLoc(), g);
  return success();
}

LogicalResult AbsOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  // sign(0) = 0: the subgradient at the kink is 0, as in PyTorch.
  if (Value g = vjp::start(*this, resultGrads, operandGrads))
    operandGrads[0] =
        b.create<MulOp>(getLoc(), g, b.create<SignOp>(getLoc(), getInput()));
  return success();
}

LogicalResult ExpOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  if (Value g = vjp::start(*this, resultGrads, operandGrads))
    operandGrads[0] = b.create<MulOp>(getLoc(), g, getOutput());
  return success();
}

LogicalResult LogOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  if (Value g = vjp::start(*this, resultGrads, operandGrads))
    operandGrads[0] = b.create<DivOp>(getLoc(), g, getInput());
  return success();
}

LogicalResult SqrtOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  // d sqrt(x) = 1 / (2 sqrt(x)) = 0.5 / y.
  if (Value g = vjp::start(*this, resultGrads, operandGrads)) {
    Location loc = getLoc();
    Value half = scalar(b, loc, typeOf(g).getElementType(), 0.5);
    operandGrads[0] =
        b.create<DivOp>(loc, b.create<MulOp>(loc, g, half), getOutput());
  }
  return success();
}

LogicalResult ReciprocalOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                     SmallVectorImpl<Value> &operandGrads) {
  // d(1/x) = -1/x^2 = -y^2.
  if (Value g = vjp::start(*this, resultGrads, operandGrads)) {
    Location loc = getLoc();
    Value y = getOutput();
    operandGrads[0] = b.create<NegOp>(
        loc, b.create<MulOp>(loc, g, b.create<MulOp>(loc, y, y)));
  }
  return success();
}

LogicalResult ErfOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  // d erf(x) = 2 / sqrt(pi) * exp(-x^2).
  if (Value g = vjp::start(*this, resultGrads, operandGrads)) {
    Location loc = getLoc();
    Value x = getInput();
    Value factor =
        scalar(b, loc, typeOf(g).getElementType(), 2.0 / std::sqrt(M_PI));
    Value gauss =
        b.create<ExpOp>(loc, b.create<NegOp>(loc, b.create<MulOp>(loc, x, x)));
    operandGrads[0] =
        b.create<MulOp>(loc, g, b.create<MulOp>(loc, gauss, factor));
  }
  return success();
}

LogicalResult SinOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  if (Value g = vjp::start(*this, resultGrads, operandGrads))
    operandGrads[0] =
        b.create<MulOp>(getLoc(), g, b.create<CosOp>(getLoc(), getInput()));
  return success();
}

LogicalResult CosOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  if (Value g = vjp::start(*this, resultGrads, operandGrads)) {
    Location loc = getLoc();
    operandGrads[0] = b.create<NegOp>(
        loc, b.create<MulOp>(loc, g, b.create<SinOp>(loc, getInput())));
  }
  return success();
}

/// Floor, Ceil, Round and Sign are piecewise constant: their derivative is 0
/// almost everywhere (as in PyTorch), so no gradient flows through them.
static LogicalResult zeroVJP(Operation *op, ArrayRef<Value> resultGrads,
                             SmallVectorImpl<Value> &operandGrads) {
  vjp::start(op, resultGrads, operandGrads);
  return success();
}

LogicalResult FloorOp::buildVJP(OpBuilder &, ArrayRef<Value> resultGrads,
                                SmallVectorImpl<Value> &operandGrads) {
  return zeroVJP(*this, resultGrads, operandGrads);
}

LogicalResult CeilOp::buildVJP(OpBuilder &, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  return zeroVJP(*this, resultGrads, operandGrads);
}

LogicalResult RoundOp::buildVJP(OpBuilder &, ArrayRef<Value> resultGrads,
                                SmallVectorImpl<Value> &operandGrads) {
  return zeroVJP(*this, resultGrads, operandGrads);
}

LogicalResult SignOp::buildVJP(OpBuilder &, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  return zeroVJP(*this, resultGrads, operandGrads);
}

} // namespace lathe
