// Shape rules shared by the dialect's type inference, the importer (auto_pad,
// Reshape) and the lowerings. Plain C++ so that gtest can check them directly.
#ifndef LATHE_IR_SHAPEINFERENCE_H
#define LATHE_IR_SHAPEINFERENCE_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lathe {

using Shape = std::vector<int64_t>;

/// Numpy broadcasting of two shapes; nullopt when they are incompatible.
std::optional<Shape> broadcastShapes(const Shape &a, const Shape &b);

/// Output length of one spatial dim of a sliding window (conv or pool).
/// `ceilMode` rounds up, dropping a last window that would start in the end
/// padding. Returns a value < 1 when the window does not fit.
int64_t windowOutputSize(int64_t in, int64_t kernel, int64_t stride,
                         int64_t dilation, int64_t padBegin, int64_t padEnd,
                         bool ceilMode);

/// Resolves ONNX auto_pad (SAME_UPPER, SAME_LOWER, VALID, NOTSET) into
/// explicit pads [begin..., end...]. For NOTSET `pads` is returned as given
/// (all zeros when empty). Returns false with `error` set on a bad value.
bool resolveAutoPad(const std::string &autoPad, const Shape &spatialIn,
                    const Shape &kernel, const Shape &strides,
                    const Shape &dilations, Shape &pads, std::string &error);

/// Applies ONNX Reshape's rules (0 copies the input dim unless allowzero,
/// one -1 is inferred). Returns false with `error` set when impossible.
bool resolveReshape(const Shape &in, const Shape &requested, bool allowZero,
                    Shape &out, std::string &error);

int64_t numElements(const Shape &s);

} // namespace lathe

#endif // LATHE_IR_SHAPEINFERENCE_H
