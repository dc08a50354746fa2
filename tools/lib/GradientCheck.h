// lathe train --check-gradients (tools/lib/GradientCheck.cpp).
#ifndef LATHE_TOOLS_GRADIENTCHECK_H
#define LATHE_TOOLS_GRADIENTCHECK_H

#include "tools/lib/Training.h"
#include "tools/lib/TrainingData.h"

#include <cstdio>
#include <string>

namespace lathe {

struct GradientCheckOptions {
  /// Training samples the loss is computed on (the first ones).
  int64_t samples = 4;
  /// Elements checked per trainable parameter (chosen with the spec's seed).
  int64_t elementsPerParameter = 8;
  /// Largest accepted |analytic - numeric| / max(|analytic|, |numeric|,
  /// 1e-2), the criterion of the gradient tests (test/unit/GradientCheck.h):
  /// the floor keeps the difference quotient's rounding noise (~1e-10 * |L|
  /// with h = 1e-6) from dominating gradients that are nearly zero.
  double tolerance = 1e-6;
};

/// Compiles the training loss of `setup` in float64 with its gradient with
/// respect to every trainable parameter, compares sampled elements with
/// central finite differences, and prints one line per parameter to `out`.
/// `passed` tells whether every error is within the tolerance; false is
/// returned only when the check could not run (`error` says why).
bool checkTrainingGradients(const TrainingSetup &setup,
                            const TrainingData &data,
                            const GradientCheckOptions &options, FILE *out,
                            bool &passed, std::string &error);

} // namespace lathe

#endif // LATHE_TOOLS_GRADIENTCHECK_H
