// Gradient checks of the trigonometric and hyperbolic functions, the
// remaining activations, Mod, the product/L1/log-sum reductions, CumSum,
// TopK, the gathers and scatters, Trilu, ReverseSequence and training
// Dropout (the fixture and its tolerance: GradientCheck.h).
#include "GradientCheck.h"

namespace lathe::test {
namespace {

TEST_F(GradientCheck, TrainingDropout) {
  // A fixed mask per compilation (no step): the gradient is the mask
  // scaled by 1 / (1 - ratio), and 1 with training off.
  check("  r = Constant <value = double {0.4}> ()\n"
        "  t = Constant <value = bool {1}> ()\n"
        "  y = Dropout (a, r, t)",
        {{"a", {3, 7}}});
  check("  r = Constant <value = double {0.4}> ()\n"
        "  y = Dropout (a, r, t)",
        {{"a", {3, 7}}, In{"t", {}, In::Bool, 0, 0, true, {0}}});
}

//===----------------------------------------------------------------------===//
// Trigonometric and hyperbolic functions
//===----------------------------------------------------------------------===//

TEST_F(GradientCheck, TrigonometricAndHyperbolic) {
  struct Case {
    const char *op;
    double lo, hi; // inside the domain, away from the poles
  };
  uint32_t seed = 100;
  for (Case c : {Case{"Tan", -1.2, 1.2}, Case{"Asin", -0.8, 0.8},
                 Case{"Acos", -0.8, 0.8}, Case{"Atan", -3, 3},
                 Case{"Sinh", -2, 2}, Case{"Cosh", -2, 2}, Case{"Asinh", -3, 3},
                 Case{"Acosh", 1.2, 3}, Case{"Atanh", -0.8, 0.8}}) {
    std::mt19937 rng(seed);
    check(std::string("  y = ") + c.op + " (a)",
          {In{"a", randomShape(rng, 0, 3), In::Float, c.lo, c.hi}}, seed++);
  }
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

TEST_F(GradientCheck, PiecewiseActivations) {
  check("  y = Celu <alpha = 1.5> (a)", {In{"a", {3, 5}, In::Float, -3, 3}},
        110);
  check("  y = HardSwish (a)", {In{"a", {4, 6}, In::Float, -5, 5}}, 111, 14);
  check("  y = ThresholdedRelu <alpha = 0.5> (a)",
        {In{"a", {3, 5}, In::Float, -2, 2}}, 112);
  check("  y = Shrink <bias = 0.3, lambd = 0.5> (a)",
        {In{"a", {3, 5}, In::Float, -2, 2}}, 113);
}

TEST_F(GradientCheck, PRelu) {
  // The slope broadcasts to x (unidirectionally); its gradient is summed
  // back.
  uint32_t seed = 120;
  for (std::vector<int64_t> slope :
       {std::vector<int64_t>{2, 3, 4}, {4}, {3, 1}, {1}, {}})
    check("  y = PRelu (a, s)",
          {{"a", {2, 3, 4}}, In{"s", slope, In::Float, 0.1, 0.9}}, seed++);
}

TEST_F(GradientCheck, ModFmod) {
  // d/da = 1, d/db = -trunc(a / b), with either sign of the divisor.
  uint32_t seed = 130;
  check("  y = Mod <fmod = 1> (a, b)",
        {In{"a", {3, 4}, In::Float, -5, 5}, In{"b", {3, 4}, In::Float, 0.7, 2}},
        seed++);
  check(
      "  y = Mod <fmod = 1> (a, b)",
      {In{"a", {2, 3, 4}, In::Float, -5, 5}, In{"b", {4}, In::Float, -2, -0.7}},
      seed++);
  check("  y = Mod <fmod = 1> (a, b)",
        {In{"a", {3, 1}, In::Float, -5, 5}, In{"b", {1, 4}, In::Float, 0.7, 2}},
        seed++);
}

//===----------------------------------------------------------------------===//
// Reductions and scans
//===----------------------------------------------------------------------===//

TEST_F(GradientCheck, ReduceProdL1LogSum) {
  uint32_t seed = 140;
  for (const char *attrs :
       {"<axes = [1], keepdims = 0>", "<axes = [0, 2], keepdims = 1>",
        "<keepdims = 0>"}) {
    check(std::string("  y = ReduceProd ") + attrs + " (a)",
          {In{"a", {2, 3, 4}, In::Float, 0.5, 1.5}}, seed++);
    check(std::string("  y = ReduceL1 ") + attrs + " (a)", {{"a", {2, 3, 4}}},
          seed++);
    check(std::string("  y = ReduceLogSum ") + attrs + " (a)",
          {positive("a", {2, 3, 4})}, seed++);
  }
}

TEST_F(GradientCheck, ReduceProdWithZeros) {
  // Rows with no zero, one zero and two zeros: the product is linear in
  // each element, so the central difference is exact at 0 too.
  check("  y = ReduceProd <axes = [1], keepdims = 0> (a)",
        {In{"a",
            {3, 4},
            In::Float,
            0,
            0,
            true,
            {0.5, 1.5, -2.0, 0.75, 0.0, 1.25, -0.5, 2.0, 0.0, 3.0, 0.0, 1.5}}});
}

TEST_F(GradientCheck, CumSum) {
  uint32_t seed = 150;
  for (const char *attrs :
       {"", "<exclusive = 1>", "<reverse = 1>", "<exclusive = 1, reverse = 1>"})
    for (int axis : {0, -1})
      check("  ax = Constant <value = int64 {" + std::to_string(axis) +
                "}> ()\n  y = CumSum " + attrs + " (a, ax)",
            {{"a", {3, 4}}}, seed++);
}

TEST_F(GradientCheck, TopKValues) {
  // Random values have no ties; the indices are not differentiable.
  check("  k = Constant <value = int64[1] {2}> ()\n"
        "  y, i = TopK <axis = 1> (a, k)",
        {{"a", {3, 5}}}, 160);
  check("  k = Constant <value = int64[1] {3}> ()\n"
        "  y, i = TopK <axis = 0, largest = 0> (a, k)",
        {{"a", {4, 2, 3}}}, 161);
}

//===----------------------------------------------------------------------===//
// Gathers and scatters
//===----------------------------------------------------------------------===//

TEST_F(GradientCheck, GatherElements) {
  // Random indices repeat (their gradients add up) and may be negative.
  check("  y = GatherElements <axis = 1> (a, i)",
        {{"a", {3, 4}}, In{"i", {3, 5}, In::Int, -4, 3}}, 170);
  check("  y = GatherElements <axis = 0> (a, i)",
        {{"a", {3, 2, 2}}, In{"i", {4, 2, 2}, In::Int, -3, 2}}, 171);
}

TEST_F(GradientCheck, GatherND) {
  check("  y = GatherND (a, i)",
        {{"a", {2, 3, 4}},
         In{"i", {3, 2}, In::Int, 0, 0, true, {1, 2, 0, -1, 1, 2}}},
        180);
  // batch_dims = 1: the tuples address data[b] for their own batch b.
  check("  y = GatherND <batch_dims = 1> (a, i)",
        {{"a", {2, 3, 4}}, In{"i", {2, 3, 1}, In::Int, -3, 2}}, 181);
  check("  y = GatherND <batch_dims = 1> (a, i)",
        {{"a", {2, 3, 4}}, In{"i", {2, 2}, In::Int, 0, 2}}, 182);
}

TEST_F(GradientCheck, ScatterElements) {
  // reduction none with distinct targets per column; add with repeats.
  check("  y = ScatterElements <axis = 0> (a, i, u)",
        {{"a", {3, 4}},
         In{"i", {2, 4}, In::Int, 0, 0, true, {0, 1, 2, 0, 2, 0, 1, 1}},
         {"u", {2, 4}}},
        190, 16);
  check("  y = ScatterElements <axis = 1, reduction = \"add\"> (a, i, u)",
        {{"a", {3, 4}}, In{"i", {3, 3}, In::Int, -4, 3}, {"u", {3, 3}}}, 191,
        16);
}

TEST_F(GradientCheck, ScatterND) {
  check("  y = ScatterND (a, i, u)",
        {{"a", {4, 3}},
         In{"i", {2, 1}, In::Int, 0, 0, true, {3, 1}},
         {"u", {2, 3}}},
        200, 16);
  check("  y = ScatterND <reduction = \"add\"> (a, i, u)",
        {{"a", {4, 3}},
         In{"i", {3, 2}, In::Int, 0, 0, true, {1, 1, 1, 1, 3, 0}},
         {"u", {3}}},
        201, 16);
}

TEST_F(GradientCheck, ScatterMulHasNoGradient) {
  std::string text = "<ir_version: 8, opset_import: [\"\" : 16]>\n"
                     "agraph (double[3] a, int64[1] i, double[1] u) => "
                     "(double l) {\n"
                     "  y = ScatterElements <reduction = \"mul\"> (a, i, u)\n"
                     "  l = ReduceSum <keepdims = 0> (y)\n}\n";
  SessionOptions options;
  options.gradients = GradientRequest{"l", {"a"}};
  std::string err;
  auto s = Session::compile(write("mul.onnxtxt", text), options, &err);
  EXPECT_FALSE(s);
  EXPECT_NE(err.find("with reduction mul"), std::string::npos) << err;
}

//===----------------------------------------------------------------------===//
// Trilu and ReverseSequence
//===----------------------------------------------------------------------===//

TEST_F(GradientCheck, Trilu) {
  check("  y = Trilu (a)", {{"a", {2, 3, 4}}}, 210, 14);
  check(
      "  k = Constant <value = int64 {-1}> ()\n  y = Trilu <upper = 0> (a, k)",
      {{"a", {4, 3}}}, 211, 14);
}

TEST_F(GradientCheck, ReverseSequence) {
  check("  y = ReverseSequence <batch_axis = 1, time_axis = 0> (a, s)",
        {{"a", {4, 3, 2}}, In{"s", {3}, In::Int, 0, 0, true, {4, 1, 3}}}, 220,
        10);
  check("  y = ReverseSequence <batch_axis = 0, time_axis = 1> (a, s)",
        {{"a", {2, 5}}, In{"s", {2}, In::Int, 0, 0, true, {2, 5}}}, 221, 10);
}

} // namespace
} // namespace lathe::test
