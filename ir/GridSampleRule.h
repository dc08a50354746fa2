// The sampling rule of lathe.grid_sample along one axis (x or y): from a
// normalised grid coordinate to the positions of the taps it reads and
// their interpolation weights. The rule is PyTorch's grid_sampler_2d (ONNX
// GridSample-16 follows it): unnormalisation, border clamp, reflection,
// nearest rounding half to even, bilinear and bicubic (A = -0.75) weights.
//
// It is written once, over an arithmetic `M`, and used twice:
// - passes/LowerResize.cpp instantiates it with scalar arith ops in the body
//   of the generic that computes the forward;
// - ir/LatheResampleVJP.cpp instantiates it with lathe tensor ops on dual
//   numbers (value, derivative with respect to the grid coordinate), which
//   gives the positions and weights the gradient scatters through and, from
//   the same expressions, the weights' derivatives the grid gradient needs.
// So the gradient is that of exactly the interpolation the forward computes.
//
// `M` provides the value type `V`, the condition type `B` and:
//   V c(double); V add(V, V); V sub(V, V); V mul(V, V); V div(V, V);
//   V floor(V); V roundEven(V); V abs(V);
//   V clamp(V, double lo, double hi);   // min(max(x, lo), hi)
//   B equal(V, V); V select(B, V, V);
#ifndef LATHE_IR_GRIDSAMPLERULE_H
#define LATHE_IR_GRIDSAMPLERULE_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>

namespace lathe::gridsample {

enum class Mode { Nearest, Bilinear, Bicubic };
enum class Padding { Zeros, Border, Reflection };

/// The attributes of a grid_sample op (verified: the strings are known).
struct Attrs {
  Mode mode;
  Padding padding;
  bool alignCorners;

  Attrs(llvm::StringRef mode, llvm::StringRef padding, bool alignCorners)
      : mode(mode == "nearest"    ? Mode::Nearest
             : mode == "bilinear" ? Mode::Bilinear
                                  : Mode::Bicubic),
        padding(padding == "zeros"    ? Padding::Zeros
                : padding == "border" ? Padding::Border
                                      : Padding::Reflection),
        alignCorners(alignCorners) {}
};

/// The taps of one axis. `pos` are integral float coordinates; a position
/// outside [0, size - 1] reads 0 (zeros padding, and bilinear's second tap
/// past the last pixel, whose weight is then 0). `weight` has one entry per
/// tap, empty for nearest (its single tap has weight 1).
template <class M> struct AxisTaps {
  llvm::SmallVector<typename M::V, 4> pos, weight;
};

/// Maps a grid coordinate in [-1, 1] to a pixel coordinate: -1 and 1 are
/// the corner pixels' centres with align_corners, their outer edges
/// otherwise.
template <class M>
typename M::V unnormalise(M &m, typename M::V g, int64_t size, bool align) {
  auto g1 = m.add(g, m.c(1.0));
  if (align)
    return m.mul(m.mul(g1, m.c(0.5)), m.c(double(size - 1)));
  return m.mul(m.sub(m.mul(g1, m.c(double(size))), m.c(1.0)), m.c(0.5));
}

/// PyTorch's reflect_coordinates: folds `x` into [low, high] (both given
/// twice, so that the half-pixel bounds stay integral).
template <class M>
typename M::V reflect(M &m, typename M::V x, double twiceLow,
                      double twiceHigh) {
  if (twiceLow == twiceHigh)
    return m.c(0.0);
  double lo = twiceLow / 2, span = (twiceHigh - twiceLow) / 2;
  auto in = m.abs(m.sub(x, m.c(lo)));
  auto flips = m.floor(m.div(in, m.c(span)));
  auto extra = m.sub(in, m.mul(flips, m.c(span)));
  auto half = m.floor(m.mul(flips, m.c(0.5)));
  auto even = m.equal(m.sub(flips, m.mul(half, m.c(2.0))), m.c(0.0));
  return m.select(even, m.add(extra, m.c(lo)),
                  m.add(m.sub(m.c(span), extra), m.c(lo)));
}

/// The padding transform of a pixel coordinate (PyTorch's
/// compute_coordinates): border clamps to the image, reflection reflects
/// about the edges (pixel centres with align_corners, outer edges
/// otherwise) and then clamps; zeros leaves it (reads outside give 0).
template <class M>
typename M::V pad(M &m, typename M::V v, int64_t size, const Attrs &a) {
  if (a.padding == Padding::Border)
    return m.clamp(v, 0.0, double(size - 1));
  if (a.padding == Padding::Reflection) {
    v = a.alignCorners ? reflect(m, v, 0.0, 2.0 * double(size - 1))
                       : reflect(m, v, -1.0, 2.0 * double(size) - 1);
    return m.clamp(v, 0.0, double(size - 1));
  }
  return v;
}

/// Keys' cubic convolution weights (A = -0.75) of the taps floor - 1 ..
/// floor + 2 at `t` past the floor, in PyTorch's form for the same
/// rounding.
template <class M>
llvm::SmallVector<typename M::V, 4> cubicCoefficients(M &m, typename M::V t) {
  const double A = -0.75;
  auto near = [&](typename M::V v) { // |v| <= 1
    return m.add(m.mul(m.mul(m.sub(m.mul(m.c(A + 2), v), m.c(A + 3)), v), v),
                 m.c(1.0));
  };
  auto far = [&](typename M::V v) { // 1 < |v| < 2
    return m.sub(
        m.mul(m.add(m.mul(m.sub(m.mul(m.c(A), v), m.c(5 * A)), v), m.c(8 * A)),
              v),
        m.c(4 * A));
  };
  auto one = m.c(1.0);
  return {far(m.add(t, one)), near(t), near(m.sub(one, t)),
          far(m.sub(m.c(2.0), t))};
}

/// The taps that grid coordinate `g` reads along an axis of `size` pixels.
/// Nearest and bilinear pad the coordinate and then take their taps around
/// it; bicubic takes its four taps around the unpadded coordinate and pads
/// each tap (so its weights do not see the padding).
template <class M>
AxisTaps<M> axisTaps(M &m, typename M::V g, int64_t size, const Attrs &a) {
  AxisTaps<M> t;
  auto u = unnormalise(m, g, size, a.alignCorners);
  switch (a.mode) {
  case Mode::Nearest:
    t.pos.push_back(m.roundEven(pad(m, u, size, a)));
    break;
  case Mode::Bilinear: {
    u = pad(m, u, size, a);
    auto p0 = m.floor(u);
    auto w1 = m.sub(u, p0);
    t.pos = {p0, m.add(p0, m.c(1.0))};
    t.weight = {m.sub(m.c(1.0), w1), w1};
    break;
  }
  case Mode::Bicubic: {
    auto p0 = m.floor(u);
    for (int k = -1; k <= 2; ++k)
      t.pos.push_back(pad(m, m.add(p0, m.c(double(k))), size, a));
    t.weight = cubicCoefficients(m, m.sub(u, p0));
    break;
  }
  }
  return t;
}

} // namespace lathe::gridsample

#endif // LATHE_IR_GRIDSAMPLERULE_H
