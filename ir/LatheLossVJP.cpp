// Vector-Jacobian products of the loss ops (DifferentiableOpInterface,
// ir/LatheAutodiff.td): NegativeLogLikelihoodLoss.
#include "ir/VJPUtils.h"

using namespace mlir;

namespace lathe {

using vjp::typeOf;

/// A 0-d int64 constant.
static Value intScalar(OpBuilder &b, Location loc, int64_t v) {
  auto type = RankedTensorType::get({}, b.getI64Type());
  return b.create<ConstantOp>(
      loc, DenseElementsAttr::get(type, b.getI64IntegerAttr(v)));
}

LogicalResult NllLossOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                  SmallVectorImpl<Value> &operandGrads) {
  // Per target e = (n, d): loss_e = -x[n, t_e, d] w[t_e] v_e, with v_e = 0
  // where t_e is ignore_index (else 1) and the class read as the lowering
  // reads it (t_e, or 0 when out of range). With the one-hot mask
  // M[n, c, d] = v_e [c == class_e] and ge the gradient of loss_e:
  //   dx = -M w[c] ge,  dw[c] = -sum_e M x ge.
  // `sum` gives every ge the scalar g; `mean` is L = S / W with W =
  // sum_e w[t_e] v_e, so ge = g / W for x, and W's dependence on w adds
  // -L g / W per counted target: dw[c] = sum_e M ge (-x - L).
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  Value x = getInput();
  RankedTensorType xType = typeOf(x);
  Type et = xType.getElementType();
  int64_t rank = xType.getRank(), classes = xType.getDimSize(1);

  // The target as [N, 1, d...] (int64), against the classes [1, C, 1...].
  SmallVector<int64_t> tShape(xType.getShape());
  tShape[1] = 1;
  Value t = getTarget();
  if (!typeOf(t).getElementType().isInteger(64))
    t = b.create<CastOp>(loc, t, TypeAttr::get(b.getI64Type()));
  t = vjp::reshape(b, loc, t, tShape);
  SmallVector<int64_t> cShape(rank, 1);
  cShape[1] = classes;
  SmallVector<int64_t> iota(classes);
  for (int64_t c = 0; c < classes; ++c)
    iota[c] = c;
  Value classIds = b.create<ConstantOp>(
      loc, DenseElementsAttr::get(RankedTensorType::get(cShape, b.getI64Type()),
                                  ArrayRef(iota)));
  Value zero = intScalar(b, loc, 0);
  Value inRange =
      b.create<AndOp>(loc, b.create<GreaterOrEqualOp>(loc, t, zero),
                      b.create<LessOp>(loc, t, intScalar(b, loc, classes)));
  Value counted;
  if (std::optional<int64_t> ignore = getIgnoreIndex())
    counted = b.create<NotOp>(
        loc, b.create<EqualOp>(loc, t, intScalar(b, loc, *ignore)));
  Value picked =
      counted ? b.create<AndOp>(loc, inRange, counted).getResult() : inRange;
  Value cls = b.create<WhereOp>(loc, picked, t, zero);
  Value mask = vjp::maskToFloat(b, loc, b.create<EqualOp>(loc, cls, classIds),
                                et); // [N, C, d...]
  if (counted)
    mask = b.create<MulOp>(loc, mask, vjp::maskToFloat(b, loc, counted, et));
  Value weight = getWeight();
  Value wView = weight ? vjp::reshape(b, loc, weight, cShape) : Value();

  // ge, broadcastable to [N, C, d...].
  StringRef reduction = getReduction();
  Value ge = g;
  if (reduction == "none") {
    ge = vjp::reshape(b, loc, g, tShape);
  } else if (reduction == "mean") {
    Value perTarget =
        wView ? b.create<MulOp>(loc, mask, wView).getResult() : mask;
    SmallVector<int64_t> all(rank);
    for (int64_t i = 0; i < rank; ++i)
      all[i] = i;
    Value total = vjp::reshape(b, loc, vjp::sumKeepDims(b, loc, perTarget, all),
                               ArrayRef<int64_t>{});
    ge = b.create<DivOp>(loc, g, total);
  }
  Value maskGe = b.create<MulOp>(loc, mask, ge);
  Value dx = wView ? b.create<MulOp>(loc, maskGe, wView).getResult() : maskGe;
  operandGrads[0] = b.create<NegOp>(loc, dx);
  if (weight) {
    Value minusX = b.create<NegOp>(loc, x);
    if (reduction == "mean")
      minusX = b.create<SubOp>(loc, minusX, getOutput());
    SmallVector<int64_t> axes = {0};
    for (int64_t i = 2; i < rank; ++i)
      axes.push_back(i);
    operandGrads[2] = vjp::reshape(
        b, loc,
        vjp::sumKeepDims(b, loc, b.create<MulOp>(loc, maskGe, minusX), axes),
        {classes});
  }
  return success();
}

} // namespace lathe
