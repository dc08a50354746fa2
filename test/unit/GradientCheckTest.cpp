// Gradient checks of the elementwise, activation, linear-algebra, shape and
// reduction ops (the fixture and its tolerance: GradientCheck.h).
#include "GradientCheck.h"

#include <functional>
#include <sstream>

namespace lathe::test {
namespace {

//===----------------------------------------------------------------------===//
// Elementwise arithmetic with broadcasting
//===----------------------------------------------------------------------===//

TEST_F(GradientCheck, AddSubMulDiv) {
  uint32_t seed = 10;
  for (const char *op : {"Add", "Sub", "Mul"})
    for (const auto &[a, b] : binaryShapes(seed++))
      check(std::string("  y = ") + op + " (a, b)", {{"a", a}, {"b", b}}, seed);
  // Divisors kept away from zero.
  for (const auto &[a, b] : binaryShapes(seed++))
    check("  y = Div (a, b)", {{"a", a}, positive("b", b)}, seed);
}

TEST_F(GradientCheck, Pow) {
  uint32_t seed = 20;
  for (const auto &[a, b] : binaryShapes(seed++))
    check("  y = Pow (a, b)", {positive("a", a), {"b", b}}, seed);
  // An integer exponent (Pow-12+ mixed types): only the base differentiates.
  check("  y = Pow (a, b)",
        {positive("a", {2, 3}), In{"b", {3}, In::Int, -2, 3}});
}

TEST_F(GradientCheck, MaxMin) {
  uint32_t seed = 30;
  for (const char *op : {"Max", "Min"})
    for (const auto &[a, b] : binaryShapes(seed++))
      check(std::string("  y = ") + op + " (a, b)", {{"a", a}, {"b", b}}, seed);
}

TEST_F(GradientCheck, MaxMinTiesSplitEvenly) {
  // On a tie each operand gets half (ONNX Runtime's convention), which is
  // also what the central difference measures there: (max(x+h, x) -
  // max(x-h, x)) / 2h = 1/2.
  std::vector<double> same = {0.25, -1.5, 0.75, 1.25, -0.5, 2.0};
  for (const char *op : {"Max", "Min"})
    check(std::string("  y = ") + op + " (a, b)",
          {In{"a", {2, 3}, In::Float, 0, 0, true, same},
           In{"b", {2, 3}, In::Float, 0, 0, true, same}});
}

TEST_F(GradientCheck, WhereAndCast) {
  uint32_t seed = 40;
  check("  y = Where (c, a, b)",
        {In{"c", {2, 3}, In::Bool}, {"a", {2, 3}}, {"b", {2, 3}}}, seed++);
  check("  y = Where (c, a, b)",
        {In{"c", {3, 1}, In::Bool}, {"a", {4}}, {"b", {2, 3, 1}}}, seed++);
  check("  c = Cast <to = 11> (a)\n  y = Mul (c, c)", {{"a", {2, 3}}}, seed);
}

TEST_F(GradientCheck, CastFromFloat32) {
  // loss = sum(double(x) * w): the gradient is w rounded to float32.
  std::string text = "<ir_version: 8, opset_import: [\"\" : 13]>\n"
                     "agraph (float[2,3] x, double[2,3] w) => (double loss) {\n"
                     "  c = Cast <to = 11> (x)\n"
                     "  p = Mul (c, w)\n"
                     "  loss = ReduceSum <keepdims = 0> (p)\n}\n";
  SessionOptions options;
  options.gradients = GradientRequest{"loss", {"x"}};
  auto s = compile("cast.onnxtxt", text, options);
  ASSERT_TRUE(s);
  std::mt19937 rng(7);
  Tensor x = randomTensor(rng, {2, 3});
  Tensor w(DType::F64, {2, 3});
  for (int64_t i = 0; i < 6; ++i)
    w.as<double>()[i] = 0.1 * (i + 1) - 0.35;
  std::vector<Tensor> out = run(*s, {x, w});
  ASSERT_EQ(out.size(), 2u);
  ASSERT_EQ(out[1].dtype, DType::F32);
  for (int64_t i = 0; i < 6; ++i)
    EXPECT_EQ(out[1].as<float>()[i], static_cast<float>(w.as<double>()[i]));
}

//===----------------------------------------------------------------------===//
// Unary math and activations
//===----------------------------------------------------------------------===//

TEST_F(GradientCheck, UnaryMath) {
  uint32_t seed = 50;
  std::mt19937 rng(seed);
  for (const char *op : {"Neg", "Abs", "Exp", "Tanh", "Sigmoid", "Relu",
                         "Softplus", "Erf", "Identity"})
    check(std::string("  y = ") + op + " (x)", {{"x", randomShape(rng, 0, 3)}},
          seed++);
  for (const char *op : {"Log", "Sqrt", "Reciprocal"})
    check(std::string("  y = ") + op + " (x)",
          {positive("x", randomShape(rng, 0, 3))}, seed++);
  for (const char *op : {"Sin", "Cos", "Softsign"})
    check(std::string("  y = ") + op + " (x)", {{"x", {2, 3}}}, seed++);
  // Piecewise constant: zero gradient (the finite difference agrees away
  // from the jumps); the Mul keeps x on the path.
  for (const char *op : {"Floor", "Ceil", "Round", "Sign"})
    check(std::string("  f = ") + op + " (x)\n  y = Mul (f, x)",
          {{"x", {2, 3}, In::Float, -3.3, 3.3}}, seed++);
  // Chains: every op's gradient feeds the next one's.
  check("  a = Tanh (x)\n  b = Exp (a)\n  c = Sigmoid (b)\n  y = Log (c)",
        {{"x", {3, 4}}}, seed++);
}

TEST_F(GradientCheck, ParametricActivations) {
  uint32_t seed = 60;
  for (const char *alpha : {"0.01", "0.3"})
    check(std::string("  y = LeakyRelu <alpha = ") + alpha + "> (x)",
          {{"x", {3, 4}}}, seed++);
  for (const char *alpha : {"1.0", "0.5"})
    check(std::string("  y = Elu <alpha = ") + alpha + "> (x)", {{"x", {3, 4}}},
          seed++);
  check("  y = Selu <alpha = 1.5, gamma = 1.1> (x)", {{"x", {3, 4}}}, seed++);
  check("  y = HardSigmoid <alpha = 0.4, beta = 0.3> (x)",
        {{"x", {3, 4}, In::Float, -4, 4}}, seed++);
  // Inference-mode Dropout is the identity.
  check("  y = Dropout <seed = 3> (x)", {{"x", {2, 5}}}, seed++);
}

TEST_F(GradientCheck, SoftmaxLogSoftmax) {
  uint32_t seed = 70;
  for (const char *op : {"Softmax", "LogSoftmax"})
    for (int axis : {-1, 0, 1})
      check(std::string("  y = ") + op + " <axis = " + std::to_string(axis) +
                "> (x)",
            {{"x", {3, 4, 2}}}, seed++);
  // Opset 11's coerce-to-2-D semantics (imported as reshapes around the op).
  check("  y = Softmax <axis = 1> (x)", {{"x", {2, 3, 4}}}, seed++, 11);
}

//===----------------------------------------------------------------------===//
// MatMul and Gemm
//===----------------------------------------------------------------------===//

TEST_F(GradientCheck, MatMul) {
  uint32_t seed = 80;
  std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> shapes = {
      {{3, 4}, {4, 5}},
      {{4}, {4, 5}},
      {{3, 4}, {4}},
      {{4}, {4}},
      {{2, 3, 4}, {4, 5}},
      {{4}, {2, 4, 5}},
      {{2, 1, 3, 4}, {5, 4, 2}},
      {{3, 4}, {2, 4, 5}},
      {{2, 3, 4}, {2, 4, 3}},
  };
  for (const auto &[a, b] : shapes)
    check("  y = MatMul (a, b)", {{"a", a}, {"b", b}}, seed++);
}

TEST_F(GradientCheck, Gemm) {
  uint32_t seed = 90;
  const int64_t M = 3, K = 4, N = 2;
  for (int transA : {0, 1})
    for (int transB : {0, 1}) {
      std::vector<int64_t> a =
          transA ? std::vector<int64_t>{K, M} : std::vector<int64_t>{M, K};
      std::vector<int64_t> b =
          transB ? std::vector<int64_t>{N, K} : std::vector<int64_t>{K, N};
      std::string attrs = "<transA = " + std::to_string(transA) +
                          ", transB = " + std::to_string(transB);
      check("  y = Gemm " + attrs + "> (a, b)", {{"a", a}, {"b", b}}, seed++);
      check("  y = Gemm " + attrs + ", alpha = 0.5, beta = 2.0> (a, b, c)",
            {{"a", a}, {"b", b}, {"c", {M, N}}}, seed++);
    }
  // C broadcast to [M, N] from every shape ONNX allows.
  for (std::vector<int64_t> c :
       {std::vector<int64_t>{N}, std::vector<int64_t>{1, N},
        std::vector<int64_t>{M, 1}, std::vector<int64_t>{}})
    check("  y = Gemm <beta = 0.75> (a, b, c)",
          {{"a", {M, K}}, {"b", {K, N}}, {"c", c}}, seed++);
}

//===----------------------------------------------------------------------===//
// Shape and data movement
//===----------------------------------------------------------------------===//

TEST_F(GradientCheck, ReshapeFlattenTranspose) {
  uint32_t seed = 100;
  check("  s = Constant <value = int64[2] {4, -1}> ()\n  y = Reshape (x, s)",
        {{"x", {2, 3, 2}}}, seed++);
  check("  ax = Constant <value = int64[1] {1}> ()\n"
        "  u = Unsqueeze (x, ax)\n  y = Squeeze (u, ax)",
        {{"x", {2, 3}}}, seed++);
  for (int axis : {0, 1, 2, -1})
    check("  y = Flatten <axis = " + std::to_string(axis) + "> (x)",
          {{"x", {2, 3, 2}}}, seed++);
  for (const char *perm : {"[1, 0, 2]", "[2, 0, 1]", "[0, 2, 1]"})
    check(std::string("  y = Transpose <perm = ") + perm + "> (x)",
          {{"x", {2, 3, 4}}}, seed++);
}

TEST_F(GradientCheck, ExpandConcat) {
  uint32_t seed = 110;
  check("  s = Constant <value = int64[3] {2, 3, 4}> ()\n  y = Expand (x, s)",
        {{"x", {3, 1}}}, seed++);
  check("  s = Constant <value = int64[2] {3, 1}> ()\n  y = Expand (x, s)",
        {{"x", {2, 1, 4}}}, seed++);
  for (int axis : {0, 1, -1})
    check("  y = Concat <axis = " + std::to_string(axis) + "> (a, b, a)",
          {{"a", {2, 3, 2}}, {"b", {2, 3, 2}}}, seed++);
  check("  y = Concat <axis = 1> (a, b)", {{"a", {2, 1}}, {"b", {2, 3}}},
        seed++);
}

TEST_F(GradientCheck, Slice) {
  uint32_t seed = 120;
  auto slice = [](const std::string &starts, const std::string &ends,
                  const std::string &axes, const std::string &steps) {
    auto n = std::to_string(std::count(starts.begin(), starts.end(), ',') + 1);
    return "  st = Constant <value = int64[" + n + "] {" + starts +
           "}> ()\n  en = Constant <value = int64[" + n + "] {" + ends +
           "}> ()\n  ax = Constant <value = int64[" + n + "] {" + axes +
           "}> ()\n  sp = Constant <value = int64[" + n + "] {" + steps +
           "}> ()\n  y = Slice (x, st, en, ax, sp)";
  };
  std::vector<In> x = {{"x", {5, 7, 3}}};
  check(slice("1, 2", "4, 6", "0, 1", "1, 1"), x, seed++);
  check(slice("0, 1", "5, 7", "0, 1", "2, 3"), x, seed++);
  check(slice("4, -1", "0, -8", "0, 1", "-1, -2"), x, seed++);
  check(slice("-1, 6, 0", "-6, 0, 3", "0, 1, 2", "-2, -3, 2"), x, seed++);
  check(slice("1", "100", "2", "1"), x, seed++);
}

TEST_F(GradientCheck, Gather) {
  uint32_t seed = 130;
  // Indices with repeats (their gradients add up) and negative ones.
  In scalar{"i", {}, In::Int, 0, 0, false, {-2}};
  In vec{"i", {4}, In::Int, 0, 0, false, {0, 2, -1, 0}};
  In mat{"i", {2, 3}, In::Int, 0, 0, false, {1, 1, 0, -3, 2, 1}};
  for (int axis : {0, 1, -1})
    for (const In &idx : {scalar, vec, mat})
      check("  y = Gather <axis = " + std::to_string(axis) + "> (x, i)",
            {{"x", {3, 4, 3}}, idx}, seed++);
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

TEST_F(GradientCheck, ReduceSumMean) {
  uint32_t seed = 140;
  for (int keep : {0, 1}) {
    std::string k = std::to_string(keep);
    check("  ax = Constant <value = int64[2] {0, -1}> ()\n"
          "  y = ReduceSum <keepdims = " +
              k + "> (x, ax)",
          {{"x", {2, 3, 4}}}, seed++);
    check("  y = ReduceSum <keepdims = " + k + "> (x)", {{"x", {2, 3}}},
          seed++);
    check("  y = ReduceMean <keepdims = " + k + ", axes = [1]> (x)",
          {{"x", {2, 3, 4}}}, seed++);
    check("  y = ReduceMean <keepdims = " + k + "> (x)", {{"x", {3, 2}}},
          seed++);
  }
}

TEST_F(GradientCheck, OtherReductions) {
  uint32_t seed = 150;
  for (const char *op : {"ReduceSumSquare", "ReduceL2", "ReduceLogSumExp"})
    for (int keep : {0, 1})
      check(std::string("  y = ") + op +
                " <keepdims = " + std::to_string(keep) + ", axes = [0, 2]> (x)",
            {{"x", {2, 3, 4}}}, seed++);
  check("  y = GlobalAveragePool (x)", {{"x", {2, 3, 4, 5}}}, seed++);
  for (const char *op : {"ReduceMax", "ReduceMin"}) {
    check(std::string("  y = ") + op + " <keepdims = 0, axes = [1]> (x)",
          {{"x", {2, 3, 4}}}, seed++);
    check(std::string("  y = ") + op + " <keepdims = 1> (x)", {{"x", {3, 4}}},
          seed++);
  }
}

TEST_F(GradientCheck, Pad) {
  uint32_t seed = 170;
  check("  p = Constant <value = int64[4] {1, 0, 2, 3}> ()\n"
        "  y = Pad (x, p, v)",
        {{"x", {2, 3}}, {"v", {}}}, seed++);
  // Negative pads crop.
  check("  p = Constant <value = int64[6] {0, -1, 2, 1, 0, -2}> ()\n"
        "  y = Pad (x, p)",
        {{"x", {3, 4, 5}}}, seed++);
}

TEST_F(GradientCheck, Tile) {
  uint32_t seed = 160;
  check("  r = Constant <value = int64[3] {2, 1, 3}> ()\n  y = Tile (x, r)",
        {{"x", {2, 3, 2}}}, seed++);
  check("  r = Constant <value = int64[2] {3, 2}> ()\n  y = Tile (x, r)",
        {{"x", {1, 4}}}, seed++);
}

//===----------------------------------------------------------------------===//
// The pass: fan-out, unused inputs, non-float paths
//===----------------------------------------------------------------------===//

TEST_F(GradientCheck, FanOutAndSharedSubgraphs) {
  // x reaches y along four paths; b is used twice by one op.
  check("  a = Mul (x, x)\n  t = Tanh (x)\n  s = Add (a, t)\n"
        "  b = Sigmoid (s)\n  m = MatMul (b, w)\n  q = Mul (b, b)\n"
        "  one = Constant <value = int64[1] {1}> ()\n"
        "  r = ReduceSum <keepdims = 1> (q, one)\n"
        "  y = Add (m, r)",
        {{"x", {3, 4}}, {"w", {4, 4}}});
}

TEST_F(GradientCheck, NonFloatPathsStopTheGradient) {
  // The condition derives from x but carries no gradient; the result
  // still depends on x through both branches.
  check("  z = Constant <value = double {0.0}> ()\n"
        "  c = Greater (x, z)\n  e = Exp (x)\n  n = Neg (x)\n"
        "  y = Where (c, e, n)",
        {{"x", {2, 5}}});
}

TEST_F(GradientCheck, UnusedInputGetsZeroGradient) {
  std::string text = "<ir_version: 8, opset_import: [\"\" : 13]>\n"
                     "agraph (double[3] x, double[2] u) => (double loss) {\n"
                     "  e = Exp (x)\n"
                     "  loss = ReduceSum <keepdims = 0> (e)\n}\n";
  SessionOptions options;
  options.gradients = GradientRequest{"loss", {"u", "x"}};
  auto s = compile("unused.onnxtxt", text, options);
  ASSERT_TRUE(s);
  ASSERT_EQ(s->outputs().size(), 3u);
  EXPECT_EQ(s->outputs()[1].name, "grad_u");
  EXPECT_EQ(s->outputs()[2].name, "grad_x");
  Tensor x(DType::F64, {3}), u(DType::F64, {2});
  for (int i = 0; i < 3; ++i)
    x.as<double>()[i] = 0.5 * i;
  u.as<double>()[0] = u.as<double>()[1] = 7;
  std::vector<Tensor> out = run(*s, {x, u});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[1].as<double>()[0], 0.0);
  EXPECT_EQ(out[1].as<double>()[1], 0.0);
  for (int i = 0; i < 3; ++i)
    EXPECT_DOUBLE_EQ(out[2].as<double>()[i], std::exp(0.5 * i));
}

TEST_F(GradientCheck, Float32ModelAtOptLevels) {
  // The gradient function goes through the whole pipeline (folding, fusion,
  // planning); -O0 and -O1 must agree.
  std::string text = "<ir_version: 8, opset_import: [\"\" : 13]>\n"
                     "agraph (float[4,3] x, float[3,2] w, float[2] b) => "
                     "(float loss) {\n"
                     "  h = Gemm (x, w, b)\n  r = Relu (h)\n"
                     "  s = Softmax <axis = 1> (r)\n"
                     "  loss = ReduceMean <keepdims = 0> (s)\n}\n";
  std::mt19937 rng(3);
  std::vector<Tensor> in = {randomTensor(rng, {4, 3}),
                            randomTensor(rng, {3, 2}), randomTensor(rng, {2})};
  std::vector<std::vector<Tensor>> results;
  for (int opt : {0, 1}) {
    SessionOptions options;
    options.optLevel = opt;
    options.gradients = GradientRequest{"loss", {"x", "w", "b"}};
    auto s = compile("f32_" + std::to_string(opt) + ".onnxtxt", text, options);
    ASSERT_TRUE(s);
    results.push_back(run(*s, in));
    ASSERT_EQ(results.back().size(), 4u);
  }
  for (size_t i = 0; i < 4; ++i)
    expectClose(values(results[0][i]), values(results[1][i]), 1e-5f);
}

TEST_F(GradientCheck, Errors) {
  // Hardmax: an op without a VJP (yet).
  std::string model = "<ir_version: 8, opset_import: [\"\" : 16]>\n"
                      "agraph (float[1,1,4,4] x, float[1,2,2,2] w) => "
                      "(float z, int64 n) {\n"
                      "  c = Hardmax (x)\n"
                      "  z = ReduceSum <keepdims = 0> (c)\n"
                      "  n = Constant <value = int64 {1}> ()\n}\n";
  std::string path = write("nograd.onnxtxt", model);
  auto expectError = [&](GradientRequest request, const std::string &what) {
    SessionOptions options;
    options.gradients = request;
    std::string err;
    EXPECT_FALSE(Session::compile(path, options, &err));
    EXPECT_NE(err.find(what), std::string::npos) << err;
  };
  expectError({"z", {"x"}},
              "node 'Hardmax#0': no gradient for lathe.hardmax yet");
  expectError({"q", {"x"}}, "gradient of 'q': the model has no such output "
                            "(outputs: z, n)");
  expectError({"n", {"x"}}, "the output is int64, not a float tensor");
  expectError({"z", {"v"}}, "gradient with respect to 'v': the model has no "
                            "such input (inputs: x, w)");
  expectError({"z", {"x", "x"}}, "the input is named twice");
  expectError({"z", {}}, "no input to differentiate");
}

} // namespace
} // namespace lathe::test
