// Vector-Jacobian products of the activations, Softmax and LogSoftmax
// (DifferentiableOpInterface, ir/LatheAutodiff.td). At a kink (Relu,
// LeakyRelu, Elu at 0) the derivative of the left piece is used, as ONNX
// Runtime's ReluGrad/LeakyReluGrad/EluGrad and PyTorch do.
#include "ir/VJPUtils.h"

using namespace mlir;

namespace lathe {

using vjp::scalar;
using vjp::typeOf;

/// x > 0 as a bool tensor of x's shape.
static Value positive(OpBuilder &b, Location loc, Value x) {
  return b.create<GreaterOp>(loc, x,
                             scalar(b, loc, typeOf(x).getElementType(), 0.0));
}

LogicalResult ReluOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  // Integer Relu (Relu-14) has an integer result: no gradient.
  if (Value g = vjp::start(*this, resultGrads, operandGrads)) {
    Location loc = getLoc();
    Value zero = scalar(b, loc, typeOf(g).getElementType(), 0.0);
    operandGrads[0] =
        b.create<WhereOp>(loc, positive(b, loc, getOutput()), g, zero);
  }
  return success();
}

LogicalResult SigmoidOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                  SmallVectorImpl<Value> &operandGrads) {
  // y' = y (1 - y).
  if (Value g = vjp::start(*this, resultGrads, operandGrads)) {
    Location loc = getLoc();
    Value y = getOutput();
    Value one = scalar(b, loc, typeOf(g).getElementType(), 1.0);
    Value dy = b.create<MulOp>(loc, y, b.create<SubOp>(loc, one, y));
    operandGrads[0] = b.create<MulOp>(loc, g, dy);
  }
  return success();
}

LogicalResult TanhOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  // y' = 1 - y^2.
  if (Value g = vjp::start(*this, resultGrads, operandGrads)) {
    Location loc = getLoc();
    Value y = getOutput();
    Value one = scalar(b, loc, typeOf(g).getElementType(), 1.0);
    Value dy = b.create<SubOp>(loc, one, b.create<MulOp>(loc, y, y));
    operandGrads[0] = b.create<MulOp>(loc, g, dy);
  }
  return success();
}

LogicalResult LeakyReluOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  if (Value g = vjp::start(*this, resultGrads, operandGrads)) {
    Location loc = getLoc();
    Value alpha = scalar(b, loc, typeOf(g).getElementType(),
                         getAlphaAttr().getValueAsDouble());
    operandGrads[0] = b.create<WhereOp>(loc, positive(b, loc, getInput()), g,
                                        b.create<MulOp>(loc, g, alpha));
  }
  return success();
}

LogicalResult EluOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  // For x <= 0, y = alpha (e^x - 1), so y' = alpha e^x = y + alpha.
  if (Value g = vjp::start(*this, resultGrads, operandGrads)) {
    Location loc = getLoc();
    Value alpha = scalar(b, loc, typeOf(g).getElementType(),
                         getAlphaAttr().getValueAsDouble());
    Value left =
        b.create<MulOp>(loc, g, b.create<AddOp>(loc, getOutput(), alpha));
    operandGrads[0] =
        b.create<WhereOp>(loc, positive(b, loc, getInput()), g, left);
  }
  return success();
}

LogicalResult SoftplusOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  // d ln(1 + e^x) = sigmoid(x).
  if (Value g = vjp::start(*this, resultGrads, operandGrads))
    operandGrads[0] =
        b.create<MulOp>(getLoc(), g, b.create<SigmoidOp>(getLoc(), getInput()));
  return success();
}

LogicalResult SeluOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  // x > 0: y' = gamma; else y = gamma alpha (e^x - 1), y' = y + gamma alpha.
  if (Value g = vjp::start(*this, resultGrads, operandGrads)) {
    Location loc = getLoc();
    Type elementType = typeOf(g).getElementType();
    double alpha = getAlphaAttr().getValueAsDouble();
    double gamma = getGammaAttr().getValueAsDouble();
    Value right = b.create<MulOp>(loc, g, scalar(b, loc, elementType, gamma));
    Value left = b.create<MulOp>(
        loc, g,
        b.create<AddOp>(loc, getOutput(),
                        scalar(b, loc, elementType, gamma * alpha)));
    operandGrads[0] =
        b.create<WhereOp>(loc, positive(b, loc, getInput()), right, left);
  }
  return success();
}

LogicalResult HardSigmoidOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                      SmallVectorImpl<Value> &operandGrads) {
  // alpha inside the linear piece (0 < y < 1), 0 where it saturates.
  if (Value g = vjp::start(*this, resultGrads, operandGrads)) {
    Location loc = getLoc();
    Type elementType = typeOf(g).getElementType();
    Value y = getOutput();
    Value inside = b.create<AndOp>(
        loc, b.create<GreaterOp>(loc, y, scalar(b, loc, elementType, 0.0)),
        b.create<LessOp>(loc, y, scalar(b, loc, elementType, 1.0)));
    Value slope = b.create<MulOp>(
        loc, g, scalar(b, loc, elementType, getAlphaAttr().getValueAsDouble()));
    operandGrads[0] =
        b.create<WhereOp>(loc, inside, slope, scalar(b, loc, elementType, 0.0));
  }
  return success();
}

LogicalResult SoftsignOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  // y' = 1 / (1 + |x|)^2.
  if (Value g = vjp::start(*this, resultGrads, operandGrads)) {
    Location loc = getLoc();
    Value d =
        b.create<AddOp>(loc, scalar(b, loc, typeOf(g).getElementType(), 1.0),
                        b.create<AbsOp>(loc, getInput()));
    operandGrads[0] = b.create<DivOp>(loc, g, b.create<MulOp>(loc, d, d));
  }
  return success();
}

LogicalResult SoftmaxOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                  SmallVectorImpl<Value> &operandGrads) {
  // dx = y * (g - sum(g * y)) along the axis.
  if (Value g = vjp::start(*this, resultGrads, operandGrads)) {
    Location loc = getLoc();
    Value y = getOutput();
    // A 0-d softmax is the constant 1 (log-softmax 0): no gradient.
    if (typeOf(y).getRank() == 0)
      return success();
    int64_t axis = vjp::normaliseAxis(getAxis(), typeOf(y).getRank());
    Value dot = vjp::sumKeepDims(b, loc, b.create<MulOp>(loc, g, y), {axis});
    operandGrads[0] = b.create<MulOp>(loc, y, b.create<SubOp>(loc, g, dot));
  }
  return success();
}

LogicalResult LogSoftmaxOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                     SmallVectorImpl<Value> &operandGrads) {
  // dx = g - softmax(x) * sum(g) along the axis, softmax(x) = exp(y).
  if (Value g = vjp::start(*this, resultGrads, operandGrads)) {
    Location loc = getLoc();
    Value y = getOutput();
    // A 0-d softmax is the constant 1 (log-softmax 0): no gradient.
    if (typeOf(y).getRank() == 0)
      return success();
    int64_t axis = vjp::normaliseAxis(getAxis(), typeOf(y).getRank());
    Value total = vjp::sumKeepDims(b, loc, g, {axis});
    operandGrads[0] = b.create<SubOp>(
        loc, g, b.create<MulOp>(loc, b.create<ExpOp>(loc, y), total));
  }
  return success();
}

} // namespace lathe
