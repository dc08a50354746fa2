// End to end through the C++ API: compile small ONNX models with
// lathe::Session, run them on seeded random inputs and compare with naive
// reference implementations (SessionTestUtils.h). Convolution, pooling and
// softmax are in SessionConvPoolTest.cpp.
#include "SessionTestUtils.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

using lathe::DType;
using lathe::Tensor;
using namespace lathe::test;

namespace {

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

TEST_F(SessionTest, GemmTransposesAlphaBetaAndRowBias) {
  // A is stored [K,M] (transA), B is [N,K] (transB), C [N] broadcasts over
  // rows.
  const int64_t M = 3, K = 5, N = 4;
  auto s = compile("gemm.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[5,3] a, float[4,5] b, float[4] c) => (float[3,4] y) {
  y = Gemm <alpha = 0.5, beta = 2.0, transA = 1, transB = 1> (a, b, c)
}
)onnx");
  ASSERT_TRUE(s);
  std::mt19937 rng(1);
  Tensor a = randomTensor(rng, {K, M}), b = randomTensor(rng, {N, K}),
         c = randomTensor(rng, {N});
  auto out = run(*s, {a, b, c});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].shape, (std::vector<int64_t>{M, N}));
  std::vector<float> expected(M * N);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += double(a.as<float>()[k * M + m]) * b.as<float>()[n * K + k];
      expected[m * N + n] = float(0.5 * acc + 2.0 * c.as<float>()[n]);
    }
  expectClose(values(out[0]), expected);
}

TEST_F(SessionTest, GemmColumnBiasFromInitializer) {
  // No transposes; C [M,1] broadcasts over columns and is a weight.
  const int64_t M = 4, K = 3, N = 6;
  std::mt19937 rng(2);
  Tensor b = randomTensor(rng, {K, N}), c = randomTensor(rng, {M, 1});
  auto s = compile("gemm2.onnxtxt",
                   "<ir_version: 8, opset_import: [\"\" : 13]>\n"
                   "agraph (float[4,3] a, float[3,6] b = " +
                       literal(b) + ", float[4,1] c = " + literal(c) +
                       ") => (float[4,6] y) {\n"
                       "  y = Gemm <alpha = 1.5, beta = -1.0> (a, b, c)\n}\n");
  ASSERT_TRUE(s);
  ASSERT_EQ(s->inputs().size(), 1u);
  EXPECT_EQ(s->stats().paramBytes, uint64_t((K * N + M) * sizeof(float)));
  Tensor a = randomTensor(rng, {M, K});
  auto out = run(*s, {a});
  ASSERT_EQ(out.size(), 1u);
  std::vector<float> expected(M * N);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += double(a.as<float>()[m * K + k]) * b.as<float>()[k * N + n];
      expected[m * N + n] = float(1.5 * acc - 1.0 * c.as<float>()[m]);
    }
  expectClose(values(out[0]), expected);
}

TEST_F(SessionTest, MatMulBroadcastsBatch) {
  // [2,1,3,4] x [5,4,6] -> [2,5,3,6]; batch dim N bound through the options.
  lathe::SessionOptions opts;
  opts.shapes["a"] = {2, 1, 3, 4};
  auto s = compile("matmul.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[N,1,3,4] a, float[5,4,6] b) => (float[N,5,3,6] y) {
  y = MatMul (a, b)
}
)onnx",
                   opts);
  ASSERT_TRUE(s);
  ASSERT_EQ(s->outputs().size(), 1u);
  EXPECT_EQ(s->outputs()[0].shape, (std::vector<int64_t>{2, 5, 3, 6}));
  std::mt19937 rng(3);
  Tensor a = randomTensor(rng, {2, 1, 3, 4}), b = randomTensor(rng, {5, 4, 6});
  auto out = run(*s, {a, b});
  ASSERT_EQ(out.size(), 1u);
  std::vector<float> expected(2 * 5 * 3 * 6);
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 5; ++j)
      for (int64_t m = 0; m < 3; ++m)
        for (int64_t n = 0; n < 6; ++n) {
          double acc = 0;
          for (int64_t k = 0; k < 4; ++k)
            acc += double(a.as<float>()[(i * 3 + m) * 4 + k]) *
                   b.as<float>()[(j * 4 + k) * 6 + n];
          expected[((i * 5 + j) * 3 + m) * 6 + n] = float(acc);
        }
  expectClose(values(out[0]), expected);
}

TEST_F(SessionTest, MatMulVectorOperands) {
  // [4] x [3,4,2] -> [3,2] and [3,2,4] x [4] -> [3,2].
  auto s = compile("matvec.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[4] v, float[3,4,2] b, float[3,2,4] a) => (float[3,2] y, float[3,2] z) {
  y = MatMul (v, b)
  z = MatMul (a, v)
}
)onnx");
  ASSERT_TRUE(s);
  std::mt19937 rng(26);
  Tensor v = randomTensor(rng, {4}), b = randomTensor(rng, {3, 4, 2}),
         a = randomTensor(rng, {3, 2, 4});
  auto out = run(*s, {v, b, a});
  ASSERT_EQ(out.size(), 2u);
  ASSERT_EQ(out[0].shape, (std::vector<int64_t>{3, 2}));
  ASSERT_EQ(out[1].shape, (std::vector<int64_t>{3, 2}));
  std::vector<float> y(6), z(6);
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 2; ++j) {
      double ay = 0, az = 0;
      for (int64_t k = 0; k < 4; ++k) {
        ay += double(v.as<float>()[k]) * b.as<float>()[(i * 4 + k) * 2 + j];
        az += double(a.as<float>()[(i * 2 + j) * 4 + k]) * v.as<float>()[k];
      }
      y[i * 2 + j] = float(ay);
      z[i * 2 + j] = float(az);
    }
  expectClose(values(out[0]), y);
  expectClose(values(out[1]), z);
}

TEST_F(SessionTest, BroadcastArithmeticChainAtBothOptLevels) {
  // ((x + r) * c - s) / d over [2,3,4] with r [4], c [3,1], s scalar, d
  // [2,1,1].
  const char *text = R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[2,3,4] x, float[4] r, float[3,1] c, float s, float[2,1,1] d) => (float[2,3,4] y) {
  t0 = Add (x, r)
  t1 = Mul (t0, c)
  t2 = Sub (t1, s)
  y = Div (t2, d)
}
)onnx";
  std::mt19937 rng(27);
  Tensor x = randomTensor(rng, {2, 3, 4}), r = randomTensor(rng, {4}),
         c = randomTensor(rng, {3, 1}), sc = randomTensor(rng, {}),
         d(DType::F32, {2, 1, 1});
  d.as<float>()[0] = 2.0f;
  d.as<float>()[1] = -0.5f;
  std::vector<float> expected(24);
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 4; ++k)
        expected[(i * 3 + j) * 4 + k] =
            ((x.as<float>()[(i * 3 + j) * 4 + k] + r.as<float>()[k]) *
                 c.as<float>()[j] -
             sc.as<float>()[0]) /
            d.as<float>()[i];
  for (int opt : {0, 1}) {
    lathe::SessionOptions opts;
    opts.optLevel = opt;
    auto s = compile("chain" + std::to_string(opt) + ".onnxtxt", text, opts);
    ASSERT_TRUE(s);
    auto out = run(*s, {x, r, c, sc, d});
    ASSERT_EQ(out.size(), 1u);
    SCOPED_TRACE("optLevel " + std::to_string(opt));
    expectClose(values(out[0]), expected);
  }
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

TEST_F(SessionTest, ConcatMiddleAxis) {
  auto s = compile("concat.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[2,3,4] a, float[2,1,4] b, float[2,2,4] c) => (float[2,6,4] y) {
  y = Concat <axis = 1> (a, b, c)
}
)onnx");
  ASSERT_TRUE(s);
  std::mt19937 rng(13);
  Tensor a = randomTensor(rng, {2, 3, 4}), b = randomTensor(rng, {2, 1, 4}),
         c = randomTensor(rng, {2, 2, 4});
  auto out = run(*s, {a, b, c});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].shape, (std::vector<int64_t>{2, 6, 4}));
  std::vector<float> expected;
  for (int64_t n = 0; n < 2; ++n) {
    for (const Tensor *t : {&a, &b, &c}) {
      int64_t rows = t->shape[1];
      const float *p = t->as<float>() + n * rows * 4;
      expected.insert(expected.end(), p, p + rows * 4);
    }
  }
  // Concat only moves data: exact.
  EXPECT_EQ(values(out[0]), expected);
}

TEST_F(SessionTest, ConcatNegativeAxis) {
  auto s = compile("concat_neg.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[3,2] a, float[3,3] b) => (float[3,5] y) {
  y = Concat <axis = -1> (a, b)
}
)onnx");
  ASSERT_TRUE(s);
  std::mt19937 rng(14);
  Tensor a = randomTensor(rng, {3, 2}), b = randomTensor(rng, {3, 3});
  auto out = run(*s, {a, b});
  ASSERT_EQ(out.size(), 1u);
  std::vector<float> expected;
  for (int64_t r = 0; r < 3; ++r) {
    expected.insert(expected.end(), a.as<float>() + r * 2,
                    a.as<float>() + r * 2 + 2);
    expected.insert(expected.end(), b.as<float>() + r * 3,
                    b.as<float>() + r * 3 + 3);
  }
  EXPECT_EQ(values(out[0]), expected);
}

TEST_F(SessionTest, TransposePerm) {
  // x [2,3,4] with perm [2,0,1] -> [4,2,3]; y[k][i][j] = x[i][j][k].
  auto s = compile("transpose.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[2,3,4] x) => (float[4,2,3] y) {
  y = Transpose <perm = [2, 0, 1]> (x)
}
)onnx");
  ASSERT_TRUE(s);
  std::mt19937 rng(15);
  Tensor x = randomTensor(rng, {2, 3, 4});
  auto out = run(*s, {x});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].shape, (std::vector<int64_t>{4, 2, 3}));
  std::vector<float> expected(24);
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 4; ++k)
        expected[(k * 2 + i) * 3 + j] = x.as<float>()[(i * 3 + j) * 4 + k];
  EXPECT_EQ(values(out[0]), expected);
}

TEST_F(SessionTest, TransposeDefaultPermReverses) {
  auto s = compile("transpose_default.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[2,3,4] x) => (float[4,3,2] y) {
  y = Transpose (x)
}
)onnx");
  ASSERT_TRUE(s);
  std::mt19937 rng(16);
  Tensor x = randomTensor(rng, {2, 3, 4});
  auto out = run(*s, {x});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].shape, (std::vector<int64_t>{4, 3, 2}));
  std::vector<float> expected(24);
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 4; ++k)
        expected[(k * 3 + j) * 2 + i] = x.as<float>()[(i * 3 + j) * 4 + k];
  EXPECT_EQ(values(out[0]), expected);
}

//===----------------------------------------------------------------------===//
// The API contract
//===----------------------------------------------------------------------===//

const char *kTwoInOneOut = R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[2,3] x, float[3,4] w) => (float[2,4] y) {
  t = MatMul (x, w)
  y = Relu (t)
}
)onnx";

TEST_F(SessionTest, WrongInputShapeNamesTheInput) {
  auto s = compile("api.onnxtxt", kTwoInOneOut);
  ASSERT_TRUE(s);
  std::mt19937 rng(17);
  Tensor x = randomTensor(rng, {3, 2}); // transposed shape, same bytes
  Tensor w = randomTensor(rng, {3, 4});
  std::vector<Tensor> out;
  std::string err;
  EXPECT_FALSE(s->run({x, w}, out, &err));
  EXPECT_NE(err.find("'x'"), std::string::npos) << err;
  EXPECT_NE(err.find("2x3"), std::string::npos) << err;
  EXPECT_NE(err.find("3x2"), std::string::npos) << err;

  err.clear();
  Tensor w2 = randomTensor(rng, {3, 5});
  EXPECT_FALSE(s->run({randomTensor(rng, {2, 3}), w2}, out, &err));
  EXPECT_NE(err.find("'w'"), std::string::npos) << err;
}

TEST_F(SessionTest, WrongInputDtypeNamesTheInput) {
  auto s = compile("api.onnxtxt", kTwoInOneOut);
  ASSERT_TRUE(s);
  std::mt19937 rng(18);
  Tensor x(DType::I64, {2, 3});
  Tensor w = randomTensor(rng, {3, 4});
  std::vector<Tensor> out;
  std::string err;
  EXPECT_FALSE(s->run({x, w}, out, &err));
  EXPECT_NE(err.find("'x'"), std::string::npos) << err;
  EXPECT_NE(err.find(lathe::dtypeName(DType::F32)), std::string::npos) << err;
}

TEST_F(SessionTest, WrongInputCountIsAnError) {
  auto s = compile("api.onnxtxt", kTwoInOneOut);
  ASSERT_TRUE(s);
  std::mt19937 rng(19);
  std::vector<Tensor> out;
  std::string err;
  EXPECT_FALSE(s->run({randomTensor(rng, {2, 3})}, out, &err));
  EXPECT_NE(err.find("2"), std::string::npos) << err;
}

TEST_F(SessionTest, Descriptor) {
  auto s = compile("api.onnxtxt", kTwoInOneOut);
  ASSERT_TRUE(s);
  const lathe_model_desc &d = s->descriptor();
  EXPECT_EQ(d.abi_version, static_cast<uint32_t>(LATHE_ABI_VERSION));
  ASSERT_EQ(d.num_inputs, 2);
  ASSERT_EQ(d.num_outputs, 1);
  EXPECT_EQ(d.arena_bytes % 64, 0u);
  EXPECT_EQ(d.arena_bytes, s->stats().arenaBytes);
  EXPECT_EQ(d.param_bytes, s->stats().paramBytes);
  EXPECT_NE(d.entry, nullptr);
  ASSERT_NE(d.inputs, nullptr);
  EXPECT_STREQ(d.inputs[0].name, "x");
  EXPECT_STREQ(d.inputs[1].name, "w");
  EXPECT_STREQ(d.outputs[0].name, "y");
  EXPECT_EQ(d.inputs[0].dtype, LATHE_DTYPE_FLOAT);
  ASSERT_EQ(d.inputs[1].rank, 2);
  EXPECT_EQ(d.inputs[1].shape[0], 3);
  EXPECT_EQ(d.inputs[1].shape[1], 4);
  ASSERT_EQ(d.outputs[0].rank, 2);
  EXPECT_EQ(d.outputs[0].shape[0], 2);
  EXPECT_EQ(d.outputs[0].shape[1], 4);
  ASSERT_EQ(s->inputs().size(), 2u);
  EXPECT_EQ(s->inputs()[0].name, "x");
  EXPECT_EQ(s->outputs()[0].shape, (std::vector<int64_t>{2, 4}));
}

TEST_F(SessionTest, ArenaBytesAreAlignedForAModelWithIntermediates) {
  auto s = compile("chain.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[1,3,9,9] x, float[8,3,3,3] w) => (float[1,8,3,3] y) {
  c = Conv <pads = [1, 1, 1, 1]> (x, w)
  r = Relu (c)
  y = MaxPool <kernel_shape = [3, 3], strides = [3, 3]> (r)
}
)onnx");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->descriptor().arena_bytes % 64, 0u);
  EXPECT_LE(s->descriptor().arena_bytes, s->descriptor().naive_bytes + 64 * 8);
}

TEST_F(SessionTest, ArenaReusesDeadBuffersAndKeepsResults) {
  // h1 is dead when h3 is written: the planner lets them share bytes, and
  // the results must not notice.
  const int64_t N = 8;
  auto s = compile("matmuls.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[8,8] x, float[8,8] w) => (float[8,8] y) {
  h1 = MatMul (x, w)
  h2 = MatMul (h1, w)
  h3 = MatMul (h2, w)
  y = MatMul (h3, w)
}
)onnx");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->descriptor().arena_bytes % 64, 0u);
  EXPECT_LT(s->descriptor().arena_bytes, s->descriptor().naive_bytes);
  std::mt19937 rng(7);
  Tensor x = randomTensor(rng, {N, N}), w = randomTensor(rng, {N, N});
  auto out = run(*s, {x, w});
  ASSERT_EQ(out.size(), 1u);
  std::vector<double> h(x.as<float>(), x.as<float>() + N * N);
  for (int step = 0; step < 4; ++step) {
    std::vector<double> next(N * N, 0.0);
    for (int64_t i = 0; i < N; ++i)
      for (int64_t j = 0; j < N; ++j)
        for (int64_t k = 0; k < N; ++k)
          next[i * N + j] += h[i * N + k] * w.as<float>()[k * N + j];
    h = next;
  }
  expectClose(values(out[0]), std::vector<float>(h.begin(), h.end()));
}

TEST_F(SessionTest, RunningTwiceGivesIdenticalResults) {
  auto s = compile("twice.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[2,3,6,6] x, float[4,3,3,3] w) => (float[2,4,2,2] y, float[2,16] z) {
  c = Conv <pads = [1, 1, 1, 1]> (x, w)
  r = Relu (c)
  y = MaxPool <kernel_shape = [3, 3], strides = [3, 3]> (r)
  f = Flatten (y)
  z = Softmax (f)
}
)onnx");
  ASSERT_TRUE(s);
  std::mt19937 rng(20);
  Tensor x = randomTensor(rng, {2, 3, 6, 6}),
         w = randomTensor(rng, {4, 3, 3, 3});
  auto first = run(*s, {x, w});
  // A run on other inputs in between must not leak into the next one.
  auto other = run(
      *s, {randomTensor(rng, {2, 3, 6, 6}), randomTensor(rng, {4, 3, 3, 3})});
  auto second = run(*s, {x, w});
  ASSERT_EQ(first.size(), 2u);
  ASSERT_EQ(second.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    ASSERT_EQ(first[i].shape, second[i].shape);
    ASSERT_EQ(first[i].bytes(), second[i].bytes());
    EXPECT_EQ(std::memcmp(first[i].data.data(), second[i].data.data(),
                          first[i].bytes()),
              0)
        << "output " << i;
  }
  EXPECT_NE(values(first[0]), values(other[0]));

  // And the numbers are right: conv + relu + maxpool against the references.
  Conv2dParams cp;
  for (int i = 0; i < 4; ++i)
    cp.pads[i] = 1;
  int64_t OH, OW;
  std::vector<float> conv = refConv2d(x, w, {}, cp, OH, OW);
  Tensor relu(DType::F32, {2, 4, OH, OW});
  for (size_t i = 0; i < conv.size(); ++i)
    relu.as<float>()[i] = std::max(conv[i], 0.0f);
  Pool2dParams pp;
  pp.kernel[0] = pp.kernel[1] = 3;
  pp.strides[0] = pp.strides[1] = 3;
  std::vector<float> pooled = refPool2d(relu, pp, true, OH, OW);
  expectClose(values(first[0]), pooled);
  expectClose(values(first[1]), refSoftmax(pooled, 2, 16, 1, false), 1e-5f);
}

TEST_F(SessionTest, OutputsThatAreInputsOrConstantsOrRepeated) {
  // Graph outputs that alias a graph input, a weight, or each other must
  // still be filled with the right values.
  std::mt19937 rng(23);
  Tensor c = randomTensor(rng, {2, 3});
  auto s = compile("aliases.onnxtxt",
                   "<ir_version: 8, opset_import: [\"\" : 13]>\n"
                   "agraph (float[2,3] x, float[2,3] c = " +
                       literal(c) +
                       ") => (float[2,3] a, float[2,3] b, float[2,3] r, "
                       "float[2,3] r2) {\n"
                       "  a = Identity (x)\n"
                       "  b = Identity (c)\n"
                       "  r = Relu (x)\n"
                       "  r2 = Identity (r)\n}\n");
  ASSERT_TRUE(s);
  ASSERT_EQ(s->outputs().size(), 4u);
  Tensor x = randomTensor(rng, {2, 3});
  auto out = run(*s, {x});
  ASSERT_EQ(out.size(), 4u);
  std::vector<float> relu = values(x);
  for (float &v : relu)
    v = std::max(v, 0.0f);
  EXPECT_EQ(values(out[0]), values(x));
  EXPECT_EQ(values(out[1]), values(c));
  EXPECT_EQ(values(out[2]), relu);
  EXPECT_EQ(values(out[3]), relu);
}

TEST_F(SessionTest, ReshapeFlattenKeepData) {
  auto s = compile("reshape.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[2,3,4] x) => (float[3,8] y, float[6,4] z) {
  t = Transpose <perm = [1, 0, 2]> (x)
  s = Constant <value = int64[2] {3, -1}> ()
  y = Reshape (t, s)
  z = Flatten <axis = 2> (x)
}
)onnx");
  ASSERT_TRUE(s);
  std::mt19937 rng(24);
  Tensor x = randomTensor(rng, {2, 3, 4});
  auto out = run(*s, {x});
  ASSERT_EQ(out.size(), 2u);
  ASSERT_EQ(out[0].shape, (std::vector<int64_t>{3, 8}));
  std::vector<float> expected;
  for (int64_t j = 0; j < 3; ++j)
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t k = 0; k < 4; ++k)
        expected.push_back(x.as<float>()[(i * 3 + j) * 4 + k]);
  EXPECT_EQ(values(out[0]), expected);
  ASSERT_EQ(out[1].shape, (std::vector<int64_t>{6, 4}));
  EXPECT_EQ(values(out[1]), values(x));
}

TEST_F(SessionTest, GemmScalarBiasAndBetaZero) {
  // C of rank 0 broadcasts everywhere; a second Gemm with beta 0 ignores C.
  auto s = compile("gemm_scalar.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[2,3] a, float[3,2] b, float c) => (float[2,2] y, float[2,2] z) {
  y = Gemm (a, b, c)
  z = Gemm <beta = 0.0> (a, b, c)
}
)onnx");
  ASSERT_TRUE(s);
  std::mt19937 rng(25);
  Tensor a = randomTensor(rng, {2, 3}), b = randomTensor(rng, {3, 2});
  Tensor c(DType::F32, {});
  *c.as<float>() = 0.75f;
  auto out = run(*s, {a, b, c});
  ASSERT_EQ(out.size(), 2u);
  std::vector<float> ab(4);
  for (int64_t m = 0; m < 2; ++m)
    for (int64_t n = 0; n < 2; ++n) {
      double acc = 0;
      for (int64_t k = 0; k < 3; ++k)
        acc += double(a.as<float>()[m * 3 + k]) * b.as<float>()[k * 2 + n];
      ab[m * 2 + n] = float(acc);
    }
  std::vector<float> withC = ab;
  for (float &v : withC)
    v += 0.75f;
  expectClose(values(out[0]), withC);
  expectClose(values(out[1]), ab);
}

TEST_F(SessionTest, CompileErrorIsOneLineWithThePath) {
  std::string path = dir + "/missing.onnx";
  std::string err;
  auto s = lathe::Session::compile(path, {}, &err);
  EXPECT_FALSE(s);
  EXPECT_NE(err.find(path), std::string::npos) << err;
  EXPECT_EQ(err.find('\n'), std::string::npos) << err;
}

TEST_F(SessionTest, UnboundSymbolicDimIsACompileError) {
  std::string err;
  auto s = lathe::Session::compile(write("sym.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[N,3] x) => (float[N,3] y) {
  y = Relu (x)
}
)onnx"),
                                   {}, &err);
  EXPECT_FALSE(s);
  EXPECT_NE(err.find("'N'"), std::string::npos) << err;
}

} // namespace

//===----------------------------------------------------------------------===//
// Small floats
//===----------------------------------------------------------------------===//

namespace {
uint16_t toBFloat16(float f) { // round to nearest even
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return static_cast<uint16_t>((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
}
} // namespace

TEST_F(SessionTest, BFloat16ComputedInFloat32AndRounded) {
  // bf16 arithmetic compiles to integer conversions (no __truncsfbf2 call)
  // and computes in f32: y = bf16(float(a) * float(b) + 1) exactly.
  auto s = compile("bf16.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 14]>
agraph (bfloat16[16] a, bfloat16[16] b, bfloat16 one) => (bfloat16[16] y) {
  t = Mul (a, b)
  y = Add (t, one)
}
)onnx");
  ASSERT_TRUE(s);
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  Tensor a(DType::BF16, {16}), b(DType::BF16, {16}), one(DType::BF16, {});
  one.as<uint16_t>()[0] = toBFloat16(1.0f);
  std::vector<uint16_t> expected(16);
  for (int i = 0; i < 16; ++i) {
    a.as<uint16_t>()[i] = toBFloat16(dist(rng));
    b.as<uint16_t>()[i] = toBFloat16(dist(rng));
    float fa = static_cast<float>(lathe::bfloat16ToDouble(a.as<uint16_t>()[i]));
    float fb = static_cast<float>(lathe::bfloat16ToDouble(b.as<uint16_t>()[i]));
    expected[i] = toBFloat16(fa * fb + 1.0f);
  }
  auto out = run(*s, {a, b, one});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].dtype, DType::BF16);
  for (int i = 0; i < 16; ++i)
    EXPECT_EQ(out[0].as<uint16_t>()[i], expected[i]) << "element " << i;
}
