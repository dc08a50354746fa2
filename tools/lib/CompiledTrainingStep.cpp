// Where the compiled training step plugs in: one JIT-compiled function
// (parameters, optimizer state, batch, learning rate) -> (loss, metrics),
// parameters and state updated in place (docs/architecture.md, Training),
// wrapped as a TrainingStep (tools/lib/Training.h). Until the compiler side
// of training exists this refuses with a one-line error.
#include "tools/lib/Training.h"

namespace lathe {

std::unique_ptr<TrainingStep> createCompiledTrainingStep(const TrainingSetup &,
                                                         std::string &error) {
  error = "the compiled training step is not available yet (the compiler "
          "side of training is in progress); `--step=reference` trains "
          "softmax-regression models";
  return nullptr;
}

} // namespace lathe
