// DifferentiableOpInterface's generated definitions and the VJP building
// blocks of ir/VJPUtils.h.
#include "ir/VJPUtils.h"

#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;

#include "ir/LatheAutodiff.cpp.inc"

namespace lathe::vjp {

bool isFloatTensor(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type && isa<FloatType>(type.getElementType());
}

Value scalar(OpBuilder &b, Location loc, Type elementType, double value) {
  auto type = RankedTensorType::get({}, elementType);
  return b.create<ConstantOp>(
      loc, DenseElementsAttr::get(type, b.getFloatAttr(elementType, value)));
}

Value zeros(OpBuilder &b, Location loc, RankedTensorType type) {
  return b.create<ConstantOp>(
      loc,
      DenseElementsAttr::get(type, b.getFloatAttr(type.getElementType(), 0.0)));
}

Value reshape(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> shape) {
  if (typeOf(v).getShape() == shape)
    return v;
  return b.create<ReshapeOp>(loc, v, shape);
}

Value sumKeepDims(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> axes) {
  if (axes.empty())
    return v;
  return b.create<ReduceSumOp>(loc, v, axes, /*keepdims=*/true);
}

Value unbroadcast(OpBuilder &b, Location loc, Value grad,
                  RankedTensorType operandType) {
  ArrayRef<int64_t> out = typeOf(grad).getShape();
  ArrayRef<int64_t> in = operandType.getShape();
  if (out == in)
    return grad;
  // Dims are aligned from the right: result dim i meets operand dim
  // i - lead, and the first `lead` result dims exist only in the result.
  int64_t lead =
      static_cast<int64_t>(out.size()) - static_cast<int64_t>(in.size());
  assert(lead >= 0 && "operand has more dims than the broadcast result");
  SmallVector<int64_t> axes;
  for (int64_t i = 0; i < static_cast<int64_t>(out.size()); ++i)
    if (i < lead || (in[i - lead] == 1 && out[i] != 1))
      axes.push_back(i);
  // Summing with kept dims leaves the operand's element count, so one
  // reshape drops the leading dims.
  return reshape(b, loc, sumKeepDims(b, loc, grad, axes), in);
}

Value maskToFloat(OpBuilder &b, Location loc, Value mask, Type elementType) {
  return b.create<CastOp>(loc, mask, TypeAttr::get(elementType));
}

Value start(Operation *op, ArrayRef<Value> resultGrads,
            SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(op->getNumOperands(), Value());
  if (resultGrads.empty() || !resultGrads[0] ||
      !isFloatTensor(op->getResult(0)))
    return {};
  return resultGrads[0];
}

int64_t normaliseAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

} // namespace lathe::vjp
