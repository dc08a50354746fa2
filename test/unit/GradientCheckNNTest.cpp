// Gradient checks of the NN layers: convolution, transposed convolution,
// pooling, normalisation and the NLL loss (the fixture and its tolerance:
// GradientCheck.h). Window attributes are drawn at random per seed, so each
// test covers strides, pads, dilations, groups and 1-D to 3-D.
#include "GradientCheck.h"

#include <sstream>

namespace lathe::test {
namespace {

std::string list(const std::vector<int64_t> &v) { return "[" + dims(v) + "]"; }

int64_t pick(std::mt19937 &rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

/// Random window attributes for `rank` spatial dims. Pads stay below the
/// window extent when `padBelowWindow` (pooling: no window all padding).
struct Window {
  std::vector<int64_t> kernel, strides, dilations, pads, input;
  std::string attrs(bool withDilations = true) const {
    std::string s = "strides = " + list(strides) + ", pads = " + list(pads);
    if (withDilations)
      s += ", dilations = " + list(dilations);
    return s;
  }
};

Window randomWindow(std::mt19937 &rng, int rank, bool dilate,
                    bool padBelowWindow, int64_t maxKernel = 3) {
  Window w;
  std::vector<int64_t> end;
  for (int i = 0; i < rank; ++i) {
    int64_t k = pick(rng, 1, maxKernel), d = dilate ? pick(rng, 1, 2) : 1;
    int64_t extent = (k - 1) * d + 1;
    int64_t maxPad = padBelowWindow ? std::min<int64_t>(2, extent - 1) : 2;
    int64_t pb = pick(rng, 0, maxPad), pe = pick(rng, 0, maxPad);
    w.kernel.push_back(k);
    w.dilations.push_back(d);
    w.strides.push_back(pick(rng, 1, 3));
    w.pads.push_back(pb);
    end.push_back(pe);
    // At least one window fits; 3-D stays small (finite differences cost
    // two runs per input element).
    int64_t lo = std::max<int64_t>(1, extent - pb - pe);
    w.input.push_back(pick(rng, lo, lo + (rank == 3 ? 2 : 4)));
  }
  w.pads.insert(w.pads.end(), end.begin(), end.end());
  return w;
}

std::vector<int64_t> nchw(int64_t n, int64_t c,
                          const std::vector<int64_t> &spatial) {
  std::vector<int64_t> s = {n, c};
  s.insert(s.end(), spatial.begin(), spatial.end());
  return s;
}

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

TEST_F(GradientCheck, Conv) {
  // Every combination of rank, grouping (plain, grouped, depthwise) and
  // bias, twice each, with random strides, pads, dilations and sizes per
  // seed.
  uint32_t seed = 100;
  for (int rank = 1; rank <= 3; ++rank)
    for (int grouping = 0; grouping < 3; ++grouping)
      for (bool bias : {false, true, false, true}) {
        std::mt19937 rng(seed++);
        Window w = randomWindow(rng, rank, true, false);
        int64_t group = grouping == 0 ? 1 : pick(rng, 2, 3);
        int64_t cg = grouping == 2 ? 1 : pick(rng, 1, 2);
        int64_t mg = pick(rng, 1, 2);
        int64_t n = pick(rng, 1, 2);
        std::vector<In> in = {{"x", nchw(n, group * cg, w.input)},
                              {"w", nchw(group * mg, cg, w.kernel)}};
        if (bias)
          in.push_back({"b", {group * mg}});
        check("  y = Conv <" + w.attrs() + ", group = " +
                  std::to_string(group) + "> (x, w" + (bias ? ", b" : "") + ")",
              in, seed);
      }
}

TEST_F(GradientCheck, ConvStrideLeavesInputUnread) {
  // Stride 3 over 9 elements with k = 2: inputs 2, 5 and 8 are never read
  // and get a zero gradient (8 through the transposed convolution's
  // output_padding).
  check("  y = Conv <strides = [3]> (x, w)",
        {{"x", {1, 2, 9}}, {"w", {3, 2, 2}}});
  check("  y = Conv <strides = [2, 3], pads = [0, 1, 2, 0]> (x, w, b)",
        {{"x", {2, 2, 5, 7}}, {"w", {2, 2, 2, 2}}, {"b", {2}}});
}

TEST_F(GradientCheck, ConvTranspose) {
  uint32_t seed = 200;
  for (int rank = 1; rank <= 3; ++rank)
    for (int grouping = 0; grouping < 3; ++grouping)
      for (bool bias : {false, true, false, true}) {
        std::mt19937 rng(seed++);
        Window w = randomWindow(rng, rank, true, false);
        int64_t group = grouping == 0 ? 1 : pick(rng, 2, 3);
        int64_t cg = grouping == 2 ? 1 : pick(rng, 1, 2);
        int64_t mg = pick(rng, 1, 2);
        std::vector<int64_t> outPad, input;
        for (int i = 0; i < rank; ++i) {
          outPad.push_back(pick(rng, 0, w.strides[i] - 1));
          input.push_back(pick(rng, 1, rank == 3 ? 2 : 4));
        }
        // Crops must leave an output: shrink the pads where they do not.
        for (int i = 0; i < rank; ++i) {
          int64_t full = (input[i] - 1) * w.strides[i] +
                         (w.kernel[i] - 1) * w.dilations[i] + 1 + outPad[i];
          while (w.pads[i] + w.pads[i + rank] >= full)
            (w.pads[i] > 0 ? w.pads[i] : w.pads[i + rank])--;
        }
        std::vector<In> in = {{"x", nchw(pick(rng, 1, 2), group * cg, input)},
                              {"w", nchw(group * cg, mg, w.kernel)}};
        if (bias)
          in.push_back({"b", {group * mg}});
        check("  y = ConvTranspose <" + w.attrs() + ", output_padding = " +
                  list(outPad) + ", group = " + std::to_string(group) +
                  "> (x, w" + (bias ? ", b" : "") + ")",
              in, seed);
      }
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

TEST_F(GradientCheck, MaxPool) {
  // Random inputs have no ties, so the arg-max is unique and the central
  // difference sees exactly the element that gets the gradient.
  uint32_t seed = 300;
  for (int rank = 1; rank <= 3; ++rank)
    for (bool ceil : {false, true})
      for (int rep = 0; rep < 2; ++rep) {
        std::mt19937 rng(seed++);
        Window w = randomWindow(rng, rank, true, true);
        check("  y = MaxPool <kernel_shape = " + list(w.kernel) + ", " +
                  w.attrs() + ", ceil_mode = " + std::to_string(ceil) + "> (x)",
              {{"x", nchw(pick(rng, 1, 2), pick(rng, 1, 3), w.input)}}, seed);
      }
}

TEST_F(GradientCheck, MaxPoolTilingWindows) {
  // Strides equal to the kernel and spatial dims that are multiples of it:
  // lathe.max_pool_grad instead of indices and a scatter.
  check("  y = MaxPool <kernel_shape = [2, 2], strides = [2, 2]> (x)",
        {{"x", {2, 3, 4, 6}}});
  // 8 windows per row pair: lathe-vectorize-max-pool-grad's vector code.
  check("  y = MaxPool <kernel_shape = [2, 2], strides = [2, 2]> (x)",
        {{"x", {2, 2, 4, 16}}}, 5);
  check("  y = MaxPool <kernel_shape = [3], strides = [3]> (x)",
        {{"x", {2, 2, 9}}}, 2);
  check("  y = MaxPool <kernel_shape = [1, 2, 3], strides = [1, 2, 3]> (x)",
        {{"x", {1, 2, 2, 4, 6}}}, 3);
  check("  y, i = MaxPool <kernel_shape = [2, 1], strides = [2, 1]> (x)",
        {{"x", {1, 2, 4, 3}}}, 4);
}

TEST_F(GradientCheck, MaxPoolOverlappingWindowsAccumulate) {
  // Stride 1, kernel 3: a large element is the max of up to three windows
  // and collects all their gradients.
  check("  y = MaxPool <kernel_shape = [3], strides = [1]> (x)",
        {In{"x", {1, 1, 6}, In::Float, 0, 0, true, {0, 5, 1, 2, 0.5, 0.25}}});
  check("  y, i = MaxPool <kernel_shape = [2, 2], strides = [1, 1]> (x)",
        {{"x", {2, 2, 4, 3}}});
}

TEST_F(GradientCheck, MaxPoolTiesGoToTheFirstMax) {
  // Two equal maxima in a window: the gradient goes to the first (the one
  // MaxPool's indices name). The check compares with the one-sided
  // behaviour of the compiled forward, which is not a derivative here, so
  // this test reads the gradient directly.
  std::string text = "<ir_version: 8, opset_import: [\"\" : 13]>\n"
                     "agraph (double[1,1,4] x) => (double loss) {\n"
                     "  y = MaxPool <kernel_shape = [2], strides = [2]> (x)\n"
                     "  loss = ReduceSum <keepdims = 0> (y)\n}\n";
  SessionOptions options;
  options.gradients = GradientRequest{"loss", {"x"}};
  auto s = compile("ties.onnxtxt", text, options);
  ASSERT_TRUE(s);
  Tensor x(DType::F64, {1, 1, 4});
  double values[] = {1, 1, -2, 3};
  std::copy(values, values + 4, x.as<double>());
  std::vector<Tensor> out = run(*s, {x});
  ASSERT_EQ(out.size(), 2u);
  std::vector<double> grad(out[1].as<double>(), out[1].as<double>() + 4);
  EXPECT_EQ(grad, (std::vector<double>{1, 0, 0, 1}));

  // In 2-D the window is read row-major: the first of the tied maxima is
  // the one in the earlier row, then the earlier column.
  text = "<ir_version: 8, opset_import: [\"\" : 13]>\n"
         "agraph (double[1,1,2,4] x) => (double loss) {\n"
         "  y = MaxPool <kernel_shape = [2, 2], strides = [2, 2]> (x)\n"
         "  loss = ReduceSum <keepdims = 0> (y)\n}\n";
  auto s2 = compile("ties2d.onnxtxt", text, options);
  ASSERT_TRUE(s2);
  Tensor x2(DType::F64, {1, 1, 2, 4});
  double values2[] = {0, 5, 2, 7, 5, 5, 7, 1};
  std::copy(values2, values2 + 8, x2.as<double>());
  out = run(*s2, {x2});
  ASSERT_EQ(out.size(), 2u);
  grad.assign(out[1].as<double>(), out[1].as<double>() + 8);
  EXPECT_EQ(grad, (std::vector<double>{0, 1, 0, 1, 0, 0, 0, 0}));

  // Four windows in a row: the vector code (4 lanes of f64) picks the same.
  // The output gradient is an input (w), not constant ones, so the
  // gradient is not folded into the pooling kernel.
  text = "<ir_version: 8, opset_import: [\"\" : 13]>\n"
         "agraph (double[1,1,2,8] x, double[1,1,1,4] w) => (double loss) {\n"
         "  y = MaxPool <kernel_shape = [2, 2], strides = [2, 2]> (x)\n"
         "  z = Mul (y, w)\n"
         "  loss = ReduceSum <keepdims = 0> (z)\n}\n";
  auto s3 = compile("ties2d_vector.onnxtxt", text, options);
  ASSERT_TRUE(s3);
  Tensor x3(DType::F64, {1, 1, 2, 8}), w3(DType::F64, {1, 1, 1, 4});
  double values3[] = {0, 5, 2, 7, 3, 3, 1, 2, 5, 5, 7, 1, 3, 3, 4, 4};
  std::copy(values3, values3 + 16, x3.as<double>());
  for (int i = 0; i < 4; ++i)
    w3.as<double>()[i] = i + 1;
  out = run(*s3, {x3, w3});
  ASSERT_EQ(out.size(), 2u);
  grad.assign(out[1].as<double>(), out[1].as<double>() + 16);
  EXPECT_EQ(grad, (std::vector<double>{0, 1, 0, 2, 3, 0, 0, 0, //
                                       0, 0, 0, 0, 0, 0, 4, 0}));
}

TEST_F(GradientCheck, GlobalPools) {
  // GlobalMaxPool is imported as a MaxPool over the whole extent.
  check("  y = GlobalMaxPool (x)", {{"x", {2, 3, 4, 3}}});
  check("  y = GlobalMaxPool (x)", {{"x", {1, 2, 5}}}, 2);
  check("  y = GlobalAveragePool (x)", {{"x", {2, 2, 3, 2, 2}}}, 3);
}

TEST_F(GradientCheck, AveragePool) {
  uint32_t seed = 400;
  for (int rank = 1; rank <= 3; ++rank)
    for (bool ceil : {false, true})
      for (bool includePad : {false, true}) {
        std::mt19937 rng(seed++);
        Window w = randomWindow(rng, rank, false, true);
        check("  y = AveragePool <kernel_shape = " + list(w.kernel) + ", " +
                  w.attrs(false) + ", ceil_mode = " + std::to_string(ceil) +
                  ", count_include_pad = " + std::to_string(includePad) +
                  "> (x)",
              {{"x", nchw(pick(rng, 1, 2), pick(rng, 1, 3), w.input)}}, seed);
      }
}

TEST_F(GradientCheck, CnnLayerStack) {
  // Conv -> Relu -> MaxPool -> Conv -> AveragePool -> Gemm, the layers of a
  // small CNN, differentiated with respect to every parameter and the input.
  // Weights at the scale of a real network's (+-0.5, not the default +-2)
  // keep the loss small: the difference quotient's rounding noise grows
  // with |loss| (~1e-10 |L| here) and must stay below the 1e-8 that the
  // criterion allows a gradient element near zero.
  check("  c1 = Conv <pads = [1, 1, 1, 1]> (x, w1, b1)\n"
        "  r1 = Relu (c1)\n"
        "  p1 = MaxPool <kernel_shape = [2, 2], strides = [2, 2]> (r1)\n"
        "  c2 = Conv <group = 2> (p1, w2, b2)\n"
        "  p2 = AveragePool <kernel_shape = [2, 2]> (c2)\n"
        "  f = Flatten (p2)\n"
        "  y = Gemm <transB = 1> (f, w3, b3)",
        {{"x", {2, 1, 6, 6}},
         {"w1", {4, 1, 3, 3}, In::Float, -0.5, 0.5},
         {"b1", {4}},
         {"w2", {4, 2, 2, 2}, In::Float, -0.5, 0.5},
         {"b2", {4}},
         {"w3", {3, 4}, In::Float, -0.5, 0.5},
         {"b3", {3}}});
}

//===----------------------------------------------------------------------===//
// Normalisation
//===----------------------------------------------------------------------===//

/// A random [N, C, spatial...] shape with 0 to 3 spatial dims.
std::vector<int64_t> randomNC(std::mt19937 &rng, int64_t minN = 1) {
  std::vector<int64_t> shape = {pick(rng, minN, 3), pick(rng, 1, 3)};
  for (int64_t i = 0, r = pick(rng, 0, 3); i < r; ++i)
    shape.push_back(pick(rng, 1, 3));
  return shape;
}

TEST_F(GradientCheck, BatchNormInference) {
  // With respect to x, scale, bias, and the running mean and variance.
  for (uint32_t seed = 500; seed < 506; ++seed) {
    std::mt19937 rng(seed);
    std::vector<int64_t> x = randomNC(rng);
    std::vector<int64_t> c = {x[1]};
    check("  y = BatchNormalization <epsilon = 0.01> (x, s, b, m, v)",
          {{"x", x}, {"s", c}, {"b", c}, {"m", c}, positive("v", c)}, seed);
  }
}

TEST_F(GradientCheck, BatchNormTraining) {
  // Batch statistics (opset 14 training_mode): the gradient goes through
  // the batch mean and variance. Batches of at least 2 elements per
  // channel, else the variance is 0 and the output the bias.
  for (uint32_t seed = 510; seed < 518; ++seed) {
    std::mt19937 rng(seed);
    std::vector<int64_t> x = randomNC(rng, 2);
    std::vector<int64_t> c = {x[1]};
    check("  y, rm, rv = BatchNormalization <epsilon = 0.001, momentum = 0.8, "
          "training_mode = 1> (x, s, b, m, v)",
          {{"x", x},
           {"s", c},
           {"b", c},
           {"m", c, In::Float, -1, 1, false},
           {"v", c, In::Float, 0.5, 2, false}},
          seed, 15);
  }
}

TEST_F(GradientCheck, BatchNormTrainingStatisticsOutputs) {
  // Opset 9-13 form: the saved batch mean and variance are outputs too,
  // and a loss that reads them sends gradients back to x through them.
  check("  y0, rm, rv, sm, sv = BatchNormalization <epsilon = 0.01> "
        "(x, s, b, m, v)\n"
        "  k = Constant <value = int64[2] {3, 1}> ()\n"
        "  smr = Reshape (sm, k)\n"
        "  svr = Reshape (sv, k)\n"
        "  t = Mul (smr, svr)\n"
        "  y = Add (y0, t)",
        {{"x", {2, 3, 4}},
         {"s", {3}},
         {"b", {3}},
         {"m", {3}, In::Float, -1, 1, false},
         {"v", {3}, In::Float, 0.5, 2, false}});
}

TEST_F(GradientCheck, InstanceNorm) {
  for (uint32_t seed = 520; seed < 526; ++seed) {
    std::mt19937 rng(seed);
    std::vector<int64_t> x = randomNC(rng);
    x.push_back(pick(rng, 2, 4)); // at least 2 elements per (n, c)
    std::vector<int64_t> c = {x[1]};
    check("  y = InstanceNormalization <epsilon = 0.01> (x, s, b)",
          {{"x", x}, {"s", c}, {"b", c}}, seed);
  }
}

TEST_F(GradientCheck, LayerNorm) {
  // Every axis, scale and bias over the normalised dims or broadcast over
  // some of them, with and without bias; statistics in float64.
  uint32_t seed = 530;
  for (int rank = 1; rank <= 4; ++rank)
    for (int axis = -rank; axis < rank; ++axis) {
      std::mt19937 rng(seed++);
      std::vector<int64_t> x;
      for (int i = 0; i < rank; ++i)
        x.push_back(pick(rng, 1, 3));
      int64_t a = axis < 0 ? axis + rank : axis;
      x[rank - 1] = std::max<int64_t>(2, x[rank - 1]);
      std::vector<int64_t> norm(x.begin() + a, x.end());
      std::vector<int64_t> scale = norm, bias = norm;
      for (int64_t &d : scale)
        if (rng() % 3 == 0)
          d = 1;
      bool withBias = rng() % 2;
      std::vector<In> in = {{"x", x}, {"s", scale}};
      if (withBias)
        in.push_back({"b", bias});
      check("  y = LayerNormalization <axis = " + std::to_string(axis) +
                ", epsilon = 0.01, stash_type = 11> (x, s" +
                (withBias ? ", b" : "") + ")",
            in, seed, 17);
    }
}

TEST_F(GradientCheck, LayerNormStatisticsOutputs) {
  check("  y0, mu, r = LayerNormalization <axis = 1, epsilon = 0.01, "
        "stash_type = 11> (x, s, b)\n"
        "  t = Mul (mu, r)\n"
        "  y = Add (y0, t)",
        {{"x", {3, 2, 3}}, {"s", {2, 3}}, {"b", {3}}}, 1, 17);
}

TEST_F(GradientCheck, MeanVarianceNorm) {
  check("  y = MeanVarianceNormalization (x)", {{"x", {2, 3, 2, 3}}});
  check("  y = MeanVarianceNormalization <axes = [1]> (x)", {{"x", {2, 4, 3}}},
        2);
  check("  y = MeanVarianceNormalization <axes = [0, 2]> (x)",
        {{"x", {3, 2, 4}}}, 3);
}

TEST_F(GradientCheck, Lrn) {
  // Even and odd window sizes (the window is asymmetric for even ones),
  // windows wider than the channels.
  uint32_t seed = 540;
  for (int size : {1, 2, 3, 4, 5, 7}) {
    std::mt19937 rng(seed++);
    std::vector<int64_t> x = {pick(rng, 1, 2), pick(rng, 2, 6)};
    for (int64_t i = 0, r = pick(rng, 0, 2); i < r; ++i)
      x.push_back(pick(rng, 1, 3));
    check("  y = LRN <size = " + std::to_string(size) +
              ", alpha = 0.3, beta = 0.6, bias = 1.5> (x)",
          {{"x", x}}, seed);
  }
}

TEST_F(GradientCheck, LpNorm) {
  uint32_t seed = 550;
  for (int p : {1, 2})
    for (int axis : {-1, 0, 1}) {
      std::mt19937 rng(seed++);
      std::vector<int64_t> x = {pick(rng, 1, 3), pick(rng, 2, 4),
                                pick(rng, 1, 3)};
      check("  y = LpNormalization <p = " + std::to_string(p) +
                ", axis = " + std::to_string(axis) + "> (x)",
            {{"x", x}}, seed);
    }
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

TEST_F(GradientCheck, NllLoss) {
  // Every reduction, with and without class weights (differentiated too),
  // with and without an ignored class that some targets hit; [N, C] and
  // [N, C, d1, d2] inputs.
  uint32_t seed = 560;
  for (const char *reduction : {"none", "sum", "mean"})
    for (bool weighted : {false, true})
      for (bool ignore : {false, true})
        for (bool spatial : {false, true}) {
          std::mt19937 rng(seed++);
          int64_t n = pick(rng, 2, 4), c = pick(rng, 2, 4);
          std::vector<int64_t> x = {n, c}, t = {n};
          if (spatial)
            for (int i = 0; i < 2; ++i) {
              x.push_back(pick(rng, 1, 3));
              t.push_back(x.back());
            }
          std::string attrs = std::string("reduction = \"") + reduction + "\"";
          if (ignore)
            attrs += ", ignore_index = 1";
          // Targets drawn here so that one hits class 0 (counted) and,
          // with ignore_index, one hits the ignored class 1.
          int64_t count = 1;
          for (int64_t d : t)
            count *= d;
          std::vector<double> targets;
          for (int64_t i = 0; i < count; ++i)
            targets.push_back(double(pick(rng, 0, c - 1)));
          targets[0] = 0;
          targets[1] = 1;
          std::vector<In> in = {{"x", x},
                                In{"t", t, In::Int, 0, 0, true, targets}};
          if (weighted)
            in.push_back(positive("w", {c}));
          check("  y = NegativeLogLikelihoodLoss <" + attrs + "> (x, t" +
                    (weighted ? ", w" : "") + ")",
                in, seed);
        }
}

TEST_F(GradientCheck, SoftmaxCrossEntropyLoss) {
  // Imported as LogSoftmax + NLL loss: the usual classifier loss.
  check("  y = SoftmaxCrossEntropyLoss <reduction = \"mean\"> (x, t)",
        {{"x", {4, 5}}, In{"t", {4}, In::Int, 0, 4}});
  check("  y = SoftmaxCrossEntropyLoss <reduction = \"sum\", ignore_index = 0> "
        "(x, t, w)",
        {{"x", {3, 4, 2}}, In{"t", {3, 2}, In::Int, 0, 3}, positive("w", {4})},
        2);
}

} // namespace
} // namespace lathe::test
