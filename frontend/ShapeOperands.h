// ONNX operands that decide result shapes (Slice's starts/ends/axes/steps,
// Squeeze/Unsqueeze axes, Split sizes, ...), resolved per opset: attributes
// in early opsets, constant inputs later. Shared by the importers
// (ImportShape.cpp) and the compile-time evaluator (ConstantEval.cpp) so
// that both read a node the same way. Errors are returned, not reported: the
// evaluator declines silently and the importer reports. Internal to frontend/.
#ifndef LATHE_FRONTEND_SHAPEOPERANDS_H
#define LATHE_FRONTEND_SHAPEOPERANDS_H

#include "frontend/NodeImporter.h"
#include "ir/ShapeInference.h"

#include <optional>
#include <string>
#include <vector>

namespace lathe {

/// Integers given by attribute `attr` before opset `inputFrom`, by constant
/// input `input` from it. `out` stays empty when neither is present; fails
/// when the input is present but not a constant integer tensor.
bool intsOperand(const NodeImporter &n, size_t input, const char *attr,
                 int64_t inputFrom, std::optional<std::vector<int64_t>> &out,
                 std::string &error);

/// ONNX Slice: offsets, sizes and strides of every input dim (starts/ends
/// clamped as ONNX says, negative ones counted from the end).
bool sliceParams(const NodeImporter &n, const Shape &in, Shape &offsets,
                 Shape &sizes, Shape &strides, std::string &error);

/// Result shapes of Squeeze and Unsqueeze.
bool squeezeShape(const NodeImporter &n, const Shape &in, Shape &out,
                  std::string &error);
bool unsqueezeShape(const NodeImporter &n, const Shape &in, Shape &out,
                    std::string &error);

/// ONNX Split: the normalised axis and the size of every output.
bool splitSizes(const NodeImporter &n, const Shape &in, int64_t &axis,
                Shape &sizes, std::string &error);

/// ONNX Flatten's normalised axis (negative allowed from opset 11).
bool flattenAxis(const NodeImporter &n, const Shape &in, int64_t &axis,
                 std::string &error);

} // namespace lathe

#endif // LATHE_FRONTEND_SHAPEOPERANDS_H
