// Host element access for the compile-time evaluator, converting as the
// compiled code does.
#include "frontend/ConstantEvalInternal.h"

#include <cstring>

namespace lathe::eval {

bool isFloat(DType t) { return t == DType::F32 || t == DType::F64; }
bool isInteger(DType t) {
  switch (t) {
  case DType::I8:
  case DType::I16:
  case DType::I32:
  case DType::I64:
  case DType::U8:
  case DType::U16:
  case DType::U32:
  case DType::U64:
  case DType::Bool:
    return true;
  default:
    return false;
  }
}
/// Dtypes whose values the arithmetic evaluators read and write.
bool isNumeric(DType t) { return isFloat(t) || isInteger(t); }

/// Whether every value of `t` is its int64 reading: uint64 values past
/// INT64_MAX are not, and only wrapping arithmetic (+, -, *, ==) may use
/// them.
bool fitsInt64(const Tensor &t) {
  if (t.dtype != DType::U64)
    return true;
  for (int64_t k = 0; k < t.numel(); ++k)
    if (readI(t, k) < 0)
      return false;
  return true;
}

int64_t readI(const Tensor &t, int64_t i) {
  switch (t.dtype) {
  case DType::I8:
    return t.as<int8_t>()[i];
  case DType::I16:
    return t.as<int16_t>()[i];
  case DType::I32:
    return t.as<int32_t>()[i];
  case DType::I64:
    return t.as<int64_t>()[i];
  case DType::U8:
    return t.as<uint8_t>()[i];
  case DType::U16:
    return t.as<uint16_t>()[i];
  case DType::U32:
    return t.as<uint32_t>()[i];
  case DType::U64: // values past INT64_MAX wrap; see fitsInt64
    return static_cast<int64_t>(t.as<uint64_t>()[i]);
  case DType::Bool:
    return t.as<uint8_t>()[i] != 0;
  case DType::F32:
    return static_cast<int64_t>(t.as<float>()[i]);
  case DType::F64:
    return static_cast<int64_t>(t.as<double>()[i]);
  default:
    return 0;
  }
}

double readF(const Tensor &t, int64_t i) {
  switch (t.dtype) {
  case DType::F32:
    return t.as<float>()[i];
  case DType::F64:
    return t.as<double>()[i];
  default:
    return static_cast<double>(readI(t, i));
  }
}

/// Stores an integer: wraps to the width (as arith.trunci), converts to a
/// float type with one rounding (as arith.sitofp).
void writeI(Tensor &t, int64_t i, int64_t v) {
  uint64_t u = static_cast<uint64_t>(v);
  switch (t.dtype) {
  case DType::I8:
    t.as<int8_t>()[i] = static_cast<int8_t>(u);
    break;
  case DType::I16:
    t.as<int16_t>()[i] = static_cast<int16_t>(u);
    break;
  case DType::I32:
    t.as<int32_t>()[i] = static_cast<int32_t>(u);
    break;
  case DType::I64:
    t.as<int64_t>()[i] = v;
    break;
  case DType::U8:
    t.as<uint8_t>()[i] = static_cast<uint8_t>(u);
    break;
  case DType::U16:
    t.as<uint16_t>()[i] = static_cast<uint16_t>(u);
    break;
  case DType::U32:
    t.as<uint32_t>()[i] = static_cast<uint32_t>(u);
    break;
  case DType::U64:
    t.as<uint64_t>()[i] = u;
    break;
  case DType::Bool:
    t.as<uint8_t>()[i] = v != 0;
    break;
  case DType::F32:
    t.as<float>()[i] = static_cast<float>(v);
    break;
  case DType::F64:
    t.as<double>()[i] = static_cast<double>(v);
    break;
  default:
    break;
  }
}

/// Stores a float into a float tensor, rounding once.
void writeF(Tensor &t, int64_t i, double v) {
  if (t.dtype == DType::F32)
    t.as<float>()[i] = static_cast<float>(v);
  else if (t.dtype == DType::F64)
    t.as<double>()[i] = v;
  else
    writeI(t, i, static_cast<int64_t>(v));
}

void copyElement(Tensor &dst, int64_t di, const Tensor &src, int64_t si) {
  size_t size = dtypeSize(src.dtype);
  std::memcpy(dst.data.data() + di * size, src.data.data() + si * size, size);
}

/// Row-major strides of `shape`.
Shape stridesOf(const Shape &shape) {
  Shape s(shape.size(), 1);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
    s[d] = s[d + 1] * shape[d + 1];
  return s;
}

/// Calls f(multi-index, linear index) for every element of `shape`.
void forEachIndex(const Shape &shape,
                  const std::function<void(const Shape &, int64_t)> &f) {
  int64_t n = numElements(shape);
  Shape idx(shape.size(), 0);
  for (int64_t k = 0; k < n; ++k) {
    f(idx, k);
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
      if (++idx[d] < shape[d])
        break;
      idx[d] = 0;
    }
  }
}

/// For every element of `out`, the linear index of the element of a tensor
/// of shape `in` that numpy broadcasting reads.
std::vector<int64_t> broadcastIndices(const Shape &in, const Shape &out) {
  Shape strides(out.size(), 0), inStrides = stridesOf(in);
  size_t offset = out.size() - in.size();
  for (size_t d = 0; d < in.size(); ++d)
    strides[d + offset] = in[d] == 1 ? 0 : inStrides[d];
  std::vector<int64_t> result(numElements(out));
  forEachIndex(out, [&](const Shape &idx, int64_t k) {
    int64_t lin = 0;
    for (size_t d = 0; d < idx.size(); ++d)
      lin += idx[d] * strides[d];
    result[k] = lin;
  });
  return result;
}

/// A copy of `src` with another shape (same elements, same order).
Tensor reshaped(const Tensor &src, Shape shape) {
  Tensor t = src;
  t.shape = std::move(shape);
  return t;
}

} // namespace lathe::eval
