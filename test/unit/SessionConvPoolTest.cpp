// End to end through the C++ API: convolution, pooling and softmax models
// compiled with lathe::Session, run on seeded random inputs and compared with
// the reference implementations in SessionTestUtils.h.
#include "SessionTestUtils.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

using lathe::DType;
using lathe::Tensor;
using namespace lathe::test;

namespace {

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

} // namespace
