// Vector-Jacobian products of the reductions (DifferentiableOpInterface,
// ir/LatheAutodiff.td): ReduceSum and ReduceMean spread the gradient evenly
// over the elements each output summed; the others scale it by the
// derivative of their scalar functions.
#include "ir/VJPUtils.h"

using namespace mlir;

namespace lathe {

using vjp::typeOf;

/// The gradient of a sum over `axes` of `input`: the output gradient with the
/// reduced dims put back as size 1 (when they were dropped), broadcast over
/// them, and multiplied by `scale`.
static Value spreadOverAxes(OpBuilder &b, Location loc, Value g, Value input,
                            ArrayRef<int64_t> axes, double scale) {
  RankedTensorType inType = typeOf(input);
  SmallVector<int64_t> kept(inType.getShape());
  for (int64_t axis : axes)
    kept[axis] = 1;
  g = vjp::reshape(b, loc, g, kept);
  if (scale != 1.0)
    g = b.create<MulOp>(loc, g,
                        vjp::scalar(b, loc, inType.getElementType(), scale));
  if (kept != inType.getShape())
    g = b.create<ExpandOp>(loc, g, inType.getShape());
  return g;
}

LogicalResult ReduceSumOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  if (Value g = vjp::start(*this, resultGrads, operandGrads))
    operandGrads[0] =
        spreadOverAxes(b, getLoc(), g, getInput(), getAxes(), 1.0);
  return success();
}

LogicalResult ReduceMeanOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                     SmallVectorImpl<Value> &operandGrads) {
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  ArrayRef<int64_t> in = typeOf(getInput()).getShape();
  int64_t count = 1;
  for (int64_t axis : getAxes())
    count *= in[axis];
  // An empty reduction has mean NaN and no element to pass a gradient to.
  operandGrads[0] = spreadOverAxes(b, getLoc(), g, getInput(), getAxes(),
                                   count == 0 ? 1.0 : 1.0 / count);
  return success();
}

LogicalResult
ReduceSumSquareOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                            SmallVectorImpl<Value> &operandGrads) {
  // d sum(x^2) = 2x.
  if (Value g = vjp::start(*this, resultGrads, operandGrads)) {
    Location loc = getLoc();
    Value x = getInput();
    operandGrads[0] =
        b.create<MulOp>(loc, spreadOverAxes(b, loc, g, x, getAxes(), 2.0), x);
  }
  return success();
}

LogicalResult ReduceL2Op::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  // d sqrt(sum(x^2)) = x / y (NaN where y = 0, where it has no derivative).
  if (Value g = vjp::start(*this, resultGrads, operandGrads)) {
    Location loc = getLoc();
    Value x = getInput();
    Value y = spreadOverAxes(b, loc, getOutput(), x, getAxes(), 1.0);
    operandGrads[0] =
        b.create<MulOp>(loc, spreadOverAxes(b, loc, g, x, getAxes(), 1.0),
                        b.create<DivOp>(loc, x, y));
  }
  return success();
}

LogicalResult
ReduceLogSumExpOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                            SmallVectorImpl<Value> &operandGrads) {
  // d log(sum(e^x)) = e^(x - y), the softmax over the reduced elements.
  if (Value g = vjp::start(*this, resultGrads, operandGrads)) {
    Location loc = getLoc();
    Value x = getInput();
    Value y = spreadOverAxes(b, loc, getOutput(), x, getAxes(), 1.0);
    operandGrads[0] =
        b.create<MulOp>(loc, spreadOverAxes(b, loc, g, x, getAxes(), 1.0),
                        b.create<ExpOp>(loc, b.create<SubOp>(loc, x, y)));
  }
  return success();
}

/// ReduceMax and ReduceMin: the gradient goes to the elements equal to the
/// result, split evenly among ties, as PyTorch's amax/amin do (and as
/// lathe.max/lathe.min split it between two tied operands).
static LogicalResult buildExtremumVJP(OpBuilder &b, Operation *op,
                                      ArrayRef<int64_t> axes,
                                      ArrayRef<Value> resultGrads,
                                      SmallVectorImpl<Value> &operandGrads) {
  Value g = vjp::start(op, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = op->getLoc();
  Value x = op->getOperand(0);
  Value y = spreadOverAxes(b, loc, op->getResult(0), x, axes, 1.0);
  Value mask = vjp::maskToFloat(b, loc, b.create<EqualOp>(loc, x, y),
                                typeOf(x).getElementType());
  Value ties = vjp::sumKeepDims(b, loc, mask, axes);
  operandGrads[0] =
      b.create<MulOp>(loc, spreadOverAxes(b, loc, g, x, axes, 1.0),
                      b.create<DivOp>(loc, mask, ties));
  return success();
}

LogicalResult ReduceMaxOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  return buildExtremumVJP(b, *this, getAxes(), resultGrads, operandGrads);
}

LogicalResult ReduceMinOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  return buildExtremumVJP(b, *this, getAxes(), resultGrads, operandGrads);
}

LogicalResult ReduceL1Op::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  // d sum(|x|) = sign(x) (0 at x = 0, as for lathe.abs).
  if (Value g = vjp::start(*this, resultGrads, operandGrads)) {
    Location loc = getLoc();
    Value x = getInput();
    operandGrads[0] =
        b.create<MulOp>(loc, spreadOverAxes(b, loc, g, x, getAxes(), 1.0),
                        b.create<SignOp>(loc, x));
  }
  return success();
}

LogicalResult ReduceLogSumOp::buildVJP(OpBuilder &b,
                                       ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  // d log(sum(x)) = 1 / sum(x); the sum is recomputed rather than taken as
  // exp(y), which would round twice.
  if (Value g = vjp::start(*this, resultGrads, operandGrads)) {
    Location loc = getLoc();
    Value x = getInput();
    Value sum = spreadOverAxes(b, loc, vjp::sumKeepDims(b, loc, x, getAxes()),
                               x, getAxes(), 1.0);
    operandGrads[0] =
        b.create<DivOp>(loc, spreadOverAxes(b, loc, g, x, getAxes(), 1.0), sum);
  }
  return success();
}

LogicalResult ReduceProdOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                     SmallVectorImpl<Value> &operandGrads) {
  // The derivative by x_i is the product of the other elements. y / x_i
  // gives it only without zeros, so count them: none, y / x_i; exactly
  // one, the product of the non-zero elements at the zero and 0 elsewhere;
  // two or more, 0 everywhere (as PyTorch's prod_backward).
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  Value x = getInput();
  ArrayRef<int64_t> axes = getAxes();
  Type et = typeOf(x).getElementType();
  Value zero = vjp::scalar(b, loc, et, 0.0), one = vjp::scalar(b, loc, et, 1.0);
  Value isZero = b.create<EqualOp>(loc, x, zero);
  Value nonZero = b.create<WhereOp>(loc, isZero, one, x);
  auto spread = [&](Value kept) {
    return spreadOverAxes(b, loc, kept, x, axes, 1.0);
  };
  Value product = spread(b.create<ReduceProdOp>(loc, nonZero, axes, true));
  Value zeros = spread(
      vjp::sumKeepDims(b, loc, vjp::maskToFloat(b, loc, isZero, et), axes));
  Value others = b.create<WhereOp>(
      loc, b.create<EqualOp>(loc, zeros, zero),
      b.create<DivOp>(loc, product, nonZero),
      b.create<WhereOp>(
          loc, b.create<AndOp>(loc, isZero, b.create<EqualOp>(loc, zeros, one)),
          product, zero));
  operandGrads[0] = b.create<MulOp>(loc, spread(g), others);
  return success();
}

} // namespace lathe
