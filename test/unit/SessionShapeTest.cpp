// Shape and data-movement ops end to end, and the compile-time evaluator
// (frontend/ConstantEval.cpp): a node over constants must give bit for bit
// what the compiled node gives over the same values as run-time inputs.
#include "SessionTestUtils.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

using lathe::DType;
using lathe::Tensor;
using namespace lathe::test;

namespace {

template <typename T>
Tensor tensorOf(DType dtype, std::vector<int64_t> shape,
                const std::vector<T> &values) {
  Tensor t(dtype, std::move(shape));
  std::memcpy(t.data.data(), values.data(), t.bytes());
  return t;
}

/// "{v0, v1, ...}" with enough digits to read back exactly.
template <typename T> std::string literalOf(const std::vector<T> &values) {
  std::string s = "{";
  char buf[40];
  for (size_t i = 0; i < values.size(); ++i) {
    if constexpr (std::is_floating_point_v<T>)
      std::snprintf(buf, sizeof(buf), "%s%.17g", i ? ", " : "",
                    static_cast<double>(values[i]));
    else
      std::snprintf(buf, sizeof(buf), "%s%lld", i ? ", " : "",
                    static_cast<long long>(values[i]));
    s += buf;
  }
  return s + "}";
}

/// One node of a fold-versus-compile check: ONNX text over inputs $a and $b
/// (replaced by run-time inputs, then by initializers) and its result type.
struct FoldCase {
  std::string node, resultType;
};

class SessionShapeTest : public SessionTest {
protected:
  /// Each case over `a` and `b` as run-time inputs and as initializers
  /// (evaluated at import): the two results must be equal byte for byte.
  template <typename T>
  void checkFolded(const std::string &onnxType, DType dtype,
                   const std::vector<T> &a, const std::vector<T> &b,
                   const std::vector<FoldCase> &cases) {
    std::string n = std::to_string(a.size());
    std::string t = onnxType + "[" + n + "]";
    std::string outputs, body;
    auto instantiate = [](std::string node, const char *x, const char *y) {
      for (size_t p; (p = node.find("$a")) != std::string::npos;)
        node.replace(p, 2, x);
      for (size_t p; (p = node.find("$b")) != std::string::npos;)
        node.replace(p, 2, y);
      return node;
    };
    for (size_t i = 0; i < cases.size(); ++i) {
      std::string r = "r" + std::to_string(i), c = "c" + std::to_string(i);
      std::string rt = cases[i].resultType + "[" + n + "]";
      outputs += (i ? ", " : "") + rt + " " + r + ", " + rt + " " + c;
      body += "  " + r + " = " + instantiate(cases[i].node, "a", "b") + "\n";
      body += "  " + c + " = " + instantiate(cases[i].node, "ca", "cb") + "\n";
    }
    std::string text = "<ir_version: 8, opset_import: [\"\" : 13]>\n"
                       "agraph (" +
                       t + " a, " + t + " b, " + t + " ca = " + literalOf(a) +
                       ", " + t + " cb = " + literalOf(b) + ") => (" + outputs +
                       ") {\n" + body + "}\n";
    auto s = compile("fold_" + onnxType + ".onnxtxt", text);
    ASSERT_TRUE(s) << text;
    int64_t size = static_cast<int64_t>(a.size());
    auto out =
        run(*s, {tensorOf(dtype, {size}, a), tensorOf(dtype, {size}, b)});
    ASSERT_EQ(out.size(), 2 * cases.size());
    for (size_t i = 0; i < cases.size(); ++i) {
      ASSERT_EQ(out[2 * i].bytes(), out[2 * i + 1].bytes());
      EXPECT_EQ(std::memcmp(out[2 * i].data.data(), out[2 * i + 1].data.data(),
                            out[2 * i].bytes()),
                0)
          << cases[i].node << " over " << onnxType
          << " differs between the compiled and the folded node";
    }
  }
};

TEST_F(SessionShapeTest, FoldedArithmeticMatchesCompiledBitForBit) {
  // Wrapping products and sums, negative quotients (truncation), and float
  // results that need rounding.
  auto arithmetic = [](const std::string &type) {
    return std::vector<FoldCase>{{"Add ($a, $b)", type},
                                 {"Sub ($a, $b)", type},
                                 {"Mul ($a, $b)", type},
                                 {"Div ($a, $b)", type}};
  };
  checkFolded<int32_t>("int32", DType::I32,
                       {2147483000, -2147483000, 123456, -7, 13, 5, 99999, -3},
                       {1000, -1000, 77777, 2, -5, 3, 99999, 7},
                       arithmetic("int32"));
  checkFolded<int64_t>(
      "int64", DType::I64,
      {4611686018427387904LL, -9000000000000000000LL, 5, -7, 13, 1, 0, -1},
      {3, 2, -2, 2, -5, 1, 7, 1}, arithmetic("int64"));
  checkFolded<float>("float", DType::F32,
                     {1.1f, -2.7f, 3.3e10f, 1e-3f, 0.1f, 7.0f, -0.0f, 1e30f},
                     {3.0f, 0.7f, -1.7e-5f, 3.0f, 0.3f, 3.0f, 5.0f, 1e10f},
                     arithmetic("float"));
  checkFolded<double>(
      "double", DType::F64, {1.1, -2.7, 3.3e100, 1e-3, 0.1, 7.0, -0.0, 1e300},
      {3.0, 0.7, -1.7e-50, 3.0, 0.3, 3.0, 5.0, 1e10}, arithmetic("double"));
}

TEST_F(SessionShapeTest, FoldedComparisonsAndCastsMatchCompiled) {
  checkFolded<int64_t>("int64", DType::I64,
                       {-7, 7, 5, -5, 0, 3000000000LL, -1, 9},
                       {3, -3, 5, 2, 4, 7, -1, -9},
                       {{"Equal ($a, $b)", "bool"},
                        {"Less ($a, $b)", "bool"},
                        {"GreaterOrEqual ($a, $b)", "bool"},
                        {"Min ($a, $b)", "int64"},
                        {"Max ($a, $b, $a)", "int64"},
                        {"Mod ($a, $b)", "int64"},
                        {"Mod <fmod = 1> ($a, $b)", "int64"},
                        {"Neg ($a)", "int64"},
                        {"Abs ($b)", "int64"},
                        {"Cast <to = 6> ($a)", "int32"},
                        {"Cast <to = 1> ($a)", "float"},
                        {"Sign ($a)", "int64"}});
  checkFolded<float>("float", DType::F32,
                     {-7.9f, 7.5f, 2.5f, -0.5f, 1e9f, 3.25f, -1.0f, 0.1f},
                     {3.0f, -3.0f, 2.5f, 2.0f, 4.0f, 7.0f, -1.0f, 0.3f},
                     {{"Equal ($a, $b)", "bool"},
                      {"LessOrEqual ($a, $b)", "bool"},
                      {"Min ($a, $b)", "float"},
                      {"Max ($a, $b)", "float"},
                      {"Mod <fmod = 1> ($a, $b)", "float"},
                      {"Floor ($a)", "float"},
                      {"Ceil ($a)", "float"},
                      {"Relu ($a)", "float"},
                      {"Reciprocal ($b)", "float"},
                      {"Cast <to = 7> ($a)", "int64"},
                      {"Cast <to = 11> ($a)", "double"},
                      {"Cast <to = 9> ($a)", "bool"}});
}

TEST_F(SessionShapeTest, ShapeSubgraphFoldsIntoReshapeAndSlice) {
  // Shape -> Gather -> Unsqueeze -> Concat feeds Reshape; Slice's ends come
  // from Shape -> Slice -> Sub: all evaluated at import.
  auto s = compile("shape_subgraph.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[2,3,4] x) => (float[2,10] y) {
  s = Shape (x)
  zero = Constant <value = int64 {0}> ()
  b = Gather <axis = 0> (s, zero)
  axes = Constant <value = int64[1] {0}> ()
  bu = Unsqueeze (b, axes)
  m1 = Constant <value = int64[1] {-1}> ()
  shape = Concat <axis = 0> (bu, m1)
  flat = Reshape (x, shape)
  fs = Shape (flat)
  one = Constant <value = int64[1] {1}> ()
  two = Constant <value = int64[1] {2}> ()
  cols = Slice (fs, one, two)
  end = Sub (cols, two)
  start = Constant <value = int64[1] {0}> ()
  y = Slice (flat, start, end, one)
}
)onnx");
  ASSERT_TRUE(s);
  std::mt19937 rng(3);
  Tensor x = randomTensor(rng, {2, 3, 4});
  auto out = run(*s, {x});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].shape, (std::vector<int64_t>{2, 10}));
  std::vector<float> expected;
  for (int64_t r = 0; r < 2; ++r)
    for (int64_t c = 0; c < 10; ++c)
      expected.push_back(x.as<float>()[r * 12 + c]);
  expectClose(values(out[0]), expected, 0.0f);
}

TEST_F(SessionShapeTest, ReflectPadBeyondTheDimMirrorsRepeatedly) {
  // numpy's reflect pads wider than the dim by reflecting again (period
  // 2(n-1)): [a b c] padded by 4 on the left is [a b c b | a b c].
  auto s = compile("reflect.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[1,3] x, int64[4] pads = {0, 4, 0, 3}) => (float[1,10] y) {
  y = Pad <mode = "reflect"> (x, pads)
}
)onnx");
  ASSERT_TRUE(s);
  Tensor x = tensorOf<float>(DType::F32, {1, 3}, {1, 2, 3});
  auto out = run(*s, {x});
  ASSERT_EQ(out.size(), 1u);
  expectClose(values(out[0]), {1, 2, 3, 2, 1, 2, 3, 2, 1, 2}, 0.0f);
}

TEST_F(SessionShapeTest, ScatterNDMultipliesDuplicatesInOrder) {
  auto s = compile("scatter_nd.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 16]>
agraph (float[4,2] x, int64[3,1] i, float[3,2] u) => (float[4,2] y) {
  y = ScatterND <reduction = "mul"> (x, i, u)
}
)onnx");
  ASSERT_TRUE(s);
  Tensor x = tensorOf<float>(DType::F32, {4, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  Tensor i = tensorOf<int64_t>(DType::I64, {3, 1}, {-1, 1, 3});
  Tensor u = tensorOf<float>(DType::F32, {3, 2}, {2, 3, 4, 5, 0.5, 0.25});
  auto out = run(*s, {x, i, u});
  ASSERT_EQ(out.size(), 1u);
  // Row 3 is addressed twice (as -1 and 3): 7 * 2 * 0.5, 8 * 3 * 0.25.
  expectClose(values(out[0]), {1, 2, 12, 20, 5, 6, 7, 6}, 0.0f);
}

} // namespace
