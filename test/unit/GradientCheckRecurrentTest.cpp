// Gradient checks of RNN, GRU and LSTM (ir/LatheRecurrentVJP.cpp; the
// fixture and its tolerance: GradientCheck.h) with respect to X, W, R, B,
// initial_h, initial_c and P, over every attribute: direction, layout, clip,
// each activation with its alpha/beta, GRU's linear_before_reset, LSTM's
// input_forget, sequence_lens, and each result (Y, Y_h, Y_c, and several at
// once) as the differentiated output.
#include "GradientCheck.h"

namespace lathe::test {
namespace {

// Bits of Rec::outputs.
constexpr int Y = 1, Yh = 2, Yc = 4;

/// One recurrent node and its inputs.
struct Rec {
  std::string op; // RNN, GRU or LSTM
  std::string direction = "forward";
  int64_t layout = 0;
  std::string attrs = ""; // further attributes, "clip = 0.5, ..."
  int outputs = Y;
  bool bias = true, lens = false, h0 = true, c0 = false, peep = false;
  /// LSTM: initial_h also serves as initial_c (one input, two uses).
  bool sharedState = false;
  int64_t seq = 3, batch = 2, input = 3, hidden = 3;
};

int64_t gatesOf(const std::string &op) {
  return op == "RNN" ? 1 : op == "GRU" ? 3 : 4;
}

std::vector<In> inputsOf(const Rec &c) {
  int64_t dirs = c.direction == "bidirectional" ? 2 : 1;
  int64_t gh = gatesOf(c.op) * c.hidden;
  // Weights in [-1, 1] keep the gates away from saturation, where the
  // gradients vanish and the check would compare tiny numbers.
  auto param = [](std::string name, std::vector<int64_t> shape) {
    return In{std::move(name), std::move(shape), In::Float, -1, 1};
  };
  std::vector<int64_t> state =
      c.layout ? std::vector<int64_t>{c.batch, dirs, c.hidden}
               : std::vector<int64_t>{dirs, c.batch, c.hidden};
  std::vector<In> in = {
      param("x", c.layout ? std::vector<int64_t>{c.batch, c.seq, c.input}
                          : std::vector<int64_t>{c.seq, c.batch, c.input}),
      param("w", {dirs, gh, c.input}), param("r", {dirs, gh, c.hidden})};
  if (c.bias)
    in.push_back(param("b", {dirs, 2 * gh}));
  if (c.lens) {
    // One entry runs the whole sequence, the others stop early (one after
    // a single step).
    std::vector<double> lens = {double(c.seq), 1, double(c.seq - 1)};
    in.push_back(In{"lens", {c.batch}, In::Int, 1, 1, false, lens});
  }
  if (c.h0)
    in.push_back(param("h0", state));
  if (c.c0 && !c.sharedState)
    in.push_back(param("c0", state));
  if (c.peep)
    in.push_back(param("p", {dirs, 3 * c.hidden}));
  return in;
}

std::string bodyOf(const Rec &c) {
  std::string operands = "x, w, r, " + std::string(c.bias ? "b" : "") + ", " +
                         (c.lens ? "lens" : "") + ", " + (c.h0 ? "h0" : "");
  if (c.op == "LSTM")
    operands += std::string(", ") +
                (c.sharedState ? "h0"
                 : c.c0        ? "c0"
                               : "") +
                ", " + (c.peep ? "p" : "");
  std::string results = c.op == "LSTM" ? "gc_y, gc_yh, gc_yc" : "gc_y, gc_yh";
  std::string body =
      "  " + results + " = " + c.op +
      " <hidden_size = " + std::to_string(c.hidden) + ", direction = \"" +
      c.direction + "\", layout = " + std::to_string(c.layout) +
      (c.attrs.empty() ? "" : ", " + c.attrs) + "> (" + operands + ")\n";
  std::vector<std::string> picked;
  if (c.outputs & Y)
    picked.push_back("gc_y");
  if (c.outputs & Yh)
    picked.push_back("gc_yh");
  if (c.outputs & Yc)
    picked.push_back("gc_yc");
  if (picked.size() == 1)
    return body + "  y = Identity (" + picked[0] + ")";
  std::string joined;
  for (size_t i = 0; i < picked.size(); ++i) {
    std::string f = "gc_f" + std::to_string(i);
    body += "  " + f + " = Flatten <axis = 0> (" + picked[i] + ")\n";
    joined += (i ? ", " : "") + f;
  }
  return body + "  y = Concat <axis = 1> (" + joined + ")";
}

class GradientCheckRecurrent : public GradientCheck {
protected:
  void check(const Rec &c, uint32_t seed) {
    // layout needs opset 14.
    GradientCheck::check(bodyOf(c), inputsOf(c), seed, 14);
  }
};

const char *const kDirections[] = {"forward", "reverse", "bidirectional"};

//===----------------------------------------------------------------------===//
// RNN
//===----------------------------------------------------------------------===//

TEST_F(GradientCheckRecurrent, RnnDirectionsLayoutsOutputs) {
  uint32_t seed = 1;
  for (const char *direction : kDirections)
    for (int64_t layout : {0, 1})
      for (int outputs : {Y, Yh, Y | Yh}) {
        Rec c{"RNN", direction, layout};
        c.outputs = outputs;
        c.seq = 3 + seed % 2;
        c.batch = 2 + layout;
        c.hidden = 2 + seed % 3;
        // Every other case without the optional operands.
        c.bias = c.h0 = seed % 2;
        check(c, seed++);
      }
}

TEST_F(GradientCheckRecurrent, RnnActivations) {
  // Two functions per case (bidirectional: one per direction), so the 11
  // names each appear once with their alpha/beta, consumed in order by the
  // functions that take them.
  const char *const cases[][2] = {
      {"[\"Relu\", \"Tanh\"]", ""},
      {"[\"Sigmoid\", \"Affine\"]",
       "activation_alpha = [0.7], activation_beta = [0.3]"},
      {"[\"LeakyRelu\", \"ThresholdedRelu\"]", "activation_alpha = [0.2, 0.1]"},
      {"[\"ScaledTanh\", \"HardSigmoid\"]",
       "activation_alpha = [1.5, 0.3], activation_beta = [0.6, 0.4]"},
      {"[\"Elu\", \"Softsign\"]", "activation_alpha = [0.8]"},
      {"[\"Softplus\", \"Relu\"]", ""},
  };
  uint32_t seed = 30;
  for (auto [names, params] : cases)
    for (int64_t layout : {0, 1}) {
      Rec c{"RNN", "bidirectional", layout};
      c.attrs = std::string("activations = ") + names;
      if (*params)
        c.attrs += std::string(", ") + params;
      c.outputs = Y | Yh;
      check(c, seed++);
    }
}

TEST_F(GradientCheckRecurrent, RnnClip) {
  // Pre-activations beyond 0.5 are clamped: their gradient is zero.
  uint32_t seed = 50;
  for (const char *direction : kDirections) {
    Rec c{"RNN", direction};
    c.attrs = "clip = 0.5";
    c.outputs = Y | Yh;
    check(c, seed++);
  }
}

TEST_F(GradientCheckRecurrent, RnnSequenceLens) {
  uint32_t seed = 60;
  for (const char *direction : kDirections)
    for (int64_t layout : {0, 1}) {
      Rec c{"RNN", direction, layout};
      c.lens = true;
      c.batch = 3;
      c.seq = 4;
      c.outputs = Y | Yh;
      check(c, seed++);
    }
}

//===----------------------------------------------------------------------===//
// GRU
//===----------------------------------------------------------------------===//

TEST_F(GradientCheckRecurrent, GruDirectionsLayoutsLinearBeforeReset) {
  uint32_t seed = 100;
  for (const char *direction : kDirections)
    for (int64_t layout : {0, 1})
      for (int lbr : {0, 1}) {
        Rec c{"GRU", direction, layout};
        c.attrs = "linear_before_reset = " + std::to_string(lbr);
        c.outputs = seed % 3 == 0 ? Y : seed % 3 == 1 ? Yh : Y | Yh;
        c.hidden = 2 + seed % 3;
        c.bias = c.h0 = seed % 4 != 0;
        check(c, seed++);
      }
}

TEST_F(GradientCheckRecurrent, GruActivationsAndClip) {
  // f for the z and r gates, g for the hidden gate, per direction.
  uint32_t seed = 120;
  for (int lbr : {0, 1}) {
    Rec c{"GRU", "bidirectional"};
    c.attrs = "linear_before_reset = " + std::to_string(lbr) +
              ", activations = [\"HardSigmoid\", \"Softsign\", \"Sigmoid\", "
              "\"ScaledTanh\"], activation_alpha = [0.3, 1.2], "
              "activation_beta = [0.45, 0.8]";
    c.outputs = Y | Yh;
    check(c, seed++);
    Rec clipped{"GRU", "forward"};
    clipped.attrs = "linear_before_reset = " + std::to_string(lbr) +
                    ", clip = 0.6, activations = [\"Sigmoid\", \"Elu\"]";
    clipped.outputs = Y | Yh;
    check(clipped, seed++);
  }
}

TEST_F(GradientCheckRecurrent, GruSequenceLens) {
  uint32_t seed = 140;
  for (const char *direction : kDirections)
    for (int lbr : {0, 1}) {
      // The layout follows linear_before_reset, so both get covered.
      Rec c{"GRU", direction, /*layout=*/lbr};
      c.attrs = "linear_before_reset = " + std::to_string(lbr);
      c.lens = true;
      c.batch = 3;
      c.seq = 4;
      c.outputs = Y | Yh;
      check(c, seed++);
    }
}

//===----------------------------------------------------------------------===//
// LSTM
//===----------------------------------------------------------------------===//

TEST_F(GradientCheckRecurrent, LstmEachOutput) {
  // Every result alone and all three together, with every operand.
  uint32_t seed = 200;
  for (int outputs : {Y, Yh, Yc, Y | Yh | Yc, Yh | Yc}) {
    Rec c{"LSTM"};
    c.c0 = c.peep = true;
    c.outputs = outputs;
    check(c, seed++);
  }
}

TEST_F(GradientCheckRecurrent, LstmDirectionsLayouts) {
  uint32_t seed = 210;
  for (const char *direction : kDirections)
    for (int64_t layout : {0, 1}) {
      Rec c{"LSTM", direction, layout};
      c.outputs = Y | Yh | Yc;
      c.hidden = 2 + seed % 2;
      // Alternately every optional operand and none.
      c.bias = c.h0 = c.c0 = c.peep = seed % 2 == 0;
      check(c, seed++);
    }
}

TEST_F(GradientCheckRecurrent, LstmInputForgetClipActivations) {
  uint32_t seed = 230;
  for (bool peep : {false, true}) {
    Rec c{"LSTM", "bidirectional"};
    c.attrs = "input_forget = 1";
    c.c0 = true;
    c.peep = peep;
    c.outputs = Y | Yc;
    check(c, seed++);

    Rec clipped{"LSTM", "reverse"};
    clipped.attrs = "clip = 0.7";
    clipped.c0 = true;
    clipped.peep = peep;
    clipped.outputs = Y | Yh | Yc;
    check(clipped, seed++);
  }
  // f (gates), g (cell input), h (output) per direction.
  Rec c{"LSTM", "bidirectional", 1};
  c.attrs = "activations = [\"HardSigmoid\", \"Softsign\", \"Elu\", "
            "\"Sigmoid\", \"Softplus\", \"ScaledTanh\"], activation_alpha = "
            "[0.25, 0.9, 1.1], activation_beta = [0.5, 0.7]";
  c.c0 = c.peep = true;
  c.outputs = Y | Yh | Yc;
  check(c, seed++);
}

TEST_F(GradientCheckRecurrent, LstmSequenceLens) {
  uint32_t seed = 250;
  for (const char *direction : kDirections)
    for (int64_t layout : {0, 1}) {
      Rec c{"LSTM", direction, layout};
      c.lens = true;
      c.c0 = c.peep = true;
      c.batch = 3;
      c.seq = 4;
      c.hidden = 2;
      c.outputs = Y | Yh | Yc;
      check(c, seed++);
    }
}

TEST_F(GradientCheckRecurrent, LstmInitialHAsInitialC) {
  // One input feeds initial_h and initial_c: its gradient is the sum of
  // both uses, counted once.
  Rec c{"LSTM", "bidirectional"};
  c.sharedState = true;
  c.outputs = Y | Yh | Yc;
  check(c, 270);
}

} // namespace
} // namespace lathe::test
