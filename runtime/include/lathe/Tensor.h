// Host tensors used by the C++ API, the CLI and the tests: a dtype (ONNX
// TensorProto codes, see runtime.h), a shape, and dense row-major bytes.
#ifndef LATHE_TENSOR_H
#define LATHE_TENSOR_H

#include "lathe/runtime.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace lathe {

enum class DType : int32_t {
  F32 = LATHE_DTYPE_FLOAT,
  U8 = LATHE_DTYPE_UINT8,
  I8 = LATHE_DTYPE_INT8,
  U16 = LATHE_DTYPE_UINT16,
  I16 = LATHE_DTYPE_INT16,
  I32 = LATHE_DTYPE_INT32,
  I64 = LATHE_DTYPE_INT64,
  Bool = LATHE_DTYPE_BOOL,
  F16 = LATHE_DTYPE_FLOAT16,
  F64 = LATHE_DTYPE_DOUBLE,
  U32 = LATHE_DTYPE_UINT32,
  U64 = LATHE_DTYPE_UINT64,
  BF16 = LATHE_DTYPE_BFLOAT16,
};

inline size_t dtypeSize(DType t) {
  return lathe_dtype_size(static_cast<int32_t>(t));
}
inline const char *dtypeName(DType t) {
  return lathe_dtype_name(static_cast<int32_t>(t));
}

/// Returns "1x3x32x32" (or "scalar" for rank 0).
std::string shapeToString(const std::vector<int64_t> &shape);

/// IEEE half and bfloat16 bit patterns to double.
double halfToDouble(uint16_t bits);
double bfloat16ToDouble(uint16_t bits);

struct Tensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data; // numel() * dtypeSize(dtype) bytes

  Tensor() = default;
  Tensor(DType dtype, std::vector<int64_t> shape)
      : dtype(dtype), shape(std::move(shape)) {
    data.resize(numel() * dtypeSize(this->dtype));
  }

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
  size_t bytes() const { return data.size(); }
  template <typename T> T *as() { return reinterpret_cast<T *>(data.data()); }
  template <typename T> const T *as() const {
    return reinterpret_cast<const T *>(data.data());
  }
  /// Element i converted to double (for printing and comparison); 64-bit
  /// integers beyond 2^53 round.
  double valueAt(int64_t i) const;
};

} // namespace lathe

#endif // LATHE_TENSOR_H
