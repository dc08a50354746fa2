// The training loop of `lathe train`, independent of the CLI and of how a
// step is computed (tools/lib/Training.h): epochs of seeded shuffled batches,
// the learning-rate schedule, validation, metrics, checkpoints, resume, early
// stopping, and stopping on a non-finite loss.
//
// Order of events in an epoch: the batches (lr from the schedule before each
// step), then validation, the metrics row (CSV rewritten atomically), the
// plateau and early-stopping bookkeeping, then the checkpoint. A checkpoint
// therefore holds a state between epochs, and a resumed run repeats exactly
// what the uninterrupted one did from there.
#ifndef LATHE_TOOLS_TRAININGDRIVER_H
#define LATHE_TOOLS_TRAININGDRIVER_H

#include "tools/lib/Checkpoint.h"
#include "tools/lib/TrainingData.h"

#include <cstdio>
#include <string>
#include <vector>

namespace lathe {

struct TrainerOptions {
  /// Total epochs of the run (the spec's, or `--epochs N`).
  int64_t epochs = 0;
  /// A checkpoint directory or root to continue from; empty: a fresh run.
  std::string resumeFrom;
  /// Where the metrics CSV goes (rewritten after every epoch); empty: none.
  std::string metricsPath;
  /// Redraw a progress line after each batch (for a terminal); otherwise one
  /// plain line per epoch.
  bool progressBar = false;
  /// Progress and summaries; null for silence.
  FILE *out = stdout;
  /// When set, the first `traceSteps` steps of this run are recorded here:
  /// `loss/<k>`, `lr/<k>` (0-d), `grad/<k>/<param>` (TrainingStep::gradients,
  /// when the step keeps them) and `param/<k>/<param>` after step k.
  std::vector<NamedTensor> *trace = nullptr;
  int64_t traceSteps = 0;
};

/// The learning rate for the step after `epochsDone` epochs and `stepsDone`
/// steps (`plateauLr` is reduce_on_plateau's current value).
double scheduledLearningRate(const train::TrainingSpec &spec,
                             int64_t epochsDone, uint64_t stepsDone,
                             double plateauLr);

class Trainer {
public:
  Trainer(const train::TrainingSpec &spec, std::string specPath,
          const TrainingData &data, TrainingStep &step, TrainerOptions options);

  /// Runs (or continues) the training. False with a one-line error on
  /// failure; a non-finite loss is a failure that names the step, after
  /// which the newest checkpoint on disk is still the last good state.
  bool run(std::string &error);

  /// The parameters to export: early stopping's best with restore_best,
  /// otherwise the step's current ones.
  std::vector<NamedTensor> finalParameters() const;
  const std::vector<EpochMetrics> &history() const { return history_; }
  const TrainerState &state() const { return state_; }
  /// The newest checkpoint written or resumed from ("" if none).
  const std::string &lastCheckpoint() const { return lastCheckpoint_; }

private:
  bool resume(std::string &error);
  bool runEpoch(int64_t epoch, EpochMetrics &metrics, std::string &error);
  void traceStep(const StepResult &r, double lr);
  bool evaluate(EpochMetrics &metrics, std::string &error);
  void progress(int64_t epoch, int64_t batch, int64_t batches, double lossMean,
                double seconds);
  double metricValue(const EpochMetrics &m, int metric) const;

  const train::TrainingSpec &spec_;
  std::string specPath_;
  const TrainingData &data_;
  TrainingStep &step_;
  TrainerOptions options_;
  TrainerState state_;
  std::vector<EpochMetrics> history_;
  std::vector<NamedTensor> bestParameters_;
  std::string lastCheckpoint_;
  double lastDraw_ = -1;
};

} // namespace lathe

#endif // LATHE_TOOLS_TRAININGDRIVER_H
