// Training checkpoints: everything a resumed run needs to continue exactly
// where an uninterrupted one would be.
//
// Layout: CHECKPOINT_DIR/epoch-NNNN/ (NNNN = epochs completed) holding
//   state.npz    parameters as "param/NAME", optimizer state as "opt/NAME",
//                early stopping's best parameters as "best/NAME"
//   metrics.csv  the per-epoch history so far (as written by --metrics-out)
//   MANIFEST     "key value" lines: format version, counters, learning rate,
//                schedule and early-stopping state, and the run's identity
//                (seed, batch size, sample counts) that a resume must match
// A checkpoint is written into a hidden temporary directory next to it and
// renamed into place, so a crash leaves either the old or the new one. The
// random state is not stored: every random number is a function of the seed
// and the epoch/step counters (tools/lib/CounterRng.h).
#ifndef LATHE_TOOLS_CHECKPOINT_H
#define LATHE_TOOLS_CHECKPOINT_H

#include "tools/lib/Training.h"

#include <cmath>
#include <string>
#include <vector>

namespace lathe {

/// One row of the metrics: NaN where there is no value (no validation data,
/// or no accuracy for a regression loss).
struct EpochMetrics {
  int64_t epoch = 0; // 1-based
  double lr = NAN;   // learning rate at the epoch's last step
  double trainLoss = NAN, trainAccuracy = NAN;
  double validationLoss = NAN, validationAccuracy = NAN;
  double seconds = NAN;
};

/// The driver's own state between epochs.
struct TrainerState {
  int64_t epochsDone = 0;
  uint64_t stepsDone = 0;
  /// reduce_on_plateau's current learning rate (the other schedules derive
  /// theirs from the counters).
  double plateauLr = NAN;
  double plateauBest = NAN;
  int64_t plateauBadEpochs = 0;
  double stopBest = NAN;
  int64_t stopBadEpochs = 0;
  int64_t stopBestEpoch = 0;
  bool stopped = false; // early stopping ended the run
  // Identity of the run: a resume with different values would not continue
  // the same run.
  uint64_t seed = 0;
  int64_t batchSize = 0;
  int64_t trainSamples = 0;
  int64_t validationSamples = 0;
};

struct CheckpointData {
  TrainerState state;
  std::vector<NamedTensor> parameters, optimizerState, bestParameters;
  std::vector<EpochMetrics> history;
};

/// The CSV of `history`: header, then one row per epoch.
std::string metricsCsv(const std::vector<EpochMetrics> &history);

/// Writes root/epoch-NNNN atomically (creating root), replacing one of the
/// same name; then, with keepLast > 0, removes all but the newest keepLast
/// checkpoints. `written` receives the checkpoint's path.
bool writeCheckpoint(const std::string &root, const CheckpointData &data,
                     int64_t keepLast, std::string &written,
                     std::string &error);

/// Reads a checkpoint: `path` is one checkpoint directory, or a checkpoint
/// root, from which the newest complete one is taken. `used` receives the
/// checkpoint's path.
bool readCheckpoint(const std::string &path, CheckpointData &data,
                    std::string &used, std::string &error);

} // namespace lathe

#endif // LATHE_TOOLS_CHECKPOINT_H
