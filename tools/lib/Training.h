// The one interface between `lathe train`'s driver (data, epochs, schedule,
// checkpoints, export: tools/lib/TrainingDriver.h) and whatever computes a
// training step. The compiled step (forward + backward + loss + optimizer
// update as one JIT-compiled function) implements it; until it exists,
// ReferenceStep (tools/lib/ReferenceStep.cpp, plain C++ softmax regression)
// does, so the driver is tested now.
//
// Contract, for an implementation:
// - The batch size is static (TrainingSetup::batchInputShape[0]); every Batch
//   has exactly that many rows in `inputs` and `labels`.
// - step() computes the mean loss over the batch (plus regularisation), the
//   gradients, and updates the trainable parameters and optimizer state in
//   place with learning rate `lr`. Randomness (dropout) is keyed by
//   (setup.seed, batch.step, op), never by call order.
// - evaluate() runs the model in inference mode and sums over the first
//   `batch.rows` rows only (the rest is padding): it changes no state.
// - parameters() returns every tensor that goes back into the ONNX model
//   (trainable and frozen parameters, BatchNorm running statistics), named
//   as in the model; optimizerState() every other tensor a resume needs
//   (moments, accumulators, counters such as Adam's t, as tensors). Each
//   set*() accepts exactly what the getter returned (names, dtypes, shapes).
#ifndef LATHE_TOOLS_TRAINING_H
#define LATHE_TOOLS_TRAINING_H

#include "lathe/Session.h"
#include "lathe/Tensor.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace lathe {

namespace train {
class TrainingSpec;
} // namespace train
class TrainingModel;

using NamedTensor = std::pair<std::string, Tensor>;

struct Batch {
  /// [batch_size, sample dims...] of the model's data input dtype.
  Tensor inputs;
  /// [batch_size, label dims...]: int64 class indices for the classification
  /// losses, float32 of the output's per-sample shape otherwise.
  Tensor labels;
  /// Real samples; the rows after them repeat a real sample (evaluation of
  /// a last partial batch only; training batches are always full).
  int64_t rows = 0;
  /// 0-based index of this optimizer step over the whole run (training), or
  /// of the batch within the evaluation pass.
  uint64_t step = 0;
};

struct StepResult {
  /// Mean loss over the batch, regularisation included.
  double loss = 0;
  /// Correct predictions in the batch, or -1 when the loss has no accuracy
  /// (regression).
  int64_t correct = -1;
};

struct EvalResult {
  /// Sum over the batch's real rows of the per-sample loss (no
  /// regularisation), and of the correct predictions (-1: no accuracy).
  double lossSum = 0;
  int64_t correct = -1;
};

class TrainingStep {
public:
  virtual ~TrainingStep() = default;
  virtual bool step(const Batch &batch, float lr, StepResult &result,
                    std::string &error) = 0;
  virtual bool evaluate(const Batch &batch, EvalResult &result,
                        std::string &error) = 0;
  virtual std::vector<NamedTensor> parameters() const = 0;
  virtual bool setParameters(const std::vector<NamedTensor> &values,
                             std::string &error) = 0;
  virtual std::vector<NamedTensor> optimizerState() const = 0;
  virtual bool setOptimizerState(const std::vector<NamedTensor> &values,
                                 std::string &error) = 0;
  /// The gradients of the last step, before weight decay and clipping, named
  /// `grad/<param>` (TrainingSetup::keepGradients; empty otherwise).
  virtual std::vector<NamedTensor> gradients() const { return {}; }
  /// The step's kernels and their time since construction or the last
  /// resetProfile() (TrainingSetup::profile; empty otherwise).
  virtual std::vector<KernelProfile> profile() const { return {}; }
  virtual void resetProfile() {}
};

/// What a step implementation is built from.
struct TrainingSetup {
  const train::TrainingSpec *spec = nullptr;
  /// The model with its parameters resolved and initialised
  /// (TrainingModel::parameters(): values, trainable, regularized).
  const TrainingModel *model = nullptr;
  std::vector<int64_t> batchInputShape; // [batch_size, sample dims...]
  std::vector<int64_t> batchLabelShape; // [batch_size, label dims...]
  std::vector<int64_t> outputShape;     // model output at batch_size
  DType labelDType = DType::I64;
  uint64_t seed = 0;
  /// Keep each step's raw gradients for gradients() (lathe train --trace).
  bool keepGradients = false;
  /// When set, the compiled step writes its IR before and after every pass
  /// to DIR/step/ and DIR/eval/ (lathe train --dump-ir-dir).
  std::string dumpIRDir;
  /// Threads of the compiled step's thread pool (0 = every core).
  int threads = 0;
  /// Time each kernel of the compiled step (lathe train --bench --profile).
  bool profile = false;
};

using TrainingStepFactory = std::function<std::unique_ptr<TrainingStep>(
    const TrainingSetup &, std::string &)>;

/// The compiled step (tools/lib/CompiledTrainingStep.cpp). Null with an error
/// until the compiler side of training exists.
std::unique_ptr<TrainingStep>
createCompiledTrainingStep(const TrainingSetup &setup, std::string &error);

/// The plain C++ reference: softmax regression (logits = x W^T + b for the
/// only two trainable parameters W [C, D] and b [C], x flattened to D) with
/// softmax cross-entropy, optional L2/L1 regularisation, and sgd, momentum
/// or nesterov with weight decay and clipping. A test double for the driver,
/// and an independent result to compare the compiled step with.
std::unique_ptr<TrainingStep>
createReferenceTrainingStep(const TrainingSetup &setup, std::string &error);

} // namespace lathe

#endif // LATHE_TOOLS_TRAINING_H
