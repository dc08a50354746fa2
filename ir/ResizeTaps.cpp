// The sampling rule of Resize (see ResizeTaps.h), shared by its lowering
// (passes/LowerResize.cpp) and its vector-Jacobian product
// (ir/LatheResampleVJP.cpp), so that the gradient is the transpose of exactly
// the interpolation the forward computes.
#include "ir/ResizeTaps.h"

#include "ir/LatheOps.h"

#include <cmath>

using namespace mlir;

namespace lathe {

namespace {

/// Keys' cubic convolution weights of the taps left - 1 .. left + 2 at
/// `r` past `left` (the reference's formulas, for the same rounding).
SmallVector<double> cubicCoeffs(double r, double a) {
  double q = 1 - r;
  return {((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a,
          ((a + 2) * r - (a + 3)) * r * r + 1,
          ((a + 2) * q - (a + 3)) * q * q + 1,
          ((a * (q + 1) - 5 * a) * (q + 1) + 8 * a) * (q + 1) - 4 * a};
}

} // namespace

std::vector<ResizeTaps> resizeTaps(ResizeOp op, int64_t dim, int64_t in,
                                   int64_t out) {
  StringRef mode = op.getMode(), ctm = op.getCoordinateTransformationMode(),
            nearest = op.getNearestMode();
  double scale = op.getScales()[dim];
  double outWidth = scale * double(in);
  int64_t rank = op.getScales().size();
  double roiStart = 0, roiEnd = 1;
  if (!op.getRoi().empty()) {
    roiStart = op.getRoi()[dim];
    roiEnd = op.getRoi()[dim + rank];
  }
  std::vector<ResizeTaps> result(out);
  for (int64_t x = 0; x < out; ++x) {
    ResizeTaps &t = result[x];
    double xo;
    if (ctm == "align_corners") {
      xo = outWidth == 1 ? 0.0 : x * double(in - 1) / (outWidth - 1);
    } else if (ctm == "asymmetric") {
      xo = x / scale;
    } else if (ctm == "tf_crop_and_resize") {
      xo = outWidth == 1
               ? (roiEnd - roiStart) * double(in - 1) / 2
               : x * (roiEnd - roiStart) * double(in - 1) / (outWidth - 1);
      xo += roiStart * double(in - 1);
      if (xo < 0 || xo > double(in - 1)) {
        t.outside = true;
        t.taps.push_back({0, 0.0});
        continue;
      }
    } else if (ctm == "pytorch_half_pixel") {
      xo = outWidth == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
    } else if (ctm == "tf_half_pixel_for_nn") {
      xo = (x + 0.5) / scale;
    } else { // half_pixel
      xo = (x + 0.5) / scale - 0.5;
    }
    auto clampIdx = [&](int64_t i) {
      return std::min<int64_t>(std::max<int64_t>(i, 0), in - 1);
    };
    if (mode == "nearest" && nearest == "simple") {
      // Legacy Resize/Upsample: ceil when downsampling, else truncate.
      int64_t i = scale < 1 ? static_cast<int64_t>(std::ceil(xo))
                            : static_cast<int64_t>(xo);
      t.taps.push_back({clampIdx(i), 1.0});
      continue;
    }
    // The pixel left of xo and the ratio in (0, 1] past it.
    double fl = std::floor(xo);
    bool integral = fl == xo;
    int64_t left = static_cast<int64_t>(fl) - (integral ? 1 : 0);
    double ratio = integral ? 1.0 : xo - fl;
    SmallVector<int64_t> idx;
    SmallVector<double> w;
    if (mode == "nearest") {
      bool right;
      if (integral)
        right = true;
      else if (nearest == "round_prefer_floor")
        right = ratio > 0.5;
      else if (nearest == "round_prefer_ceil")
        right = ratio >= 0.5;
      else if (nearest == "floor")
        right = false;
      else // ceil
        right = true;
      idx = {left + (right ? 1 : 0)};
      w = {1.0};
    } else if (mode == "linear") {
      idx = {left, left + 1};
      w = {1 - ratio, ratio};
    } else {
      idx = {left - 1, left, left + 1, left + 2};
      w = cubicCoeffs(ratio, op.getCubicCoeffA().convertToDouble());
      if (op.getExcludeOutside()) {
        double sum = 0;
        for (size_t k = 0; k < idx.size(); ++k) {
          if (idx[k] < 0 || idx[k] >= in)
            w[k] = 0;
          sum += w[k];
        }
        for (double &v : w)
          v /= sum;
      }
    }
    // Out-of-range taps read the edge (the reference pads by replication);
    // taps of one source index are merged and zero weights dropped.
    for (size_t k = 0; k < idx.size(); ++k) {
      if (w[k] == 0)
        continue;
      int64_t i = clampIdx(idx[k]);
      auto it = llvm::find_if(t.taps, [&](auto &p) { return p.first == i; });
      if (it != t.taps.end())
        it->second += w[k];
      else
        t.taps.push_back({i, w[k]});
    }
    if (t.taps.empty())
      t.taps.push_back({clampIdx(left), 0.0});
  }
  return result;
}

} // namespace lathe
