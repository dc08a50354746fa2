#include "lathe/Tensor.h"

#include <cmath>

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

double halfToDouble(uint16_t h) {
  int sign = h >> 15;
  int exponent = (h >> 10) & 0x1f;
  int mantissa = h & 0x3ff;
  double v;
  if (exponent == 0)
    v = std::ldexp(static_cast<double>(mantissa), -24); // zero or subnormal
  else if (exponent == 31)
    v = mantissa ? std::nan("") : HUGE_VAL;
  else
    v = std::ldexp(static_cast<double>(mantissa + 1024), exponent - 25);
  return sign ? -v : v;
}

double bfloat16ToDouble(uint16_t bits) {
  // bfloat16 is the top half of a float32.
  uint32_t word = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &word, sizeof f);
  return f;
}

double Tensor::valueAt(int64_t i) const {
  switch (dtype) {
  case DType::F32:
    return as<float>()[i];
  case DType::F64:
    return as<double>()[i];
  case DType::F16:
    return halfToDouble(as<uint16_t>()[i]);
  case DType::BF16:
    return bfloat16ToDouble(as<uint16_t>()[i]);
  case DType::I64:
    return static_cast<double>(as<int64_t>()[i]);
  case DType::I32:
    return as<int32_t>()[i];
  case DType::I16:
    return as<int16_t>()[i];
  case DType::I8:
    return as<int8_t>()[i];
  case DType::U8:
  case DType::Bool:
    return as<uint8_t>()[i];
  case DType::U16:
    return as<uint16_t>()[i];
  case DType::U32:
    return as<uint32_t>()[i];
  case DType::U64:
    return static_cast<double>(as<uint64_t>()[i]);
  }
  return NAN;
}

} // namespace lathe
