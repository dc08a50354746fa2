// lathe-conformance: comparing an output tensor with ONNX's expected one.
#include "Compare.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

namespace lathe::conformance {
namespace {

constexpr double kRtol = 1e-3;
constexpr double kAtol = 1e-7;

/// Compares element values read through `get(tensor, i)` as doubles.
template <typename Get>
bool compareFloats(const lathe::Tensor &actual, const lathe::Tensor &expected,
                   Get get, std::string &why) {
  int64_t n = expected.numel();
  int64_t firstBad = -1, bad = 0;
  double firstActual = 0, firstExpected = 0, maxAbs = 0, maxRel = 0;
  for (int64_t i = 0; i < n; ++i) {
    double a = get(actual, i), e = get(expected, i);
    bool ok;
    if (std::isnan(e) || std::isnan(a)) {
      ok = std::isnan(e) && std::isnan(a);
    } else if (std::isinf(e) || std::isinf(a)) {
      ok = a == e;
    } else {
      double diff = std::fabs(a - e);
      maxAbs = std::max(maxAbs, diff);
      if (e != 0)
        maxRel = std::max(maxRel, diff / std::fabs(e));
      ok = diff <= kAtol + kRtol * std::fabs(e);
    }
    if (!ok) {
      if (firstBad < 0) {
        firstBad = i;
        firstActual = a;
        firstExpected = e;
      }
      ++bad;
    }
  }
  if (bad == 0)
    return true;
  why = "element " + std::to_string(firstBad) + " of " + std::to_string(n) +
        ": got " + formatDouble(firstActual) + ", expected " +
        formatDouble(firstExpected) + " (" + std::to_string(bad) +
        " mismatched, max abs error " + formatDouble(maxAbs) +
        ", max rel error " + formatDouble(maxRel) + "; rtol " +
        formatDouble(kRtol) + ", atol " + formatDouble(kAtol) + ")";
  return false;
}

template <typename T>
bool compareExact(const lathe::Tensor &actual, const lathe::Tensor &expected,
                  std::string &why) {
  int64_t n = expected.numel();
  const T *a = actual.as<T>();
  const T *e = expected.as<T>();
  int64_t firstBad = -1, bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (a[i] != e[i]) {
      if (firstBad < 0)
        firstBad = i;
      ++bad;
    }
  }
  if (bad == 0)
    return true;
  why = "element " + std::to_string(firstBad) + " of " + std::to_string(n) +
        ": got " + std::to_string(static_cast<long long>(a[firstBad])) +
        ", expected " + std::to_string(static_cast<long long>(e[firstBad])) +
        " (" + std::to_string(bad) + " mismatched)";
  return false;
}

bool compareBools(const lathe::Tensor &actual, const lathe::Tensor &expected,
                  std::string &why) {
  int64_t n = expected.numel();
  const uint8_t *a = actual.as<uint8_t>();
  const uint8_t *e = expected.as<uint8_t>();
  int64_t firstBad = -1, bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    if ((a[i] != 0) != (e[i] != 0)) {
      if (firstBad < 0)
        firstBad = i;
      ++bad;
    }
  }
  if (bad == 0)
    return true;
  why = "element " + std::to_string(firstBad) + " of " + std::to_string(n) +
        ": got " + (a[firstBad] ? "true" : "false") + ", expected " +
        (e[firstBad] ? "true" : "false") + " (" + std::to_string(bad) +
        " mismatched)";
  return false;
}

} // namespace

std::string formatDouble(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

bool compareTensors(const lathe::Tensor &actual, const lathe::Tensor &expected,
                    std::string &why) {
  using lathe::DType;
  if (actual.dtype != expected.dtype) {
    why = std::string("dtype ") + lathe::dtypeName(actual.dtype) +
          ", expected " + lathe::dtypeName(expected.dtype);
    return false;
  }
  if (actual.shape != expected.shape) {
    why = "shape " + lathe::shapeToString(actual.shape) + ", expected " +
          lathe::shapeToString(expected.shape);
    return false;
  }
  size_t bytes =
      static_cast<size_t>(expected.numel()) * lathe::dtypeSize(expected.dtype);
  if (actual.data.size() != bytes || expected.data.size() != bytes) {
    why = "holds " + std::to_string(actual.data.size()) + " bytes, expected " +
          std::to_string(bytes);
    return false;
  }
  switch (expected.dtype) {
  case DType::F32:
    return compareFloats(
        actual, expected,
        [](const lathe::Tensor &t, int64_t i) {
          return static_cast<double>(t.as<float>()[i]);
        },
        why);
  case DType::F64:
    return compareFloats(
        actual, expected,
        [](const lathe::Tensor &t, int64_t i) { return t.as<double>()[i]; },
        why);
  case DType::F16:
    return compareFloats(
        actual, expected,
        [](const lathe::Tensor &t, int64_t i) {
          return lathe::halfToDouble(t.as<uint16_t>()[i]);
        },
        why);
  case DType::BF16:
    return compareFloats(
        actual, expected,
        [](const lathe::Tensor &t, int64_t i) {
          return lathe::bfloat16ToDouble(t.as<uint16_t>()[i]);
        },
        why);
  case DType::U32:
    return compareExact<uint32_t>(actual, expected, why);
  case DType::U64:
    return compareExact<uint64_t>(actual, expected, why);
  case DType::U8:
    return compareExact<uint8_t>(actual, expected, why);
  case DType::I8:
    return compareExact<int8_t>(actual, expected, why);
  case DType::U16:
    return compareExact<uint16_t>(actual, expected, why);
  case DType::I16:
    return compareExact<int16_t>(actual, expected, why);
  case DType::I32:
    return compareExact<int32_t>(actual, expected, why);
  case DType::I64:
    return compareExact<int64_t>(actual, expected, why);
  case DType::Bool:
    return compareBools(actual, expected, why);
  }
  why = "unknown dtype " + std::to_string(static_cast<int>(expected.dtype));
  return false;
}

} // namespace lathe::conformance
