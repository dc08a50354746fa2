// Gradient checks of GridSample (the fixture and its tolerance:
// GradientCheck.h) with respect to the image and to the grid, for every
// mode x padding_mode x align_corners.
//
// The sampled function has kinks in the grid wherever a tap changes: at
// integral pixel coordinates (bilinear, bicubic), half-integral ones
// (nearest rounding), at the clamp bounds 0 and size - 1 (border,
// reflection) and at the reflection axes (0 and size - 1 with
// align_corners, -0.5 and size - 0.5 without). Central differences are only
// valid away from them, so the grids are drawn in pixel coordinates whose
// fractional parts lie in (0.1, 0.4) or (0.6, 0.9), from a few pixels
// before the image to a few past it (so that every padding has work), and
// mapped back to [-1, 1] by the inverse of the op's unnormalisation.
#include "GradientCheck.h"

#include <sstream>

namespace lathe::test {
namespace {

/// Grid coordinates for an axis of `size` pixels, away from every kink.
double safeCoordinate(std::mt19937 &rng, int64_t size, bool align) {
  int64_t whole = std::uniform_int_distribution<int64_t>(-3, size + 1)(rng);
  double frac = std::uniform_real_distribution<double>(0.1, 0.4)(rng);
  if (rng() % 2)
    frac += 0.5;
  double u = double(whole) + frac;
  // Inverse of the op's unnormalisation (ir/GridSampleRule.h); with
  // align_corners a 1-pixel axis maps every grid value to 0.
  if (align)
    return size > 1 ? 2 * u / double(size - 1) - 1 : u;
  return (2 * u + 1) / double(size) - 1;
}

std::vector<double> safeGrid(std::mt19937 &rng, int64_t n, int64_t ho,
                             int64_t wo, int64_t h, int64_t w, bool align) {
  std::vector<double> grid;
  for (int64_t i = 0; i < n * ho * wo; ++i) {
    grid.push_back(safeCoordinate(rng, w, align));
    grid.push_back(safeCoordinate(rng, h, align));
  }
  return grid;
}

std::string gridSample(const std::string &mode, const std::string &padding,
                       bool align, const std::string &image = "x") {
  return "  y = GridSample <mode = \"" + mode + "\", padding_mode = \"" +
         padding + "\", align_corners = " + (align ? "1" : "0") + "> (" +
         image + ", grid)";
}

const char *const kModes[] = {"bilinear", "nearest", "bicubic"};
const char *const kPaddings[] = {"zeros", "border", "reflection"};

TEST_F(GradientCheck, GridSampleEveryMode) {
  // Image and grid gradients of each combination, on a 3x4 image sampled
  // at 2x3 points per batch element (batch 2, two channels).
  uint32_t seed = 500;
  for (const char *mode : kModes)
    for (const char *padding : kPaddings)
      for (bool align : {false, true}) {
        SCOPED_TRACE(std::string(mode) + " " + padding +
                     (align ? " align_corners" : ""));
        std::mt19937 rng(seed++);
        int64_t n = 2, c = 2, h = 3, w = 4, ho = 2, wo = 3;
        In x{"x", {n, c, h, w}};
        In grid{"grid", {n, ho, wo, 2}};
        grid.values = safeGrid(rng, n, ho, wo, h, w, align);
        check(gridSample(mode, padding, align), {x, grid}, seed, 16);
      }
}

TEST_F(GradientCheck, GridSampleShapes) {
  // One-pixel axes (a constant coordinate with align_corners, a degenerate
  // reflection), more samples than pixels (many samples scatter into the
  // same pixel), and a single channel, each mode, padding and alignment in
  // turn.
  struct Case {
    int64_t n, c, h, w, ho, wo;
  };
  const Case cases[] = {{1, 1, 1, 5, 2, 2},
                        {1, 2, 4, 1, 3, 1},
                        {1, 1, 1, 1, 2, 3},
                        {1, 1, 2, 2, 5, 4},
                        {2, 3, 2, 3, 1, 1}};
  uint32_t seed = 600;
  for (const Case &k : cases)
    for (int combo = 0; combo < 18; combo += 5) {
      const char *mode = kModes[combo % 3];
      const char *padding = kPaddings[combo / 3 % 3];
      bool align = combo / 9 != 0;
      std::ostringstream what;
      what << mode << " " << padding << (align ? " align_corners" : "") << " x["
           << k.n << "," << k.c << "," << k.h << "," << k.w << "] grid[" << k.ho
           << "," << k.wo << "]";
      SCOPED_TRACE(what.str());
      std::mt19937 rng(seed++);
      In x{"x", {k.n, k.c, k.h, k.w}};
      In grid{"grid", {k.n, k.ho, k.wo, 2}};
      grid.values = safeGrid(rng, k.n, k.ho, k.wo, k.h, k.w, align);
      check(gridSample(mode, padding, align), {x, grid}, seed, 16);
    }
}

TEST_F(GradientCheck, GridSampleOneOperand) {
  // Only the grid varies (a fixed image, as when warping a constant
  // template), or only the image (a fixed sampling pattern).
  std::mt19937 rng(700);
  for (bool wrtGrid : {true, false})
    for (const char *mode : {"bilinear", "bicubic"}) {
      SCOPED_TRACE(std::string(mode) + (wrtGrid ? " wrt grid" : " wrt x"));
      In x{"x", {1, 2, 3, 3}};
      In grid{"grid", {1, 2, 2, 2}};
      grid.values = safeGrid(rng, 1, 2, 2, 3, 3, false);
      (wrtGrid ? x : grid).wrt = false;
      check(gridSample(mode, "reflection", false), {x, grid}, 701, 16);
    }
}

TEST_F(GradientCheck, GridSampleDownstream) {
  // The gradient flows through ops on both sides: the image is scaled by
  // a weight and the grid is offset (a flow field added to a base grid).
  std::mt19937 rng(800);
  In x{"x", {1, 2, 3, 4}};
  In scale = positive("s", {1, 2, 1, 1});
  In base{"base", {1, 3, 2, 2}};
  base.values = safeGrid(rng, 1, 3, 2, 3, 4, true);
  // A flow of 0 keeps the base grid's safe coordinates; central
  // differences move it by about 1e-6 only.
  In flow{"flow", {1, 3, 2, 2}};
  flow.values = {0.0};
  check("  xs = Mul (x, s)\n"
        "  grid = Add (base, flow)\n" +
            gridSample("bilinear", "border", true, "xs"),
        {x, scale, base, flow}, 801, 16);
}

} // namespace
} // namespace lathe::test
