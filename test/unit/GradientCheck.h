#ifndef LATHE_TEST_UNIT_GRADIENTCHECK_H
#define LATHE_TEST_UNIT_GRADIENTCHECK_H

// Gradient checks of every op with a vector-Jacobian product
// (DifferentiableOpInterface): a tiny float64 ONNX model computes `y` with
// the op, is reduced to the scalar loss = sum(y * w) with a fixed random
// weight w (so every element of y matters, each with its own weight), and is
// compiled with SessionOptions::gradients for all its float inputs. Each
// gradient element is compared with the central finite difference
// (L(x + h) - L(x - h)) / 2h, h = 1e-6 * max(1, |x|), evaluated by the same
// compiled code.
//
// The relative error |analytic - numeric| / max(|analytic|, |numeric|, 1e-2)
// must stay below 1e-6. The floor keeps gradient elements that are (nearly)
// zero from turning the rounding noise of the difference quotient (about
// 1e-16 * |L| / h, ~1e-9 here) into a large relative error.
#include "SessionTestUtils.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace lathe::test {

/// One model input. Float inputs are drawn uniformly from [lo, hi] and
/// differentiated (unless `wrt` is false); int64 inputs from the integers in
/// [lo, hi]; bool inputs at random. `values`, when given, fixes the input.
struct In {
  enum Kind { Float, Int, Bool };
  std::string name;
  std::vector<int64_t> shape;
  Kind kind = Float;
  double lo = -2, hi = 2;
  bool wrt = true;
  std::vector<double> values = {};
};

inline In positive(std::string name, std::vector<int64_t> shape) {
  return In{std::move(name), std::move(shape), In::Float, 0.5, 2.0};
}

inline std::string typeText(const In &in) {
  const char *type = in.kind == In::Float ? "double"
                     : in.kind == In::Int ? "int64"
                                          : "bool";
  // ONNX text: a bare type is a 0-d tensor, `[]` would be no shape at all.
  return std::string(type) +
         (in.shape.empty() ? "" : "[" + dims(in.shape) + "]");
}

class GradientCheck : public SessionTest {
protected:
  /// Checks the gradients of the graph `body` (ONNX nodes computing `y` from
  /// the inputs) with respect to every float input marked `wrt`.
  void check(const std::string &body, const std::vector<In> &inputs,
             uint32_t seed = 1, int opset = 13) {
    SCOPED_TRACE(body);
    std::mt19937 rng(seed);
    std::string header =
        "<ir_version: 8, opset_import: [\"\" : " + std::to_string(opset) +
        "]>\nagraph (";
    std::string args;
    for (const In &in : inputs)
      args += (args.empty() ? "" : ", ") + typeText(in) + " " + in.name;

    // The shape of y, from a forward-only compilation (ONNX wants graph
    // outputs ranked, so the probe returns Shape(y), known at import).
    std::vector<Tensor> values = makeInputs(inputs, rng);
    SessionOptions probeOptions;
    probeOptions.optLevel = 0;
    auto probe = compile("probe.onnxtxt",
                         header + args + ") => (int64[r] gc_shape) {\n" + body +
                             "\n  gc_shape = Shape (y)\n}\n",
                         probeOptions);
    ASSERT_TRUE(probe);
    std::vector<Tensor> shape = run(*probe, values);
    ASSERT_FALSE(shape.empty());
    std::vector<int64_t> yShape(shape[0].as<int64_t>(),
                                shape[0].as<int64_t>() + shape[0].numel());

    In weight{"gc_w", yShape};
    values.push_back(makeInputs({weight}, rng)[0]);
    std::string text = header + args + ", " + typeText(weight) +
                       " gc_w) => (double gc_loss) {\n" + body +
                       "\n  gc_yw = Mul (y, gc_w)\n"
                       "  gc_loss = ReduceSum <keepdims = 0> (gc_yw)\n}\n";
    SessionOptions options;
    options.gradients = GradientRequest{"gc_loss", {}};
    std::vector<size_t> wrt;
    for (size_t i = 0; i < inputs.size(); ++i)
      if (inputs[i].kind == In::Float && inputs[i].wrt) {
        options.gradients->wrt.push_back(inputs[i].name);
        wrt.push_back(i);
      }
    ASSERT_FALSE(wrt.empty()) << "nothing to differentiate";
    auto session = compile("grad.onnxtxt", text, options);
    ASSERT_TRUE(session);
    ASSERT_EQ(session->outputs().size(), 1 + wrt.size());
    std::vector<Tensor> out = run(*session, values);
    ASSERT_EQ(out.size(), 1 + wrt.size());

    auto loss = [&](const std::vector<Tensor> &in) {
      std::vector<Tensor> o = run(*session, in);
      return o.empty() ? NAN : o[0].as<double>()[0];
    };
    for (size_t k = 0; k < wrt.size(); ++k) {
      const In &in = inputs[wrt[k]];
      const Tensor &grad = out[1 + k];
      EXPECT_EQ(session->outputs()[1 + k].name, "grad_" + in.name);
      ASSERT_EQ(grad.shape, in.shape) << "gradient of " << in.name;
      int reported = 0;
      double worst = 0;
      for (int64_t i = 0; i < grad.numel(); ++i) {
        std::vector<Tensor> plus = values, minus = values;
        double x = values[wrt[k]].as<double>()[i];
        double h = 1e-6 * std::max(1.0, std::fabs(x));
        double xp = x + h, xm = x - h;
        plus[wrt[k]].as<double>()[i] = xp;
        minus[wrt[k]].as<double>()[i] = xm;
        double numeric = (loss(plus) - loss(minus)) / (xp - xm);
        double analytic = grad.as<double>()[i];
        double error =
            std::fabs(analytic - numeric) /
            std::max({std::fabs(analytic), std::fabs(numeric), 1e-2});
        worst = std::max(worst, error);
        if (!(error < 1e-6) && reported++ < 5)
          ADD_FAILURE() << "d loss / d " << in.name << "[" << i
                        << "]: analytic " << analytic << ", numeric " << numeric
                        << " (relative error " << error << ")";
      }
      EXPECT_EQ(reported, 0)
          << "gradient of " << in.name << ": worst relative error " << worst;
    }
  }

  std::vector<Tensor> makeInputs(const std::vector<In> &inputs,
                                 std::mt19937 &rng) {
    std::vector<Tensor> out;
    for (const In &in : inputs) {
      DType dtype = in.kind == In::Float ? DType::F64
                    : in.kind == In::Int ? DType::I64
                                         : DType::Bool;
      Tensor t(dtype, in.shape);
      for (int64_t i = 0; i < t.numel(); ++i) {
        bool fixed = !in.values.empty();
        double v = fixed ? in.values[i % in.values.size()] : 0;
        switch (in.kind) {
        case In::Float:
          t.as<double>()[i] =
              fixed ? v
                    : std::uniform_real_distribution<double>(in.lo, in.hi)(rng);
          break;
        case In::Int:
          t.as<int64_t>()[i] = fixed ? static_cast<int64_t>(v)
                                     : std::uniform_int_distribution<int64_t>(
                                           static_cast<int64_t>(in.lo),
                                           static_cast<int64_t>(in.hi))(rng);
          break;
        case In::Bool:
          t.as<uint8_t>()[i] = fixed ? v != 0 : rng() % 2;
          break;
        }
      }
      out.push_back(std::move(t));
    }
    return out;
  }
};

/// A random shape of rank in [minRank, maxRank] with dims in [1, maxDim].
inline std::vector<int64_t> randomShape(std::mt19937 &rng, int minRank,
                                        int maxRank, int maxDim = 4) {
  int rank = std::uniform_int_distribution<int>(minRank, maxRank)(rng);
  std::vector<int64_t> shape;
  for (int i = 0; i < rank; ++i)
    shape.push_back(std::uniform_int_distribution<int>(1, maxDim)(rng));
  return shape;
}

/// A shape that broadcasts to `shape`: some leading dims dropped, some
/// dims set to 1.
inline std::vector<int64_t>
broadcastPartner(std::mt19937 &rng, const std::vector<int64_t> &shape) {
  size_t drop = std::uniform_int_distribution<size_t>(0, shape.size())(rng);
  std::vector<int64_t> out(shape.begin() + drop, shape.end());
  for (int64_t &d : out)
    if (rng() % 2)
      d = 1;
  return out;
}

/// The shape pairs each binary op is checked on: equal shapes, either side
/// broadcast, both sides broadcast ([a,1] with [1,b]), a 0-d operand, and
/// random pairs.
std::vector<std::pair<std::vector<int64_t>,
                      std::vector<int64_t>>> inline binaryShapes(uint32_t
                                                                     seed) {
  std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> pairs = {
      {{2, 3}, {2, 3}}, {{2, 3, 4}, {4}}, {{3, 1}, {2, 3, 4}},
      {{3, 1}, {1, 4}}, {{}, {2, 3}},
  };
  std::mt19937 rng(seed);
  for (int i = 0; i < 3; ++i) {
    std::vector<int64_t> full = randomShape(rng, 1, 4);
    std::vector<int64_t> part = broadcastPartner(rng, full);
    if (rng() % 2)
      pairs.push_back({full, part});
    else
      pairs.push_back({part, full});
  }
  return pairs;
}

} // namespace lathe::test

#endif // LATHE_TEST_UNIT_GRADIENTCHECK_H
