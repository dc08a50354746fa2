// lathe-conformance: reading a case's model and running the case, in this
// process or in a forked child.
#ifndef LATHE_TEST_CONFORMANCE_CASERUNNER_H
#define LATHE_TEST_CONFORMANCE_CASERUNNER_H

#include "RandomCheck.h"

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace lathe::conformance {

namespace fs = std::filesystem;

//===----------------------------------------------------------------------===//
// The model: which ops it uses and which of its inputs need shapes bound.
//===----------------------------------------------------------------------===//

struct GraphInput {
  std::string name;
  bool isStatic = true; // every dim has a value
  /// Feeds a Reshape's shape: lathe compiles static shapes, so the runner
  /// freezes it to the test's value (as `lathe run --freeze` does).
  bool isShape = false;
};

struct ModelInfo {
  std::set<std::string>
      ops; // "Relu", or "domain.Op" outside the default domain
  std::vector<GraphInput> inputs; // graph inputs that are not initializers
  /// "input 'x' is a sequence" for graph inputs/outputs that are not tensors
  /// (their .pb files are SequenceProto/OptionalProto, not TensorProto).
  std::string nonTensor;
  /// Graph outputs that come from random ops, by name: checked for
  /// plausibility instead of equality (RandomCheck.h).
  std::map<std::string, RandomOutput> randomOutputs;
};

bool readModelInfo(const fs::path &modelPath, ModelInfo &info,
                   std::string &error);

//===----------------------------------------------------------------------===//
// Running one case.
//===----------------------------------------------------------------------===//

struct CaseResult {
  bool passed = false;
  std::string reason; // one line, when !passed
  std::string log;    // the child's stdout/stderr (forked runs only)
};

inline CaseResult pass() { return {true, "", ""}; }
inline CaseResult fail(std::string reason) {
  return {false, std::move(reason), ""};
}

/// Compiles the case's model and runs it on every test_data_set_*, comparing
/// the outputs with the expected ones; exceptions become failures.
CaseResult runCaseGuarded(const fs::path &caseDir, const ModelInfo &info);

/// Runs the case in a child process: a crash, an abort or a hang becomes a
/// failure of this case. The child's stdout and stderr are captured into
/// CaseResult::log.
/// Graph optimisation level of every case's Session (--O0 sets 0), so that
/// the same cases check the compiler with its passes on and off.
void setCaseOptLevel(int level);

CaseResult runCaseForked(const fs::path &caseDir, const ModelInfo &info,
                         int timeoutSeconds);

//===----------------------------------------------------------------------===//
// Helpers.
//===----------------------------------------------------------------------===//

/// Replaces newlines and tabs so that a reason stays on one line.
std::string oneLine(std::string s);
/// `s` without leading and trailing whitespace.
std::string trim(const std::string &s);
/// Seconds on the monotonic clock.
double nowSeconds();

} // namespace lathe::conformance

#endif // LATHE_TEST_CONFORMANCE_CASERUNNER_H
