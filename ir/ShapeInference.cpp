#include "ir/ShapeInference.h"

#include <algorithm>

namespace lathe {

std::optional<Shape> broadcastShapes(const Shape &a, const Shape &b) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return std::nullopt;
    out[i] = da == 1 ? db : da;
  }
  return out;
}

int64_t windowOutputSize(int64_t in, int64_t kernel, int64_t stride,
                         int64_t dilation, int64_t padBegin, int64_t padEnd,
                         bool ceilMode) {
  int64_t span = (kernel - 1) * dilation + 1;
  int64_t room = in + padBegin + padEnd - span;
  if (room < 0)
    return 0;
  int64_t out = (ceilMode ? (room + stride - 1) / stride : room / stride) + 1;
  // A window must start inside the input or the begin padding.
  if (ceilMode && (out - 1) * stride >= in + padBegin)
    --out;
  return out;
}

bool resolveAutoPad(const std::string &autoPad, const Shape &spatialIn,
                    const Shape &kernel, const Shape &strides,
                    const Shape &dilations, Shape &pads, std::string &error) {
  size_t n = spatialIn.size();
  if (autoPad.empty() || autoPad == "NOTSET") {
    if (pads.empty())
      pads.assign(2 * n, 0);
    if (pads.size() != 2 * n) {
      error = "pads has " + std::to_string(pads.size()) + " values, expected " +
              std::to_string(2 * n);
      return false;
    }
    for (int64_t p : pads)
      if (p < 0) {
        error = "negative pads are not supported";
        return false;
      }
    return true;
  }
  pads.assign(2 * n, 0);
  if (autoPad == "VALID")
    return true;
  if (autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER") {
    error = "auto_pad '" + autoPad +
            "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID";
    return false;
  }
  for (size_t i = 0; i < n; ++i) {
    int64_t out = (spatialIn[i] + strides[i] - 1) / strides[i];
    int64_t span = (kernel[i] - 1) * dilations[i] + 1;
    int64_t total =
        std::max<int64_t>(0, (out - 1) * strides[i] + span - spatialIn[i]);
    int64_t small = total / 2, big = total - small;
    pads[i] = autoPad == "SAME_UPPER" ? small : big;
    pads[i + n] = autoPad == "SAME_UPPER" ? big : small;
  }
  return true;
}

int64_t numElements(const Shape &s) {
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  return n;
}

bool resolveReshape(const Shape &in, const Shape &requested, bool allowZero,
                    Shape &out, std::string &error) {
  out.clear();
  int inferAt = -1;
  int64_t known = 1;
  for (size_t i = 0; i < requested.size(); ++i) {
    int64_t d = requested[i];
    if (d == -1) {
      if (inferAt >= 0) {
        error = "more than one -1 in the target shape";
        return false;
      }
      inferAt = static_cast<int>(i);
      out.push_back(1);
      continue;
    }
    if (d == 0 && !allowZero) {
      if (i >= in.size()) {
        error = "0 at position " + std::to_string(i) +
                " copies a dim the input does not have";
        return false;
      }
      d = in[i];
    }
    if (d < 0) {
      error = "invalid dim " + std::to_string(d) + " in the target shape";
      return false;
    }
    out.push_back(d);
    known *= d;
  }
  int64_t total = numElements(in);
  if (inferAt >= 0) {
    if (known == 0 || total % known != 0) {
      error = "cannot infer -1 for " + std::to_string(total) + " elements";
      return false;
    }
    out[inferAt] = total / known;
    known *= out[inferAt];
  }
  if (known != total) {
    error = "target shape has " + std::to_string(known) +
            " elements, the input " + std::to_string(total);
    return false;
  }
  return true;
}

} // namespace lathe
