#include "lathe/Tensor.h"

namespace lathe {

std::string shapeToString(const std::vector<int64_t> &shape) {
  // "scalar" rather than "" so messages like "expected 2x3, got scalar" read.
  if (shape.empty())
    return "scalar";
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += 'x';
    s += std::to_string(shape[i]);
  }
  return s;
}

} // namespace lathe
