// Type inference, verifiers and folders of the ops in LatheElementwiseOps.td.
// (Add/Sub/Mul/Div and Softmax are inferred in LatheOps.cpp.)
#include "ir/InferUtils.h"
#include "ir/LatheOps.h"

#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
using namespace lathe;
using namespace lathe::infer;

#define LATHE_BROADCAST_INFER(OP, NAME)                                        \
  LogicalResult OP::inferReturnTypes(                                          \
      MLIRContext *, std::optional<Location> loc, Adaptor adaptor,             \
      SmallVectorImpl<Type> &results) {                                        \
    return inferBroadcast(loc, NAME, adaptor.getLhs(), adaptor.getRhs(),       \
                          results);                                            \
  }
LATHE_BROADCAST_INFER(MaxOp, "lathe.max")
LATHE_BROADCAST_INFER(MinOp, "lathe.min")
LATHE_BROADCAST_INFER(PowOp, "lathe.pow")
LATHE_BROADCAST_INFER(AndOp, "lathe.and")
LATHE_BROADCAST_INFER(OrOp, "lathe.or")
LATHE_BROADCAST_INFER(XorOp, "lathe.xor")
#undef LATHE_BROADCAST_INFER

LogicalResult ModOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &results) {
  if (!adaptor.getFmod() && isa<FloatType>(elementTypeOf(adaptor.getLhs())))
    return fail(loc, "lathe.mod: float operands need fmod");
  return inferBroadcast(loc, "lathe.mod", adaptor.getLhs(), adaptor.getRhs(),
                        results);
}

LogicalResult BitShiftOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &results) {
  StringRef direction = adaptor.getDirection();
  if (direction != "LEFT" && direction != "RIGHT")
    return fail(loc, "lathe.bit_shift: direction must be LEFT or RIGHT, got '" +
                         direction + "'");
  if (!elementTypeOf(adaptor.getLhs()).isUnsignedInteger())
    return fail(loc, "lathe.bit_shift: operands must be unsigned integers");
  return inferBroadcast(loc, "lathe.bit_shift", adaptor.getLhs(),
                        adaptor.getRhs(), results);
}

/// Broadcast shape of the operands, element type i1.
static LogicalResult inferBoolBroadcast(std::optional<Location> loc,
                                        StringRef name, Value lhs, Value rhs,
                                        SmallVectorImpl<Type> &results) {
  if (failed(inferBroadcast(loc, name, lhs, rhs, results)))
    return failure();
  results.back() =
      RankedTensorType::get(cast<RankedTensorType>(results.back()).getShape(),
                            IntegerType::get(lhs.getContext(), 1));
  return success();
}

#define LATHE_COMPARE_INFER(OP, NAME)                                          \
  LogicalResult OP::inferReturnTypes(                                          \
      MLIRContext *, std::optional<Location> loc, Adaptor adaptor,             \
      SmallVectorImpl<Type> &results) {                                        \
    return inferBoolBroadcast(loc, NAME, adaptor.getLhs(), adaptor.getRhs(),   \
                              results);                                        \
  }
LATHE_COMPARE_INFER(EqualOp, "lathe.equal")
LATHE_COMPARE_INFER(LessOp, "lathe.less")
LATHE_COMPARE_INFER(LessOrEqualOp, "lathe.less_or_equal")
LATHE_COMPARE_INFER(GreaterOp, "lathe.greater")
LATHE_COMPARE_INFER(GreaterOrEqualOp, "lathe.greater_or_equal")
#undef LATHE_COMPARE_INFER

LogicalResult WhereOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &results) {
  Type et = elementTypeOf(adaptor.getX());
  if (elementTypeOf(adaptor.getY()) != et)
    return fail(loc, "lathe.where: x and y differ in element type");
  Shape c = shapeOf(adaptor.getCondition()), x = shapeOf(adaptor.getX()),
        y = shapeOf(adaptor.getY());
  std::optional<Shape> out = broadcastShapes(c, x);
  if (out)
    out = broadcastShapes(*out, y);
  if (!out)
    return fail(loc, "lathe.where: shapes " + str(c) + ", " + str(x) + " and " +
                         str(y) + " do not broadcast");
  return inferred(results, *out, et);
}

static LogicalResult inferPredicate(Value input,
                                    SmallVectorImpl<Type> &results) {
  return inferred(results, shapeOf(input),
                  IntegerType::get(input.getContext(), 1));
}

LogicalResult IsNaNOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &results) {
  return inferPredicate(adaptor.getInput(), results);
}

LogicalResult IsInfOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &results) {
  return inferPredicate(adaptor.getInput(), results);
}

LogicalResult CastOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &results) {
  Type to = adaptor.getTo();
  if (!isa<FloatType>(to) && !isa<IntegerType>(to))
    return fail(loc, "lathe.cast: cannot convert to a non-numeric type");
  return inferred(results, shapeOf(adaptor.getInput()), to);
}

LogicalResult PReluOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &results) {
  Shape x = shapeOf(adaptor.getInput()), slope = shapeOf(adaptor.getSlope());
  std::optional<Shape> out = broadcastShapes(x, slope);
  if (!out || *out != x)
    return fail(loc, "lathe.prelu: slope of shape " + str(slope) +
                         " does not broadcast to the input's " + str(x));
  return inferred(results, x, elementTypeOf(adaptor.getInput()));
}

LogicalResult HardmaxOp::verify() {
  int64_t rank = cast<RankedTensorType>(getInput().getType()).getRank();
  if (!normaliseAxis(static_cast<int64_t>(getAxis()),
                     std::max<int64_t>(rank, 1)))
    return emitOpError("axis ") << static_cast<int64_t>(getAxis())
                                << " is out of range for rank " << rank;
  return success();
}

//===----------------------------------------------------------------------===//
// Folders: neutral operands
//===----------------------------------------------------------------------===//

/// True when `attr` is a constant tensor whose every element equals `value`
/// (0 or 1). Floats compare by value, so -0.0 counts as zero.
static bool isAllValue(Attribute attr, int64_t value) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
  if (!dense)
    return false;
  Type et = dense.getElementType();
  if (isa<FloatType>(et)) {
    auto matches = [&](const APFloat &f) {
      return value == 0 ? f.isZero() : f.isExactlyValue(double(value));
    };
    if (dense.isSplat())
      return matches(dense.getSplatValue<APFloat>());
    return llvm::all_of(dense.getValues<APFloat>(), matches);
  }
  if (!isa<IntegerType>(et))
    return false;
  auto matches = [&](const APInt &i) {
    return value == 0 ? i.isZero() : i.isOne();
  };
  if (dense.isSplat())
    return matches(dense.getSplatValue<APInt>());
  return llvm::all_of(dense.getValues<APInt>(), matches);
}

/// `x` when the other operand is all `neutral` and the result has exactly
/// x's type: a neutral operand that broadcasts x to a larger shape (or x of
/// another element type, as Pow allows) must stay.
static OpFoldResult foldNeutral(Operation *op, Value x, Attribute other,
                                int64_t neutral) {
  if (x.getType() != op->getResult(0).getType() || !isAllValue(other, neutral))
    return {};
  return x;
}

OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  if (OpFoldResult r = foldNeutral(*this, getLhs(), adaptor.getRhs(), 0))
    return r;
  return foldNeutral(*this, getRhs(), adaptor.getLhs(), 0);
}

OpFoldResult SubOp::fold(FoldAdaptor adaptor) {
  return foldNeutral(*this, getLhs(), adaptor.getRhs(), 0);
}

OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  if (OpFoldResult r = foldNeutral(*this, getLhs(), adaptor.getRhs(), 1))
    return r;
  return foldNeutral(*this, getRhs(), adaptor.getLhs(), 1);
}

OpFoldResult DivOp::fold(FoldAdaptor adaptor) {
  return foldNeutral(*this, getLhs(), adaptor.getRhs(), 1);
}

OpFoldResult PowOp::fold(FoldAdaptor adaptor) {
  return foldNeutral(*this, getLhs(), adaptor.getRhs(), 1);
}

OpFoldResult CastOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}
