// Shared by the Session tests (SessionTest.cpp, SessionConvPoolTest.cpp):
// seeded random inputs, comparison, a fixture that compiles ONNX text in a
// temporary directory, and naive reference implementations.
#ifndef LATHE_TEST_UNIT_SESSIONTESTUTILS_H
#define LATHE_TEST_UNIT_SESSIONTESTUTILS_H

#include "lathe/Session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

// Not in an anonymous namespace: the fixture must be one class in every test
// file that uses it.
namespace lathe::test {

namespace fs = std::filesystem;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// Values that are exact in float and in decimal (multiples of 1/64), so a
/// tensor written into a model's text is read back bit for bit.
inline Tensor randomTensor(std::mt19937 &rng, std::vector<int64_t> shape,
                           int range = 128) {
  Tensor t(DType::F32, std::move(shape));
  std::uniform_int_distribution<int> dist(-range, range);
  float *p = t.as<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    p[i] = static_cast<float>(dist(rng)) / 64.0f;
  return t;
}

inline std::vector<float> values(const Tensor &t) {
  return std::vector<float>(t.as<float>(), t.as<float>() + t.numel());
}

/// "{v0, v1, ...}" for an initializer in ONNX text syntax.
inline std::string literal(const Tensor &t) {
  std::string s = "{";
  char buf[32];
  for (int64_t i = 0; i < t.numel(); ++i) {
    std::snprintf(buf, sizeof(buf), "%s%.9g", i ? ", " : "", t.as<float>()[i]);
    s += buf;
  }
  return s + "}";
}

inline std::string dims(const std::vector<int64_t> &shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "," : "") + std::to_string(shape[i]);
  return s;
}

inline void expectClose(const std::vector<float> &actual,
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
inline std::vector<float> refConv2d(const Tensor &x, const Tensor &w,
                                    const std::vector<float> &bias,
                                    const Conv2dParams &p, int64_t &OH,
                                    int64_t &OW) {
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
inline int64_t poolOut(int64_t in, int64_t k, int64_t s, int64_t pb, int64_t pe,
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
inline std::vector<float> refPool2d(const Tensor &x, const Pool2dParams &p,
                                    bool isMax, int64_t &OH, int64_t &OW) {
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
inline std::vector<float> refSoftmax(const std::vector<float> &x, int64_t outer,
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

} // namespace lathe::test

#endif // LATHE_TEST_UNIT_SESSIONTESTUTILS_H
