// End to end through the C++ API: compile small ONNX models with
// lathe::Session, run them on seeded random inputs and compare with naive
// reference implementations written here.
#include "lathe/Session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using lathe::DType;
using lathe::Tensor;

namespace {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// Values that are exact in float and in decimal (multiples of 1/64), so a
/// tensor written into a model's text is read back bit for bit.
Tensor randomTensor(std::mt19937 &rng, std::vector<int64_t> shape,
                    int range = 128) {
  Tensor t(DType::F32, std::move(shape));
  std::uniform_int_distribution<int> dist(-range, range);
  float *p = t.as<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    p[i] = static_cast<float>(dist(rng)) / 64.0f;
  return t;
}

std::vector<float> values(const Tensor &t) {
  return std::vector<float>(t.as<float>(), t.as<float>() + t.numel());
}

/// "{v0, v1, ...}" for an initializer in ONNX text syntax.
std::string literal(const Tensor &t) {
  std::string s = "{";
  char buf[32];
  for (int64_t i = 0; i < t.numel(); ++i) {
    std::snprintf(buf, sizeof(buf), "%s%.9g", i ? ", " : "", t.as<float>()[i]);
    s += buf;
  }
  return s + "}";
}

std::string dims(const std::vector<int64_t> &shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "," : "") + std::to_string(shape[i]);
  return s;
}

void expectClose(const std::vector<float> &actual,
                 const std::vector<float> &expected, float tol = 1e-4f) {
  ASSERT_EQ(actual.size(), expected.size());
  int reported = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    float bound = tol * (1.0f + std::fabs(expected[i]));
    if (!(std::fabs(actual[i] - expected[i]) <= bound) && reported++ < 10)
      ADD_FAILURE() << "element " << i << ": expected " << expected[i]
                    << ", got " << actual[i];
  }
  EXPECT_EQ(reported, 0) << "mismatching elements";
}

class SessionTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string tmpl =
        (fs::temp_directory_path() / "lathe-session-XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    ASSERT_NE(mkdtemp(buf.data()), nullptr);
    dir = buf.data();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  std::string write(const std::string &name, const std::string &content) {
    std::string path = dir + "/" + name;
    std::ofstream out(path, std::ios::binary);
    out << content;
    return path;
  }

  std::unique_ptr<lathe::Session>
  compile(const std::string &name, const std::string &text,
          const lathe::SessionOptions &opts = {}) {
    std::string err;
    auto s = lathe::Session::compile(write(name, text), opts, &err);
    EXPECT_TRUE(s) << err;
    return s;
  }

  /// Runs and returns the outputs; fails the test on error.
  std::vector<Tensor> run(lathe::Session &s, const std::vector<Tensor> &in) {
    std::vector<Tensor> out;
    std::string err;
    EXPECT_TRUE(s.run(in, out, &err)) << err;
    return out;
  }

  std::string dir;
};

//===----------------------------------------------------------------------===//
// Reference implementations (row-major, float accumulation in double)
//===----------------------------------------------------------------------===//

struct Conv2dParams {
  int64_t group = 1;
  int64_t strides[2] = {1, 1};
  int64_t dilations[2] = {1, 1};
  int64_t pads[4] = {0, 0, 0, 0}; // top, left, bottom, right
};

/// x [N,C,H,W], w [M,C/group,KH,KW], bias [M] or empty.
std::vector<float> refConv2d(const Tensor &x, const Tensor &w,
                             const std::vector<float> &bias,
                             const Conv2dParams &p, int64_t &OH, int64_t &OW) {
  int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  int64_t M = w.shape[0], Cg = w.shape[1], KH = w.shape[2], KW = w.shape[3];
  int64_t Mg = M / p.group;
  OH = (H + p.pads[0] + p.pads[2] - ((KH - 1) * p.dilations[0] + 1)) /
           p.strides[0] + 1;
  OW = (W + p.pads[1] + p.pads[3] - ((KW - 1) * p.dilations[1] + 1)) /
           p.strides[1] + 1;
  const float *X = x.as<float>(), *Wt = w.as<float>();
  std::vector<float> out(N * M * OH * OW);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m) {
      int64_t g = m / Mg;
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double acc = bias.empty() ? 0.0 : bias[m];
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t kh = 0; kh < KH; ++kh)
              for (int64_t kw = 0; kw < KW; ++kw) {
                int64_t ih = oh * p.strides[0] - p.pads[0] + kh * p.dilations[0];
                int64_t iw = ow * p.strides[1] - p.pads[1] + kw * p.dilations[1];
                if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                  continue;
                int64_t ic = g * Cg + c;
                acc += double(X[((n * C + ic) * H + ih) * W + iw]) *
                       Wt[((m * Cg + c) * KH + kh) * KW + kw];
              }
          out[((n * M + m) * OH + oh) * OW + ow] = static_cast<float>(acc);
        }
    }
  return out;
}

struct Pool2dParams {
  int64_t kernel[2] = {1, 1};
  int64_t strides[2] = {1, 1};
  int64_t pads[4] = {0, 0, 0, 0};
  bool ceil = false;
  bool countIncludePad = false;
};

/// Output size with ONNX/PyTorch rules: ceil mode rounds up, but a window
/// that would start in the end padding is dropped.
int64_t poolOut(int64_t in, int64_t k, int64_t s, int64_t pb, int64_t pe,
                bool ceil) {
  int64_t room = in + pb + pe - k;
  int64_t o = (ceil ? (room + s - 1) / s : room / s) + 1;
  if (ceil && (o - 1) * s >= in + pb)
    --o;
  return o;
}

/// Max (isMax) or average pooling of x [N,C,H,W]. Average: the divisor counts
/// the window's elements inside the input, plus those in the explicit pads
/// when countIncludePad (never the part beyond the end pads in ceil mode).
std::vector<float> refPool2d(const Tensor &x, const Pool2dParams &p, bool isMax,
                             int64_t &OH, int64_t &OW) {
  int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  OH = poolOut(H, p.kernel[0], p.strides[0], p.pads[0], p.pads[2], p.ceil);
  OW = poolOut(W, p.kernel[1], p.strides[1], p.pads[1], p.pads[3], p.ceil);
  const float *X = x.as<float>();
  std::vector<float> out(N * C * OH * OW);
  for (int64_t nc = 0; nc < N * C; ++nc)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        int64_t h0 = oh * p.strides[0] - p.pads[0];
        int64_t w0 = ow * p.strides[1] - p.pads[1];
        double acc = isMax ? -std::numeric_limits<double>::infinity() : 0.0;
        for (int64_t kh = 0; kh < p.kernel[0]; ++kh)
          for (int64_t kw = 0; kw < p.kernel[1]; ++kw) {
            int64_t ih = h0 + kh, iw = w0 + kw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W)
              continue;
            double v = X[(nc * H + ih) * W + iw];
            acc = isMax ? std::max(acc, v) : acc + v;
          }
        if (!isMax) {
          int64_t loH = p.countIncludePad ? -p.pads[0] : 0;
          int64_t hiH = H + (p.countIncludePad ? p.pads[2] : 0);
          int64_t loW = p.countIncludePad ? -p.pads[1] : 0;
          int64_t hiW = W + (p.countIncludePad ? p.pads[3] : 0);
          int64_t ch = std::min(h0 + p.kernel[0], hiH) - std::max(h0, loH);
          int64_t cw = std::min(w0 + p.kernel[1], hiW) - std::max(w0, loW);
          acc /= double(ch * cw);
        }
        out[(nc * OH + oh) * OW + ow] = static_cast<float>(acc);
      }
  return out;
}

/// Softmax (or log-softmax) of x viewed as [outer, n, inner] along the middle.
std::vector<float> refSoftmax(const std::vector<float> &x, int64_t outer,
                              int64_t n, int64_t inner, bool log) {
  std::vector<float> out(x.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t k) { return (o * n + k) * inner + i; };
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t k = 0; k < n; ++k)
        mx = std::max(mx, double(x[at(k)]));
      double sum = 0;
      for (int64_t k = 0; k < n; ++k)
        sum += std::exp(double(x[at(k)]) - mx);
      for (int64_t k = 0; k < n; ++k) {
        double v = double(x[at(k)]) - mx;
        out[at(k)] = static_cast<float>(log ? v - std::log(sum)
                                            : std::exp(v) / sum);
      }
    }
  return out;
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

TEST_F(SessionTest, GemmTransposesAlphaBetaAndRowBias) {
  // A is stored [K,M] (transA), B is [N,K] (transB), C [N] broadcasts over rows.
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
                   "agraph (float[4,3] a, float[3,6] b = " + literal(b) +
                       ", float[4,1] c = " + literal(c) +
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
  // ((x + r) * c - s) / d over [2,3,4] with r [4], c [3,1], s scalar, d [2,1,1].
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
// Convolution and pooling
//===----------------------------------------------------------------------===//

TEST_F(SessionTest, ConvGroupsStridesPads) {
  // x [2,4,7,6], w [6,2,3,3] (group 2), bias [6]; strides [2,1], asymmetric
  // pads (top 1, left 0, bottom 2, right 1), weights as initializers.
  std::mt19937 rng(4);
  Tensor w = randomTensor(rng, {6, 2, 3, 3}), b = randomTensor(rng, {6});
  Conv2dParams p;
  p.group = 2;
  p.strides[0] = 2;
  p.strides[1] = 1;
  int64_t pads[4] = {1, 0, 2, 1};
  std::copy(pads, pads + 4, p.pads);
  Tensor x = randomTensor(rng, {2, 4, 7, 6});
  int64_t OH, OW;
  auto expected = refConv2d(x, w, values(b), p, OH, OW);
  ASSERT_EQ(OH, 4); // (7 + 3 - 3) / 2 + 1
  ASSERT_EQ(OW, 5); // (6 + 1 - 3) / 1 + 1
  auto s = compile("conv.onnxtxt",
                   "<ir_version: 8, opset_import: [\"\" : 13]>\n"
                   "agraph (float[2,4,7,6] x, float[6,2,3,3] w = " +
                       literal(w) + ", float[6] b = " + literal(b) +
                       ") => (float[2,6,4,5] y) {\n"
                       "  y = Conv <group = 2, strides = [2, 1], pads = [1, 0, "
                       "2, 1], kernel_shape = [3, 3]> (x, w, b)\n}\n");
  ASSERT_TRUE(s);
  auto out = run(*s, {x});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].shape, (std::vector<int64_t>{2, 6, 4, 5}));
  expectClose(values(out[0]), expected);
}

TEST_F(SessionTest, ConvDilationRuntimeWeightsNoBias) {
  // x [1,3,9,8], w [4,3,3,2] as a runtime input; dilations [2,3], pads 1.
  std::mt19937 rng(5);
  Tensor x = randomTensor(rng, {1, 3, 9, 8}), w = randomTensor(rng, {4, 3, 3, 2});
  Conv2dParams p;
  p.dilations[0] = 2;
  p.dilations[1] = 3;
  for (int i = 0; i < 4; ++i)
    p.pads[i] = 1;
  int64_t OH, OW;
  auto expected = refConv2d(x, w, {}, p, OH, OW);
  ASSERT_EQ(OH, 7); // 9 + 2 - 5 + 1
  ASSERT_EQ(OW, 7); // 8 + 2 - 4 + 1
  auto s = compile("conv_dil.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[1,3,9,8] x, float[4,3,3,2] w) => (float[1,4,7,7] y) {
  y = Conv <dilations = [2, 3], pads = [1, 1, 1, 1]> (x, w)
}
)onnx");
  ASSERT_TRUE(s);
  auto out = run(*s, {x, w});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].shape, (std::vector<int64_t>{1, 4, 7, 7}));
  expectClose(values(out[0]), expected);
}

TEST_F(SessionTest, MaxPoolCeilModeWithPads) {
  // [1,2,8,6], k 3, s 2, pads 1, ceil: H 5 (floor would be 4), W 4 (floor 3).
  Pool2dParams p;
  p.kernel[0] = p.kernel[1] = 3;
  p.strides[0] = p.strides[1] = 2;
  for (int i = 0; i < 4; ++i)
    p.pads[i] = 1;
  p.ceil = true;
  std::mt19937 rng(6);
  Tensor x = randomTensor(rng, {1, 2, 8, 6});
  int64_t OH, OW;
  auto expected = refPool2d(x, p, true, OH, OW);
  ASSERT_EQ(OH, 5);
  ASSERT_EQ(OW, 4);
  auto s = compile("maxpool.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[1,2,8,6] x) => (float[1,2,5,4] y) {
  y = MaxPool <kernel_shape = [3, 3], strides = [2, 2], pads = [1, 1, 1, 1], ceil_mode = 1> (x)
}
)onnx");
  ASSERT_TRUE(s);
  auto out = run(*s, {x});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].shape, (std::vector<int64_t>{1, 2, 5, 4}));
  expectClose(values(out[0]), expected);
}

TEST_F(SessionTest, MaxPoolCeilModeDropsWindowInEndPadding) {
  // [1,1,5,5], k 2, s 2, pads 1, ceil: a 4th window would start in the end
  // padding, so the output is 3x3. Negative inputs: padding must not win.
  // (The output is declared with symbolic dims: ONNX 1.12's own shape
  // inference keeps that window and would reject a declared 3x3.)
  Pool2dParams p;
  p.kernel[0] = p.kernel[1] = 2;
  p.strides[0] = p.strides[1] = 2;
  for (int i = 0; i < 4; ++i)
    p.pads[i] = 1;
  p.ceil = true;
  std::mt19937 rng(7);
  Tensor x = randomTensor(rng, {1, 1, 5, 5});
  for (int64_t i = 0; i < x.numel(); ++i)
    x.as<float>()[i] = -1.0f - std::fabs(x.as<float>()[i]);
  int64_t OH, OW;
  auto expected = refPool2d(x, p, true, OH, OW);
  ASSERT_EQ(OH, 3);
  ASSERT_EQ(OW, 3);
  auto s = compile("maxpool_drop.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[1,1,5,5] x) => (float[a,b,c,d] y) {
  y = MaxPool <kernel_shape = [2, 2], strides = [2, 2], pads = [1, 1, 1, 1], ceil_mode = 1> (x)
}
)onnx");
  ASSERT_TRUE(s);
  auto out = run(*s, {x});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].shape, (std::vector<int64_t>{1, 1, 3, 3}));
  expectClose(values(out[0]), expected);
}

TEST_F(SessionTest, MaxPoolDilation) {
  // Opset 10+ MaxPool dilations [2,1] on [1,1,7,5], k 2x2, s 1: span 3x2.
  auto s = compile("maxpool_dil.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[1,1,7,5] x) => (float[1,1,5,4] y) {
  y = MaxPool <kernel_shape = [2, 2], dilations = [2, 1]> (x)
}
)onnx");
  ASSERT_TRUE(s);
  std::mt19937 rng(21);
  Tensor x = randomTensor(rng, {1, 1, 7, 5});
  auto out = run(*s, {x});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].shape, (std::vector<int64_t>{1, 1, 5, 4}));
  std::vector<float> expected(5 * 4);
  const float *X = x.as<float>();
  for (int64_t oh = 0; oh < 5; ++oh)
    for (int64_t ow = 0; ow < 4; ++ow) {
      float m = -std::numeric_limits<float>::infinity();
      for (int64_t kh = 0; kh < 2; ++kh)
        for (int64_t kw = 0; kw < 2; ++kw)
          m = std::max(m, X[(oh + 2 * kh) * 5 + ow + kw]);
      expected[oh * 4 + ow] = m;
    }
  EXPECT_EQ(values(out[0]), expected);
}

TEST_F(SessionTest, Conv1DSamePadding) {
  // x [2,3,10], w [4,3,4], auto_pad SAME_LOWER, stride 3: out ceil(10/3)=4,
  // total pad (4-1)*3 + 4 - 10 = 3 -> begin 2, end 1.
  std::mt19937 rng(22);
  Tensor x = randomTensor(rng, {2, 3, 10}), w = randomTensor(rng, {4, 3, 4});
  auto s = compile("conv1d.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[2,3,10] x, float[4,3,4] w) => (float[2,4,4] y) {
  y = Conv <auto_pad = "SAME_LOWER", strides = [3]> (x, w)
}
)onnx");
  ASSERT_TRUE(s);
  auto out = run(*s, {x, w});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].shape, (std::vector<int64_t>{2, 4, 4}));
  // As a 2-D conv with a height of 1.
  Tensor x2 = x, w2 = w;
  x2.shape = {2, 3, 1, 10};
  w2.shape = {4, 3, 1, 4};
  Conv2dParams p;
  p.strides[1] = 3;
  p.pads[1] = 2;
  p.pads[3] = 1;
  int64_t OH, OW;
  auto expected = refConv2d(x2, w2, {}, p, OH, OW);
  ASSERT_EQ(OW, 4);
  expectClose(values(out[0]), expected);
}

class AveragePoolTest : public SessionTest,
                        public ::testing::WithParamInterface<bool> {};

TEST_P(AveragePoolTest, CeilModeAndCountIncludePad) {
  // [2,3,8,6], k 3, s 2, pads [1,1,1,1], ceil_mode: output [2,3,5,4]; the
  // last windows run past the end padding.
  bool includePad = GetParam();
  Pool2dParams p;
  p.kernel[0] = p.kernel[1] = 3;
  p.strides[0] = p.strides[1] = 2;
  for (int i = 0; i < 4; ++i)
    p.pads[i] = 1;
  p.ceil = true;
  p.countIncludePad = includePad;
  std::mt19937 rng(8);
  Tensor x = randomTensor(rng, {2, 3, 8, 6});
  int64_t OH, OW;
  auto expected = refPool2d(x, p, false, OH, OW);
  ASSERT_EQ(OH, 5);
  ASSERT_EQ(OW, 4);
  auto s = compile(
      "avgpool.onnxtxt",
      std::string(R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[2,3,8,6] x) => (float[2,3,5,4] y) {
  y = AveragePool <kernel_shape = [3, 3], strides = [2, 2], pads = [1, 1, 1, 1], ceil_mode = 1, count_include_pad = )onnx") +
          (includePad ? "1" : "0") + "> (x)\n}\n");
  ASSERT_TRUE(s);
  auto out = run(*s, {x});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].shape, (std::vector<int64_t>{2, 3, 5, 4}));
  expectClose(values(out[0]), expected);
}

TEST_P(AveragePoolTest, AsymmetricPadsFloorMode) {
  // [1,2,7,7], k [3,2], s [2,3], pads (top 2, left 0, bottom 0, right 1).
  bool includePad = GetParam();
  Pool2dParams p;
  p.kernel[0] = 3;
  p.kernel[1] = 2;
  p.strides[0] = 2;
  p.strides[1] = 3;
  int64_t pads[4] = {2, 0, 0, 1};
  std::copy(pads, pads + 4, p.pads);
  p.countIncludePad = includePad;
  std::mt19937 rng(9);
  Tensor x = randomTensor(rng, {1, 2, 7, 7});
  int64_t OH, OW;
  auto expected = refPool2d(x, p, false, OH, OW);
  ASSERT_EQ(OH, 4); // (7 + 2 - 3) / 2 + 1
  ASSERT_EQ(OW, 3); // (7 + 1 - 2) / 3 + 1
  auto s = compile(
      "avgpool2.onnxtxt",
      std::string(R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[1,2,7,7] x) => (float[1,2,4,3] y) {
  y = AveragePool <kernel_shape = [3, 2], strides = [2, 3], pads = [2, 0, 0, 1], count_include_pad = )onnx") +
          (includePad ? "1" : "0") + "> (x)\n}\n");
  ASSERT_TRUE(s);
  auto out = run(*s, {x});
  ASSERT_EQ(out.size(), 1u);
  expectClose(values(out[0]), expected);
}

INSTANTIATE_TEST_SUITE_P(CountIncludePad, AveragePoolTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool> &info) {
                           return info.param ? "IncludePad" : "ExcludePad";
                         });

//===----------------------------------------------------------------------===//
// Softmax
//===----------------------------------------------------------------------===//

TEST_F(SessionTest, SoftmaxOpset13Axis1Of3D) {
  auto s = compile("softmax.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[2,5,3] x) => (float[2,5,3] y) {
  y = Softmax <axis = 1> (x)
}
)onnx");
  ASSERT_TRUE(s);
  std::mt19937 rng(10);
  Tensor x = randomTensor(rng, {2, 5, 3}, 256);
  auto out = run(*s, {x});
  ASSERT_EQ(out.size(), 1u);
  std::vector<float> y = values(out[0]);
  expectClose(y, refSoftmax(values(x), 2, 5, 3, false), 1e-5f);
  // Every (n, :, d) column sums to 1.
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t d = 0; d < 3; ++d) {
      double sum = 0;
      for (int64_t c = 0; c < 5; ++c)
        sum += y[(n * 5 + c) * 3 + d];
      EXPECT_NEAR(sum, 1.0, 1e-5) << "n=" << n << " d=" << d;
    }
}

TEST_F(SessionTest, SoftmaxOpset11FlattensAtAxis) {
  // Opset 11: x [2,3,4] with axis 1 is normalised over the 12 trailing
  // elements of each batch row.
  auto s = compile("softmax11.onnxtxt", R"onnx(
<ir_version: 6, opset_import: ["" : 11]>
agraph (float[2,3,4] x) => (float[2,3,4] y) {
  y = Softmax <axis = 1> (x)
}
)onnx");
  ASSERT_TRUE(s);
  std::mt19937 rng(11);
  Tensor x = randomTensor(rng, {2, 3, 4}, 256);
  auto out = run(*s, {x});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].shape, (std::vector<int64_t>{2, 3, 4}));
  expectClose(values(out[0]), refSoftmax(values(x), 2, 12, 1, false), 1e-5f);
}

TEST_F(SessionTest, LogSoftmaxDefaultAxis) {
  auto s = compile("logsoftmax.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[3,7] x) => (float[3,7] y) {
  y = LogSoftmax (x)
}
)onnx");
  ASSERT_TRUE(s);
  std::mt19937 rng(12);
  Tensor x = randomTensor(rng, {3, 7}, 512);
  auto out = run(*s, {x});
  ASSERT_EQ(out.size(), 1u);
  std::vector<float> y = values(out[0]);
  expectClose(y, refSoftmax(values(x), 3, 7, 1, true), 1e-5f);
  for (int64_t r = 0; r < 3; ++r) {
    double sum = 0;
    for (int64_t c = 0; c < 7; ++c)
      sum += std::exp(double(y[r * 7 + c]));
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
}

TEST_F(SessionTest, SoftmaxIsStableForLargeLogits) {
  // exp(1000) overflows float: the max must be subtracted first.
  auto s = compile("softmax_big.onnxtxt", R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[2,4] x) => (float[2,4] y, float[2,4] z) {
  y = Softmax (x)
  z = LogSoftmax (x)
}
)onnx");
  ASSERT_TRUE(s);
  Tensor x(DType::F32, {2, 4});
  const float in[8] = {1000, 999, 998, 1000, -1000, -1001, -999, -1000.5f};
  std::copy(in, in + 8, x.as<float>());
  auto out = run(*s, {x});
  ASSERT_EQ(out.size(), 2u);
  std::vector<float> xs(in, in + 8);
  expectClose(values(out[0]), refSoftmax(xs, 2, 4, 1, false), 1e-5f);
  expectClose(values(out[1]), refSoftmax(xs, 2, 4, 1, true), 1e-5f);
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
  Tensor x = randomTensor(rng, {2, 3, 6, 6}), w = randomTensor(rng, {4, 3, 3, 3});
  auto first = run(*s, {x, w});
  // A run on other inputs in between must not leak into the next one.
  auto other = run(*s, {randomTensor(rng, {2, 3, 6, 6}),
                        randomTensor(rng, {4, 3, 3, 3})});
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
                   "agraph (float[2,3] x, float[2,3] c = " + literal(c) +
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
