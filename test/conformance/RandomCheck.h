// lathe-conformance: checking outputs of random ops.
//
// ONNX's expected outputs of RandomUniform[Like], RandomNormal[Like],
// Bernoulli and training-mode Dropout come from numpy's generator, which
// lathe does not reproduce (its generator is counter-based, see
// passes/LowerRandom.cpp). For a graph output produced by such an op the
// runner checks, instead of the values:
//   - always: the dtype and the shape equal the expected ones;
//   - RandomUniform[Like]: every value in [low, high) and the mean within
//     6 standard errors of (low + high) / 2 (10 or more elements);
//   - RandomNormal[Like]: finite values, the mean within 6 standard errors
//     of `mean`, and (100 or more elements) the standard deviation within
//     [0.5, 1.5] * scale;
//   - Bernoulli: only 0 and 1; 0 where p = 0 and 1 where p = 1; the number
//     of ones within 6 standard deviations (+1) of sum(p);
//   - Dropout (training_mode input present): when training_mode is false,
//     output and mask are compared exactly. When true, each output element
//     is 0 or x / (1 - ratio) (rtol 1e-3), consistently with the mask
//     output when there is one; the mask holds only 0/1; the number of
//     dropped elements (those with x != 0 when only the output is there)
//     is within 6 standard deviations (+1) of n * ratio;
//   - an output computed from a random value through other ops: dtype and
//     shape, plus: if every expected value is 0 or 1, so is every actual
//     one, and if every expected value is finite, so is every actual one.
// The parameters an op reads from its inputs (Bernoulli's p, Dropout's x,
// ratio and training_mode) must be graph inputs; otherwise the check falls
// back to the last rule.
#ifndef LATHE_TEST_CONFORMANCE_RANDOMCHECK_H
#define LATHE_TEST_CONFORMANCE_RANDOMCHECK_H

#include "lathe/Tensor.h"

#include <map>
#include <string>

namespace onnx {
class GraphProto;
} // namespace onnx

namespace lathe::conformance {

struct RandomOutput {
  enum Kind { Uniform, Normal, Bernoulli, DropoutOutput, DropoutMask, Derived };
  Kind kind = Derived;
  double a = 0, b = 0;      // low/high (Uniform), mean/scale (Normal)
  std::string input;        // Bernoulli's p, Dropout's x
  std::string ratio;        // Dropout's ratio ("" = the default 0.5)
  std::string training;     // Dropout's training_mode
  std::string output, mask; // Dropout's two outputs ("" when absent)
};

/// Graph outputs (by name) that a random op produced or that depend on one.
std::map<std::string, RandomOutput>
findRandomOutputs(const onnx::GraphProto &graph);

/// Checks `actual` against the rules above. `values` holds the case's graph
/// inputs and lathe's outputs by name.
bool checkRandomOutput(
    const RandomOutput &spec, const lathe::Tensor &actual,
    const lathe::Tensor &expected,
    const std::map<std::string, const lathe::Tensor *> &values,
    std::string &why);

} // namespace lathe::conformance

#endif // LATHE_TEST_CONFORMANCE_RANDOMCHECK_H
