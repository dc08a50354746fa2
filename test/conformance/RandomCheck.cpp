// lathe-conformance: checking outputs of random ops (see RandomCheck.h).
#include "RandomCheck.h"

#include "Compare.h"

#include "onnx/onnx_pb.h"

#include <cmath>
#include <cstdint>
#include <set>

namespace lathe::conformance {
namespace {

constexpr double kSigmas = 6.0;

/// Element i of any dtype, as a double.
double valueAt(const lathe::Tensor &t, int64_t i) { return t.valueAt(i); }

std::string at(int64_t i, double v) {
  return "element " + std::to_string(i) + " is " + formatDouble(v);
}

bool onlyZeroOne(const lathe::Tensor &t, std::string &why) {
  for (int64_t i = 0; i < t.numel(); ++i) {
    double v = valueAt(t, i);
    if (v != 0 && v != 1) {
      why = at(i, v) + ", expected 0 or 1";
      return false;
    }
  }
  return true;
}

/// |count - expectedCount| within kSigmas binomial deviations (+1).
bool countPlausible(double count, double mean, double variance,
                    const std::string &what, std::string &why) {
  double slack = kSigmas * std::sqrt(variance) + 1;
  if (std::fabs(count - mean) <= slack)
    return true;
  why = what + " " + formatDouble(count) + " is implausible: expected " +
        formatDouble(mean) + " +- " + formatDouble(slack);
  return false;
}

const lathe::Tensor *
lookup(const std::map<std::string, const lathe::Tensor *> &values,
       const std::string &name) {
  auto it = values.find(name);
  return it == values.end() ? nullptr : it->second;
}

bool checkDerived(const lathe::Tensor &actual, const lathe::Tensor &expected,
                  std::string &why) {
  bool zeroOne = true, finite = true;
  for (int64_t i = 0; i < expected.numel(); ++i) {
    double e = valueAt(expected, i);
    zeroOne &= e == 0 || e == 1;
    finite &= std::isfinite(e);
  }
  if (zeroOne && !onlyZeroOne(actual, why))
    return false;
  for (int64_t i = 0; finite && i < actual.numel(); ++i)
    if (!std::isfinite(valueAt(actual, i))) {
      why = at(i, valueAt(actual, i)) + ", expected a finite value";
      return false;
    }
  return true;
}

bool checkUniform(const RandomOutput &s, const lathe::Tensor &t,
                  std::string &why) {
  double sum = 0;
  int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i) {
    double v = valueAt(t, i);
    bool inside = s.a == s.b ? v == s.a : (v >= s.a && v < s.b);
    if (!inside) {
      why = at(i, v) + ", outside [" + formatDouble(s.a) + ", " +
            formatDouble(s.b) + ")";
      return false;
    }
    sum += v;
  }
  if (n < 10)
    return true;
  double mean = sum / n, centre = (s.a + s.b) / 2;
  double slack = kSigmas * (s.b - s.a) / std::sqrt(12.0 * n);
  if (std::fabs(mean - centre) <= slack)
    return true;
  why = "mean " + formatDouble(mean) + " of " + std::to_string(n) +
        " uniform values is not within " + formatDouble(slack) + " of " +
        formatDouble(centre);
  return false;
}

bool checkNormal(const RandomOutput &s, const lathe::Tensor &t,
                 std::string &why) {
  double sum = 0, sq = 0;
  int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i) {
    double v = valueAt(t, i);
    if (!std::isfinite(v)) {
      why = at(i, v) + ", expected a finite value";
      return false;
    }
    sum += v;
    sq += v * v;
  }
  if (n == 0)
    return true;
  double mean = sum / n, scale = std::fabs(s.b);
  double slack = kSigmas * scale / std::sqrt(double(n));
  if (std::fabs(mean - s.a) > slack) {
    why = "mean " + formatDouble(mean) + " of " + std::to_string(n) +
          " normal values is not within " + formatDouble(slack) + " of " +
          formatDouble(s.a);
    return false;
  }
  double sd = std::sqrt(std::max(0.0, sq / n - mean * mean));
  if (n >= 100 && (sd < 0.5 * scale || sd > 1.5 * scale)) {
    why = "standard deviation " + formatDouble(sd) + " is far from scale " +
          formatDouble(scale);
    return false;
  }
  return true;
}

bool checkBernoulli(const lathe::Tensor &t, const lathe::Tensor &p,
                    std::string &why) {
  if (!onlyZeroOne(t, why))
    return false;
  double ones = 0, mean = 0, variance = 0;
  for (int64_t i = 0; i < t.numel(); ++i) {
    double v = valueAt(t, i), pi = valueAt(p, i);
    if ((pi <= 0 && v != 0) || (pi >= 1 && v != 1)) {
      why = at(i, v) + " with probability " + formatDouble(pi);
      return false;
    }
    ones += v;
    mean += pi;
    variance += pi * (1 - pi);
  }
  return countPlausible(ones, mean, variance, "number of ones", why);
}

/// Dropout in training mode: output (and mask, when given) against x.
bool checkDropout(const lathe::Tensor *y, const lathe::Tensor *mask,
                  const lathe::Tensor &x, double ratio, std::string &why) {
  if (mask && !onlyZeroOne(*mask, why))
    return false;
  double scale = 1 / (1 - ratio);
  int64_t n = x.numel(), counted = 0, dropped = 0;
  for (int64_t i = 0; i < n; ++i) {
    double xi = valueAt(x, i);
    bool kept;
    if (y) {
      double yi = valueAt(*y, i), want = xi * scale;
      bool isKept = std::fabs(yi - want) <= 1e-7 + 1e-3 * std::fabs(want);
      bool isDropped = yi == 0;
      if (!isKept && !isDropped) {
        why = at(i, yi) +
              ", expected 0 or x / (1 - ratio) = " + formatDouble(want);
        return false;
      }
      if (mask) {
        bool m = valueAt(*mask, i) != 0;
        if (m ? !isKept : !isDropped) {
          why = at(i, yi) + " but the mask says " + (m ? "kept" : "dropped");
          return false;
        }
      }
      if (!mask && xi == 0)
        continue; // cannot tell kept from dropped
      kept = mask ? valueAt(*mask, i) != 0 : !isDropped;
    } else {
      kept = valueAt(*mask, i) != 0;
    }
    ++counted;
    dropped += !kept;
  }
  return countPlausible(double(dropped), counted * ratio,
                        counted * ratio * (1 - ratio),
                        "number of dropped elements", why);
}

} // namespace

std::map<std::string, RandomOutput>
findRandomOutputs(const onnx::GraphProto &graph) {
  std::map<std::string, RandomOutput> direct; // value name → its producer
  std::set<std::string> tainted;
  for (const onnx::NodeProto &node : graph.node()) {
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      continue;
    const std::string &op = node.op_type();
    auto attrF = [&](const char *name, double dflt) {
      for (const onnx::AttributeProto &a : node.attribute())
        if (a.name() == name)
          return double(a.f());
      return dflt;
    };
    auto input = [&](int i) {
      return i < node.input_size() ? node.input(i) : std::string();
    };
    auto output = [&](int i) {
      return i < node.output_size() ? node.output(i) : std::string();
    };
    RandomOutput r;
    bool random = true;
    if (op == "RandomUniform" || op == "RandomUniformLike") {
      r.kind = RandomOutput::Uniform;
      r.a = attrF("low", 0.0);
      r.b = attrF("high", 1.0);
      // The generator draws in f32 attributes' precision.
      r.a = float(r.a);
      r.b = float(r.b);
    } else if (op == "RandomNormal" || op == "RandomNormalLike") {
      r.kind = RandomOutput::Normal;
      r.a = attrF("mean", 0.0);
      r.b = attrF("scale", 1.0);
    } else if (op == "Bernoulli") {
      r.kind = RandomOutput::Bernoulli;
      r.input = input(0);
    } else if (op == "Dropout" && !input(2).empty()) {
      r.kind = RandomOutput::DropoutOutput;
      r.input = input(0);
      r.ratio = input(1);
      r.training = input(2);
      r.output = output(0);
      r.mask = output(1);
    } else {
      random = false;
    }
    if (random) {
      if (!output(0).empty())
        direct[output(0)] = r;
      if (r.kind == RandomOutput::DropoutOutput && !r.mask.empty()) {
        r.kind = RandomOutput::DropoutMask;
        direct[r.mask] = r;
      }
      for (const std::string &o : node.output())
        tainted.insert(o);
      continue;
    }
    bool fromRandom = false;
    for (const std::string &in : node.input())
      fromRandom |= tainted.count(in) > 0;
    if (fromRandom)
      for (const std::string &o : node.output())
        tainted.insert(o);
  }
  std::map<std::string, RandomOutput> out;
  for (const onnx::ValueInfoProto &vi : graph.output()) {
    auto it = direct.find(vi.name());
    if (it != direct.end())
      out[vi.name()] = it->second;
    else if (tainted.count(vi.name()))
      out[vi.name()] = RandomOutput{};
  }
  return out;
}

bool checkRandomOutput(
    const RandomOutput &spec, const lathe::Tensor &actual,
    const lathe::Tensor &expected,
    const std::map<std::string, const lathe::Tensor *> &values,
    std::string &why) {
  if (actual.dtype != expected.dtype) {
    why = std::string("dtype ") + lathe::dtypeName(actual.dtype) +
          ", expected " + lathe::dtypeName(expected.dtype);
    return false;
  }
  if (actual.shape != expected.shape) {
    why = "shape " + lathe::shapeToString(actual.shape) + ", expected " +
          lathe::shapeToString(expected.shape);
    return false;
  }
  why.clear();
  bool ok = true;
  switch (spec.kind) {
  case RandomOutput::Uniform:
    ok = checkUniform(spec, actual, why);
    break;
  case RandomOutput::Normal:
    ok = checkNormal(spec, actual, why);
    break;
  case RandomOutput::Bernoulli:
    if (const lathe::Tensor *p = lookup(values, spec.input);
        p && p->numel() == actual.numel())
      ok = checkBernoulli(actual, *p, why);
    else
      ok = checkDerived(actual, expected, why);
    break;
  case RandomOutput::DropoutOutput:
  case RandomOutput::DropoutMask: {
    const lathe::Tensor *x = lookup(values, spec.input);
    const lathe::Tensor *training = lookup(values, spec.training);
    const lathe::Tensor *ratio = lookup(values, spec.ratio);
    if (!x || !training || training->numel() != 1 ||
        (!spec.ratio.empty() && (!ratio || ratio->numel() != 1))) {
      ok = checkDerived(actual, expected, why);
      break;
    }
    if (valueAt(*training, 0) == 0) // inference: deterministic
      return compareTensors(actual, expected, why);
    double r = ratio ? valueAt(*ratio, 0) : 0.5;
    const lathe::Tensor *y = lookup(values, spec.output);
    const lathe::Tensor *mask =
        spec.mask.empty() ? nullptr : lookup(values, spec.mask);
    if (spec.kind == RandomOutput::DropoutMask)
      mask = &actual;
    else
      y = &actual;
    ok = checkDropout(y, mask, *x, r, why);
    break;
  }
  case RandomOutput::Derived:
    ok = checkDerived(actual, expected, why);
    break;
  }
  if (!ok)
    why = "random output: " + why;
  return ok;
}

} // namespace lathe::conformance
