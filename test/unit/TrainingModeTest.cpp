// End-to-end tests of the training form (pass lathe-training-mode through
// SessionOptions::trainingModeSeed): dropout masks keyed by (seed, step,
// op), and batch normalisation with batch statistics and PyTorch's
// running-statistics update, against hand computations in double.
#include "SessionTestUtils.h"
#include "tools/lib/CounterRng.h"

#include <cmath>
#include <random>

namespace lathe::test {
namespace {

Tensor stepTensor(int64_t step) {
  Tensor t(DType::I64, {});
  *t.as<int64_t>() = step;
  return t;
}

Tensor uniformF64(std::mt19937 &rng, std::vector<int64_t> shape, double lo,
                  double hi) {
  Tensor t(DType::F64, std::move(shape));
  std::uniform_real_distribution<double> dist(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.as<double>()[i] = dist(rng);
  return t;
}

bool sameBits(const Tensor &a, const Tensor &b) {
  return a.dtype == b.dtype && a.shape == b.shape && a.data == b.data;
}

// Two Dropout nodes reading the same input: y and z differ only by the
// op's ordinal in the key.
const char *kDropoutModel = R"(<ir_version: 8, opset_import: ["" : 13]>
agraph (double[4,512] x) => (double[4,512] y, double[4,512] z) {
  r = Constant <value = double {0.3}> ()
  y = Dropout (x, r)
  z = Dropout (x, r)
}
)";

class TrainingMode : public SessionTest {
protected:
  std::unique_ptr<Session> compileTraining(const std::string &name,
                                           const std::string &text,
                                           uint64_t seed) {
    SessionOptions options;
    options.trainingModeSeed = seed;
    return compile(name, text, options);
  }
};

TEST_F(TrainingMode, DropoutSignature) {
  auto s = compileTraining("d.onnxtxt", kDropoutModel, 11);
  ASSERT_TRUE(s);
  ASSERT_EQ(s->inputs().size(), 2u);
  EXPECT_EQ(s->inputs()[1].name, "lathe.step");
  EXPECT_EQ(s->inputs()[1].dtype, DType::I64);
  EXPECT_TRUE(s->inputs()[1].shape.empty());
  EXPECT_EQ(s->outputs().size(), 2u);
}

TEST_F(TrainingMode, DropoutMasksKeyedBySeedStepAndOp) {
  const uint64_t seed = 11;
  auto s = compileTraining("d.onnxtxt", kDropoutModel, seed);
  ASSERT_TRUE(s);
  std::mt19937 rng(3);
  // Inputs away from 0, so a dropped element (0) is never a kept one.
  Tensor x = uniformF64(rng, {4, 512}, 1.0, 2.0);
  // The ratio the op uses: ONNX's 0.3 kept by the importer as f32.
  const double ratio = static_cast<double>(0.3f);
  const double scale = 1.0 / (1.0 - ratio);

  std::vector<Tensor> a = run(*s, {x, stepTensor(5)});
  std::vector<Tensor> again = run(*s, {x, stepTensor(5)});
  std::vector<Tensor> next = run(*s, {x, stepTensor(6)});
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(again.size(), 2u);
  ASSERT_EQ(next.size(), 2u);
  // Same (seed, step): bit for bit, also from a second compilation.
  EXPECT_TRUE(sameBits(a[0], again[0]));
  EXPECT_TRUE(sameBits(a[1], again[1]));
  auto other = compileTraining("d2.onnxtxt", kDropoutModel, seed);
  ASSERT_TRUE(other);
  std::vector<Tensor> recompiled = run(*other, {x, stepTensor(5)});
  ASSERT_EQ(recompiled.size(), 2u);
  EXPECT_TRUE(sameBits(a[0], recompiled[0]));
  EXPECT_TRUE(sameBits(a[1], recompiled[1]));
  // Another step, another op, another seed: other masks.
  EXPECT_FALSE(sameBits(a[0], next[0]));
  EXPECT_FALSE(sameBits(a[1], next[1]));
  EXPECT_FALSE(sameBits(a[0], a[1]));
  auto reseeded = compileTraining("d3.onnxtxt", kDropoutModel, seed + 1);
  ASSERT_TRUE(reseeded);
  EXPECT_FALSE(sameBits(a[0], run(*reseeded, {x, stepTensor(5)})[0]));

  // Each element: the documented key (tools/lib/CounterRng.h's
  // counterRandom with stream 2^32 + op), kept with probability 1 - ratio,
  // scaled by exactly 1 / (1 - ratio).
  struct Case {
    const Tensor *out;
    uint64_t op, step;
  };
  for (Case c : {Case{&a[0], 0, 5}, Case{&a[1], 1, 5}, Case{&next[0], 0, 6},
                 Case{&next[1], 1, 6}}) {
    int64_t kept = 0, wrong = 0;
    for (int64_t i = 0; i < x.numel(); ++i) {
      double u = toUnitDouble(
          counterRandom(seed, (1ull << 32) + c.op, c.step, uint64_t(i)));
      bool keep = u >= ratio;
      double y = c.out->as<double>()[i];
      double expected = keep ? x.as<double>()[i] * scale : 0.0;
      kept += keep;
      if (y != expected && wrong++ < 5)
        ADD_FAILURE() << "op " << c.op << " step " << c.step << " element " << i
                      << ": " << y << ", expected " << expected;
    }
    EXPECT_EQ(wrong, 0);
    double fraction = double(kept) / double(x.numel());
    // 2048 draws: the standard deviation of the fraction is about 0.01.
    EXPECT_NEAR(fraction, 1 - ratio, 0.04) << "op " << c.op;
  }
}

TEST_F(TrainingMode, ExplicitTrainingDropoutGetsTheStepToo) {
  // A Dropout imported in training mode (training_mode = true) is keyed by
  // (seed, step, op) as well, with the pass's seed instead of its own.
  auto s = compileTraining("t.onnxtxt",
                           R"(<ir_version: 8, opset_import: ["" : 13]>
agraph (double[1000] x) => (double[1000] y) {
  r = Constant <value = double {0.5}> ()
  t = Constant <value = bool {1}> ()
  y = Dropout <seed = 99> (x, r, t)
}
)",
                           4);
  ASSERT_TRUE(s);
  Tensor x(DType::F64, {1000});
  for (int64_t i = 0; i < 1000; ++i)
    x.as<double>()[i] = 1.0;
  std::vector<Tensor> out = run(*s, {x, stepTensor(0)});
  ASSERT_EQ(out.size(), 1u);
  for (int64_t i = 0; i < 1000; ++i) {
    bool keep =
        toUnitDouble(counterRandom(4, 1ull << 32, 0, uint64_t(i))) >= 0.5;
    ASSERT_EQ(out[0].as<double>()[i], keep ? 2.0 : 0.0) << i;
  }
}

// BatchNormalization with its running statistics as model inputs (as the
// training step makes them).
const char *kBatchNormModel = R"(<ir_version: 8, opset_import: ["" : 13]>
agraph (double[4,3,5] x, double[3] s, double[3] b, double[3] bn_mean,
        double[3] bn_var) => (double[4,3,5] y) {
  y = BatchNormalization <epsilon = 0.001, momentum = 0.8> (x, s, b, bn_mean, bn_var)
}
)";

TEST_F(TrainingMode, BatchNormBatchStatisticsAndRunningUpdate) {
  auto s = compileTraining("bn.onnxtxt", kBatchNormModel, 1);
  ASSERT_TRUE(s);
  ASSERT_EQ(s->inputs().size(), 6u);
  EXPECT_EQ(s->inputs()[5].name, "lathe.step");
  ASSERT_EQ(s->outputs().size(), 3u);
  EXPECT_EQ(s->outputs()[1].name, "bn_mean");
  EXPECT_EQ(s->outputs()[2].name, "bn_var");
  EXPECT_EQ(s->outputs()[1].shape, std::vector<int64_t>{3});

  std::mt19937 rng(8);
  Tensor x = uniformF64(rng, {4, 3, 5}, -2.0, 3.0);
  Tensor scale = uniformF64(rng, {3}, 0.5, 1.5);
  Tensor bias = uniformF64(rng, {3}, -1.0, 1.0);
  Tensor mean = uniformF64(rng, {3}, -0.5, 0.5);
  Tensor var = uniformF64(rng, {3}, 0.5, 2.0);
  std::vector<Tensor> out = run(*s, {x, scale, bias, mean, var, stepTensor(0)});
  ASSERT_EQ(out.size(), 3u);

  // PyTorch's training-mode BatchNorm (momentum 0.2 = 1 - ONNX's 0.8): the
  // output uses the biased batch variance, the running variance the
  // unbiased one (N = 4 * 5 = 20 elements per channel). The momentum is the
  // ONNX attribute as f32, as the op keeps it.
  const double momentum = static_cast<double>(0.8f), eps = 0.001f;
  const int64_t n = 4, c = 3, l = 5, count = n * l;
  auto at = [&](const Tensor &t, int64_t i, int64_t ch, int64_t j) {
    return t.as<double>()[(i * c + ch) * l + j];
  };
  for (int64_t ch = 0; ch < c; ++ch) {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < l; ++j)
        sum += at(x, i, ch, j);
    double m = sum / count, sq = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < l; ++j)
        sq += (at(x, i, ch, j) - m) * (at(x, i, ch, j) - m);
    double v = sq / count;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < l; ++j) {
        double expected = scale.as<double>()[ch] * (at(x, i, ch, j) - m) /
                              std::sqrt(v + eps) +
                          bias.as<double>()[ch];
        EXPECT_NEAR(at(out[0], i, ch, j), expected, 1e-12)
            << "y[" << i << "," << ch << "," << j << "]";
      }
    double runningMean = momentum * mean.as<double>()[ch] + (1 - momentum) * m;
    double runningVar = momentum * var.as<double>()[ch] +
                        (1 - momentum) * v * count / (count - 1);
    EXPECT_NEAR(out[1].as<double>()[ch], runningMean, 1e-12) << "mean " << ch;
    EXPECT_NEAR(out[2].as<double>()[ch], runningVar, 1e-12) << "var " << ch;
  }
}

TEST_F(TrainingMode, BatchNormStatisticsMustBeInputs) {
  // Initializers are constants: no state to update. The error names the
  // node.
  std::string text = R"(<ir_version: 8, opset_import: ["" : 13]>
agraph (double[2,2,3] x) => (double[2,2,3] y)
  <double[2] s = {1.0, 1.0}, double[2] b = {0.0, 0.0}, double[2] m = {0.0, 0.0},
   double[2] v = {1.0, 1.0}> {
  y = BatchNormalization (x, s, b, m, v)
}
)";
  SessionOptions options;
  options.trainingModeSeed = 0;
  std::string err;
  auto s = Session::compile(write("init.onnxtxt", text), options, &err);
  EXPECT_FALSE(s);
  EXPECT_NE(err.find("BatchNormalization"), std::string::npos) << err;
  EXPECT_NE(err.find("must be named function arguments"), std::string::npos)
      << err;
}

} // namespace
} // namespace lathe::test
