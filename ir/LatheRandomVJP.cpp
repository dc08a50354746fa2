// Vector-Jacobian product of training dropout (DifferentiableOpInterface,
// ir/LatheAutodiff.td). The random generators have no differentiable
// operand (Bernoulli's probabilities only move a threshold: zero almost
// everywhere), so they need none.
#include "ir/VJPUtils.h"

using namespace mlir;

namespace lathe {

using vjp::scalar;
using vjp::typeOf;

LogicalResult
TrainingDropoutOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                            SmallVectorImpl<Value> &operandGrads) {
  // output = x * mask / (1 - ratio) in training, x otherwise: the gradient
  // reads the mask the forward pass drew (result 1), so both see the same
  // random bits. The ratio is a hyperparameter (the draw depends on it
  // discontinuously) and gets no gradient; the mask is bool.
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  Type et = typeOf(g).getElementType();
  Value ratio = getRatio();
  if (typeOf(ratio).getElementType() != et)
    ratio = b.create<CastOp>(loc, ratio, TypeAttr::get(et));
  Value one = scalar(b, loc, et, 1.0);
  // 1 / (1 - ratio), as the lowering computes the forward scale.
  Value inverse = b.create<DivOp>(loc, one, b.create<SubOp>(loc, one, ratio));
  Value factor = b.create<WhereOp>(loc, getTraining(), inverse, one);
  Value kept = b.create<MulOp>(loc, g, vjp::maskToFloat(b, loc, getMask(), et));
  operandGrads[0] = b.create<MulOp>(loc, kept, factor);
  return success();
}

} // namespace lathe
