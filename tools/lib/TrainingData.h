// The data side of a training run: the arrays from the spec's .npz files,
// checked against the model and the loss, the validation split, the seeded
// per-epoch order, batches, and parameter initialisation.
//
// Batching (the compiled step has a static batch size): a training epoch is
// floor(N / batch_size) full batches; the last partial batch is dropped, and
// with shuffling a different set of samples is dropped each epoch.
// Evaluation covers every sample: its last batch is padded by repeating its
// first sample and Batch::rows says how many rows count.
#ifndef LATHE_TOOLS_TRAININGDATA_H
#define LATHE_TOOLS_TRAININGDATA_H

#include "tools/lib/Training.h"

#include <string>
#include <vector>

namespace lathe {

struct Dataset {
  /// Samples along dim 0 of both.
  Tensor inputs, labels;
  /// Where the arrays came from, for messages ("train.npz", "train.npz
  /// (validation_fraction)").
  std::string source;
  /// The arrays' names in it.
  std::string inputName, labelName;
  int64_t size() const { return inputs.shape.empty() ? 0 : inputs.shape[0]; }
};

struct TrainingData {
  Dataset train, validation;
  bool hasValidation() const { return validation.size() > 0; }
};

/// True for the losses whose labels are int64 class indices.
bool isClassIndexLoss(const train::TrainingSpec &spec);

/// Loads data.train (and data.validation), checks dtypes and shapes against
/// the model's data input, splits off data.validation_fraction with the seed,
/// checks the labels against the loss and the model output (shape from ONNX
/// shape inference at batch_size), and fills the batch shapes of `setup`.
/// Errors are one line naming the spec and field or the .npz and array, and
/// for a label out of range the sample index and the value.
bool loadTrainingData(const train::TrainingSpec &spec,
                      const std::string &specPath, const TrainingModel &model,
                      TrainingData &data, TrainingSetup &setup,
                      std::string &error);

/// Checks `labels` against the loss and the model output shape (the first
/// dim of `outputShape` is the batch). `what` names the array in errors.
bool checkLabels(const train::TrainingSpec &spec, const Tensor &labels,
                 const std::string &outputName,
                 const std::vector<int64_t> &outputShape,
                 const std::string &what, std::string &error);

/// The sample order of epoch `epoch` (0-based): a seeded Fisher-Yates
/// permutation of 0..n-1 that depends only on (seed, epoch, n), or the
/// identity without shuffling.
std::vector<int64_t> epochOrder(uint64_t seed, int64_t epoch, int64_t n,
                                bool shuffle);

/// Indices (ascending) of the validation samples for a fraction of n:
/// round(fraction * n) of them, chosen by a seeded permutation.
std::vector<int64_t> validationIndices(uint64_t seed, int64_t n,
                                       double fraction);

/// Copies rows order[start .. start + batchSize) of `set` into `batch`
/// (inputs, labels, rows); rows past the end of `order` repeat
/// order[start].
void gatherBatch(const Dataset &set, const std::vector<int64_t> &order,
                 int64_t start, int64_t batchSize, Batch &batch);

/// Applies the spec's init rules to the model's parameters with the seed
/// (values depend only on the seed, the rule and the parameter's position).
bool initializeParameters(const train::TrainingSpec &spec,
                          const std::string &specPath, TrainingModel &model,
                          std::string &error);

} // namespace lathe

#endif // LATHE_TOOLS_TRAININGDATA_H
