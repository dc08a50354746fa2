// Gradient checks of the trigonometric and hyperbolic functions, the
// remaining activations, Mod, the product/L1/log-sum reductions, CumSum,
// TopK, the gathers and scatters, Trilu, ReverseSequence and training
// Dropout (the fixture and its tolerance: GradientCheck.h).
#include "GradientCheck.h"

namespace lathe::test {
namespace {

TEST_F(GradientCheck, TrainingDropout) {
  // A fixed mask per compilation (no step): the gradient is the mask
  // scaled by 1 / (1 - ratio), and 1 with training off.
  check("  r = Constant <value = double {0.4}> ()\n"
        "  t = Constant <value = bool {1}> ()\n"
        "  y = Dropout (a, r, t)",
        {{"a", {3, 7}}});
  check("  r = Constant <value = double {0.4}> ()\n"
        "  y = Dropout (a, r, t)",
        {{"a", {3, 7}}, In{"t", {}, In::Bool, 0, 0, true, {0}}});
}

} // namespace
} // namespace lathe::test
