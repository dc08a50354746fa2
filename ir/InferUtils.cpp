// Helpers shared by the type inference functions of all op families.
#include "ir/InferUtils.h"
#include "ir/ShapeInference.h"

using namespace mlir;

namespace lathe::infer {

Shape shapeOf(Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  return Shape(t.getShape().begin(), t.getShape().end());
}

Type elementTypeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getElementType();
}

LogicalResult inferred(SmallVectorImpl<Type> &results, const Shape &shape,
                       Type elementType) {
  results.push_back(RankedTensorType::get(shape, elementType));
  return success();
}

LogicalResult fail(std::optional<Location> loc, const Twine &message) {
  return emitOptionalError(loc, message);
}

std::string str(ArrayRef<int64_t> s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i)
    out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

/// Normalises a possibly negative axis into [0, rank).
std::optional<int64_t> normaliseAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

LogicalResult inferBroadcast(std::optional<Location> loc, StringRef opName,
                             Value lhs, Value rhs,
                             SmallVectorImpl<Type> &results) {
  auto out = broadcastShapes(shapeOf(lhs), shapeOf(rhs));
  if (!out)
    return fail(loc, Twine(opName) + ": shapes " + str(shapeOf(lhs)) + " and " +
                         str(shapeOf(rhs)) + " do not broadcast");
  return inferred(results, *out, elementTypeOf(lhs));
}

LogicalResult inferSameAsInput(Value input, SmallVectorImpl<Type> &results) {
  results.push_back(input.getType());
  return success();
}

/// Checks the window attributes shared by conv and pooling.
LogicalResult checkWindow(std::optional<Location> loc, StringRef opName,
                          const Shape &in, size_t spatial,
                          ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                          ArrayRef<int64_t> dilations, ArrayRef<int64_t> pads) {
  if (in.size() < 3)
    return fail(loc, Twine(opName) +
                         ": input must be [N, C, spatial...], got " + str(in));
  if (kernel.size() != spatial || strides.size() != spatial ||
      dilations.size() != spatial || pads.size() != 2 * spatial)
    return fail(loc, Twine(opName) + ": kernel " + str(kernel) + ", strides " +
                         str(strides) + ", dilations " + str(dilations) +
                         " and pads " + str(pads) + " do not fit " +
                         Twine(spatial) + " spatial dims");
  for (size_t i = 0; i < spatial; ++i) {
    if (kernel[i] < 1 || strides[i] < 1 || dilations[i] < 1)
      return fail(loc, Twine(opName) +
                           ": kernel, strides and dilations must be positive");
    if (pads[i] < 0 || pads[i + spatial] < 0)
      return fail(loc, Twine(opName) + ": pads must be non-negative");
  }
  return success();
}

LogicalResult
inferWindowOutput(std::optional<Location> loc, StringRef opName,
                  const Shape &in, int64_t channels, ArrayRef<int64_t> kernel,
                  ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations,
                  ArrayRef<int64_t> pads, bool ceilMode, Type elementType,
                  SmallVectorImpl<Type> &results) {
  size_t spatial = in.size() - 2;
  Shape out = {in[0], channels};
  for (size_t i = 0; i < spatial; ++i) {
    int64_t o = windowOutputSize(in[i + 2], kernel[i], strides[i], dilations[i],
                                 pads[i], pads[i + spatial], ceilMode);
    if (o < 1)
      return fail(loc, Twine(opName) + ": window does not fit input " +
                           str(in) + " (spatial dim " + Twine(i) + ")");
    out.push_back(o);
  }
  return inferred(results, out, elementType);
}

} // namespace lathe::infer
