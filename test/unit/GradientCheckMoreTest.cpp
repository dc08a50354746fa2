// Gradient checks of Einsum, Resize and MaxUnpool (the fixture and its
// tolerance: GradientCheck.h).
#include "GradientCheck.h"

namespace lathe::test {
namespace {

//===----------------------------------------------------------------------===//
// Einsum
//===----------------------------------------------------------------------===//

/// Sizes of the letters of an equation, drawn once per case so that every
/// operand agrees on a label's size.
std::map<char, int64_t> letterSizes(std::mt19937 &rng) {
  std::map<char, int64_t> sizes;
  for (char c = 'a'; c <= 'z'; ++c)
    sizes[c] = std::uniform_int_distribution<int>(1, 4)(rng);
  return sizes;
}

TEST_F(GradientCheck, Einsum) {
  // Contractions, outer products, permutations, sums over a label only one
  // operand has (the gradient broadcasts along it), diagonals and traces
  // (a repeated label: zero off the diagonal), implicit outputs, ellipses
  // and three operands.
  uint32_t seed = 300;
  for (const char *equation :
       {"ij,jk->ik", "bij,bjk->bik", "i,j->ij", "ij->ji", "ij->", "ijk->ki",
        "ij,ik->i", "ii->i", "ii->", "iij,jk->ik", "bii,bi->b", "ij,jk",
        "ij,ij->i", "...ij,...jk->...ik", "ij,jk,kl->il", "i,i->"}) {
    SCOPED_TRACE(equation);
    std::mt19937 rng(seed);
    std::map<char, int64_t> sizes = letterSizes(rng);
    std::string lhs(equation);
    lhs = lhs.substr(0, lhs.find("->"));
    std::vector<In> inputs;
    std::string args;
    size_t start = 0;
    for (int k = 0; start <= lhs.size(); ++k) {
      size_t end = std::min(lhs.find(',', start), lhs.size());
      std::string term = lhs.substr(start, end - start);
      std::vector<int64_t> shape;
      if (term.rfind("...", 0) == 0) {
        shape = {2, 3}; // the ellipsis dims
        term = term.substr(3);
      }
      for (char c : term)
        shape.push_back(sizes[c]);
      std::string name(1, char('a' + k));
      inputs.push_back(In{name, shape});
      args += (args.empty() ? "" : ", ") + name;
      start = end + 1;
    }
    check(std::string("  y = Einsum <equation = \"") + equation + "\"> (" +
              args + ")",
          inputs, seed++, 12);
  }
}

TEST_F(GradientCheck, EinsumSameOperandTwice) {
  // Both operands are one tensor: the two operand gradients add up.
  check("  y = Einsum <equation = \"ij,jk->ik\"> (a, a)", {{"a", {3, 3}}}, 320,
        12);
  check("  y = Einsum <equation = \"ij,ij->\"> (a, a)", {{"a", {2, 4}}}, 321,
        12);
}

//===----------------------------------------------------------------------===//
// Resize
//===----------------------------------------------------------------------===//

TEST_F(GradientCheck, Resize) {
  // The sampling positions and weights depend on the attributes and static
  // shapes only, never on x, so every mode (nearest included) is linear in
  // x and its gradient exact: no kinks to keep away from. Each mode in
  // every coordinate transformation, upsampling and downsampling, with
  // scales or sizes.
  uint32_t seed = 400;
  const char *modes[] = {"nearest", "linear", "cubic"};
  const char *ctms[] = {"half_pixel",           "pytorch_half_pixel",
                        "align_corners",        "asymmetric",
                        "tf_half_pixel_for_nn", "tf_crop_and_resize"};
  for (const char *mode : modes)
    for (const char *ctm : ctms) {
      SCOPED_TRACE(std::string(mode) + " " + ctm);
      std::mt19937 rng(seed);
      int64_t n = std::uniform_int_distribution<int>(1, 2)(rng);
      int64_t h = std::uniform_int_distribution<int>(2, 5)(rng);
      int64_t w = std::uniform_int_distribution<int>(2, 5)(rng);
      std::string attrs = std::string("mode = \"") + mode +
                          "\", coordinate_transformation_mode = \"" + ctm +
                          "\"";
      // tf_crop_and_resize: a roi reaching past the input along W, so
      // that some samples take extrapolation_value.
      bool crop = std::string(ctm) == "tf_crop_and_resize";
      std::string roi = crop ? "  roi = Constant <value = double[8] {0, 0, "
                               "0.1, -0.2, 1, 1, 0.8, 1.1}> ()\n"
                             : "";
      std::string roiArg = crop ? "roi" : "";
      if (crop)
        attrs += ", extrapolation_value = 0.5";
      // Scales: upsample H, downsample W.
      check(roi +
                "  s = Constant <value = float[4] {1, 1, 1.7, 0.6}> ()\n"
                "  y = Resize <" +
                attrs + "> (a, " + roiArg + ", s)",
            {{"a", {n, 2, h, w}}}, seed++);
      // Sizes: downsample H, upsample W, also the batch dim unchanged.
      check(roi + "  z = Constant <value = int64[4] {" + std::to_string(n) +
                ", 2, " + std::to_string(std::max<int64_t>(1, h - 1)) + ", " +
                std::to_string(2 * w + 1) +
                "}> ()\n"
                "  y = Resize <" +
                attrs + "> (a, " + roiArg + ", , z)",
            {{"a", {n, 2, h, w}}}, seed++);
    }
  // Nearest rounding variants, cubic with its own coefficient and with
  // outside taps excluded.
  for (const char *nearest :
       {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"})
    check(std::string("  s = Constant <value = float[4] {1, 1, 2.5, 0.5}> ()\n"
                      "  y = Resize <mode = \"nearest\", nearest_mode = \"") +
              nearest + "\"> (a, , s)",
          {{"a", {1, 1, 3, 6}}}, seed++);
  check("  s = Constant <value = float[4] {1, 1, 1.5, 2.25}> ()\n"
        "  y = Resize <mode = \"cubic\", cubic_coeff_a = -0.5, "
        "exclude_outside = 1> (a, , s)",
        {{"a", {1, 2, 4, 4}}}, seed++);
  // 3-D and a resized channel dim.
  check("  s = Constant <value = float[3] {1.5, 2, 0.5}> ()\n"
        "  y = Resize <mode = \"linear\"> (a, , s)",
        {{"a", {2, 3, 4}}}, seed++);
  // Legacy Upsample (opset 9): asymmetric nearest that truncates.
  check("  s = Constant <value = float[4] {1, 1, 2, 3}> ()\n"
        "  y = Upsample <mode = \"nearest\"> (a, s)",
        {{"a", {1, 2, 2, 3}}}, seed++, 9);
}

//===----------------------------------------------------------------------===//
// MaxUnpool
//===----------------------------------------------------------------------===//

/// Flat indices into an [n, c, 2h, 2w] tensor, one distinct position in
/// each 2x2 window of input element (n, c, i, j), as a 2x2 max pool with
/// stride 2 would produce them.
std::vector<double> windowIndices(std::mt19937 &rng, int64_t n, int64_t c,
                                  int64_t h, int64_t w) {
  std::vector<double> idx;
  for (int64_t b = 0; b < n * c; ++b)
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j)
        idx.push_back(double((b * 2 * h + 2 * i + rng() % 2) * 2 * w + 2 * j +
                             rng() % 2));
  return idx;
}

TEST_F(GradientCheck, MaxUnpool) {
  uint32_t seed = 500;
  for (int k = 0; k < 3; ++k) {
    std::mt19937 rng(seed);
    int64_t n = 1 + rng() % 2, c = 1 + rng() % 3, h = 1 + rng() % 3,
            w = 1 + rng() % 3;
    std::vector<int64_t> shape{n, c, h, w};
    In indices{"i", shape, In::Int, 0, 0, true, windowIndices(rng, n, c, h, w)};
    check("  y = MaxUnpool <kernel_shape = [2, 2], strides = [2, 2]> (a, i)",
          {{"a", shape}, indices}, seed++, 11);
    // An output_shape larger than the unpooled block: zeros around it.
    check("  o = Constant <value = int64[4] {" + std::to_string(n) + ", " +
              std::to_string(c) + ", " + std::to_string(2 * h + 1) + ", " +
              std::to_string(2 * w + 2) +
              "}> ()\n"
              "  y = MaxUnpool <kernel_shape = [2, 2], strides = [2, 2]> (a, "
              "i, o)",
          {{"a", shape}, indices}, seed++, 11);
  }
}

TEST_F(GradientCheck, MaxPoolThenMaxUnpool) {
  // The pair of an encoder-decoder (SegNet): each window's maximum goes
  // back to where it came from, the rest of the window gets zero. Random
  // inputs keep the window maxima apart, away from the kinks at ties.
  check("  p, i = MaxPool <kernel_shape = [2, 2], strides = [2, 2]> (a)\n"
        "  y = MaxUnpool <kernel_shape = [2, 2], strides = [2, 2]> (p, i)",
        {{"a", {2, 3, 4, 6}}}, 510, 11);
}

} // namespace
} // namespace lathe::test
