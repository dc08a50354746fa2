// The training loop: see TrainingDriver.h.
#include "tools/lib/TrainingDriver.h"

#include "frontend/TrainingSpec.h"
#include "tools/lib/AtomicFile.h"

#include <chrono>
#include <cmath>

namespace lathe {

using namespace lathe::train;

namespace {

double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool lowerIsBetter(Schedule::Metric m) {
  return m == Schedule::validation_loss || m == Schedule::train_loss;
}

/// Whether `value` beats `best` by more than `minDelta` (any number beats a
/// NaN best; a NaN value beats nothing).
bool improves(double value, double best, double minDelta, bool lower) {
  if (std::isnan(value))
    return false;
  if (std::isnan(best))
    return true;
  return lower ? value < best - minDelta : value > best + minDelta;
}

std::string duration(double seconds) {
  int64_t s = static_cast<int64_t>(std::llround(std::max(0.0, seconds)));
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof(buf), "%lld:%02lld:%02lld",
                  static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60),
                  static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof(buf), "%lld:%02lld",
                  static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  return buf;
}

} // namespace

double scheduledLearningRate(const TrainingSpec &spec, int64_t epochsDone,
                             uint64_t stepsDone, double plateauLr) {
  double lr0 = spec.optimizer().lr();
  if (!spec.has_schedule())
    return lr0;
  const Schedule &s = spec.schedule();
  double t = s.per_step() ? static_cast<double>(stepsDone)
                          : static_cast<double>(epochsDone);
  switch (s.kind()) {
  case Schedule::constant:
    return lr0;
  case Schedule::step:
    return lr0 * std::pow(s.gamma(), std::floor(t / s.step_size()));
  case Schedule::exponential:
    return lr0 * std::pow(s.gamma(), t);
  case Schedule::inverse_time:
    return lr0 / (1 + s.decay() * t);
  case Schedule::inverse_sqrt:
    return lr0 / std::sqrt(1 + t);
  case Schedule::reduce_on_plateau:
    return plateauLr;
  }
  return lr0;
}

Trainer::Trainer(const TrainingSpec &spec, std::string specPath,
                 const TrainingData &data, TrainingStep &step,
                 TrainerOptions options)
    : spec_(spec), specPath_(std::move(specPath)), data_(data), step_(step),
      options_(std::move(options)) {
  state_.seed = spec.seed();
  state_.batchSize = spec.batch_size();
  state_.trainSamples = data.train.size();
  state_.validationSamples = data.validation.size();
  state_.plateauLr = spec.optimizer().lr();
}

double Trainer::metricValue(const EpochMetrics &m, int metric) const {
  switch (static_cast<Schedule::Metric>(metric)) {
  case Schedule::validation_loss:
    return m.validationLoss;
  case Schedule::validation_accuracy:
    return m.validationAccuracy;
  case Schedule::train_loss:
    return m.trainLoss;
  case Schedule::train_accuracy:
    return m.trainAccuracy;
  }
  return NAN;
}

bool Trainer::resume(std::string &error) {
  CheckpointData ck;
  std::string used;
  if (!readCheckpoint(options_.resumeFrom, ck, used, error))
    return false;
  auto mismatch = [&](const char *what, const std::string &theirs,
                      const std::string &ours) {
    error = used + ": the checkpoint is of another run (" + what + " " +
            theirs + ", this run " + ours + ")";
    return false;
  };
  const TrainerState &s = ck.state;
  if (s.seed != state_.seed)
    return mismatch("seed", std::to_string(s.seed),
                    std::to_string(state_.seed));
  if (s.batchSize != state_.batchSize)
    return mismatch("batch_size", std::to_string(s.batchSize),
                    std::to_string(state_.batchSize));
  if (s.trainSamples != state_.trainSamples ||
      s.validationSamples != state_.validationSamples)
    return mismatch("training/validation samples",
                    std::to_string(s.trainSamples) + "/" +
                        std::to_string(s.validationSamples),
                    std::to_string(state_.trainSamples) + "/" +
                        std::to_string(state_.validationSamples));
  std::string stepError;
  if (!step_.setParameters(ck.parameters, stepError) ||
      !step_.setOptimizerState(ck.optimizerState, stepError)) {
    error = used + ": " + stepError;
    return false;
  }
  state_ = s;
  history_ = std::move(ck.history);
  bestParameters_ = std::move(ck.bestParameters);
  lastCheckpoint_ = used;
  return true;
}

void Trainer::progress(int64_t epoch, int64_t batch, int64_t batches,
                       double lossMean, double seconds) {
  if (!options_.out || !options_.progressBar)
    return;
  double t = now();
  if (batch < batches && t - lastDraw_ < 0.1)
    return;
  lastDraw_ = t;
  const int width = 24;
  int filled = static_cast<int>(width * batch / std::max<int64_t>(batches, 1));
  std::string bar(filled, '#');
  bar.resize(width, '.');
  double rate = seconds > 0 ? batch * spec_.batch_size() / seconds : 0;
  double eta = batch > 0 ? seconds / batch * (batches - batch) : 0;
  std::fprintf(options_.out,
               "\r\x1b[Kepoch %lld/%lld [%s] %lld/%lld  loss %.4f  %.0f "
               "samples/s  ETA %s",
               static_cast<long long>(epoch + 1),
               static_cast<long long>(options_.epochs), bar.c_str(),
               static_cast<long long>(batch), static_cast<long long>(batches),
               lossMean, rate, duration(eta).c_str());
  std::fflush(options_.out);
}

bool Trainer::evaluate(EpochMetrics &metrics, std::string &error) {
  const Dataset &val = data_.validation;
  int64_t n = val.size(), b = spec_.batch_size();
  std::vector<int64_t> order = epochOrder(0, 0, n, false);
  Batch batch;
  double lossSum = 0;
  int64_t correct = 0;
  bool accuracy = true;
  for (int64_t start = 0, i = 0; start < n; start += b, ++i) {
    gatherBatch(val, order, start, b, batch);
    batch.step = static_cast<uint64_t>(i);
    EvalResult r;
    if (!step_.evaluate(batch, r, error)) {
      error = "validation batch " + std::to_string(i) + ": " + error;
      return false;
    }
    lossSum += r.lossSum;
    accuracy &= r.correct >= 0;
    correct += r.correct;
  }
  metrics.validationLoss = lossSum / n;
  metrics.validationAccuracy =
      accuracy ? static_cast<double>(correct) / n : NAN;
  return true;
}

void Trainer::traceStep(const StepResult &r, double lr) {
  std::string k = std::to_string(state_.stepsDone);
  auto scalar = [](float v) {
    Tensor t(DType::F32, {});
    t.as<float>()[0] = v;
    return t;
  };
  std::vector<NamedTensor> &trace = *options_.trace;
  trace.push_back({"loss/" + k, scalar(static_cast<float>(r.loss))});
  trace.push_back({"lr/" + k, scalar(static_cast<float>(lr))});
  for (const NamedTensor &g : step_.gradients()) // named grad/<param>
    trace.push_back({"grad/" + k + g.first.substr(4), g.second});
  for (const NamedTensor &p : step_.parameters())
    trace.push_back({"param/" + k + "/" + p.first, p.second});
}

bool Trainer::runEpoch(int64_t epoch, EpochMetrics &metrics,
                       std::string &error) {
  const Dataset &train = data_.train;
  int64_t b = spec_.batch_size();
  int64_t batches = train.size() / b;
  std::vector<int64_t> order =
      epochOrder(spec_.seed(), epoch, train.size(), spec_.data().shuffle());
  Batch batch;
  double lossSum = 0, start = now();
  int64_t correct = 0;
  bool accuracy = true;
  lastDraw_ = -1;
  progress(epoch, 0, batches, 0, 0);
  for (int64_t i = 0; i < batches; ++i) {
    double lr = scheduledLearningRate(spec_, state_.epochsDone,
                                      state_.stepsDone, state_.plateauLr);
    gatherBatch(train, order, i * b, b, batch);
    batch.step = state_.stepsDone;
    StepResult r;
    std::string where =
        specPath_ + ": step " + std::to_string(state_.stepsDone) + " (epoch " +
        std::to_string(epoch + 1) + ", batch " + std::to_string(i) + ")";
    if (!step_.step(batch, static_cast<float>(lr), r, error)) {
      error = where + ": " + error;
      return false;
    }
    if (!std::isfinite(r.loss)) {
      error = where + ": the loss is " + (std::isnan(r.loss) ? "nan" : "inf") +
              "; training stopped, " +
              (lastCheckpoint_.empty()
                   ? std::string("no checkpoint was written")
                   : "last good checkpoint: " + lastCheckpoint_);
      return false;
    }
    if (options_.trace &&
        state_.stepsDone < static_cast<uint64_t>(options_.traceSteps))
      traceStep(r, lr);
    lossSum += r.loss;
    accuracy &= r.correct >= 0;
    correct += r.correct;
    ++state_.stepsDone;
    metrics.lr = lr;
    progress(epoch, i + 1, batches, lossSum / (i + 1), now() - start);
  }
  metrics.epoch = epoch + 1;
  metrics.trainLoss = lossSum / batches;
  metrics.trainAccuracy =
      accuracy ? static_cast<double>(correct) / (batches * b) : NAN;
  if (data_.hasValidation() && !evaluate(metrics, error))
    return false;
  metrics.seconds = now() - start;
  return true;
}

bool Trainer::run(std::string &error) {
  options_.epochs = options_.epochs > 0 ? options_.epochs : spec_.epochs();
  if (!options_.resumeFrom.empty() && !resume(error))
    return false;
  FILE *out = options_.out;
  if (state_.stopped || state_.epochsDone >= options_.epochs) {
    if (out)
      std::fprintf(out, "nothing to train: %s after %lld epochs\n",
                   state_.stopped ? "early stopping ended the run"
                                  : "the run is complete",
                   static_cast<long long>(state_.epochsDone));
    return true;
  }
  if (out && state_.epochsDone > 0)
    std::fprintf(out, "resuming from %s after epoch %lld (step %llu)\n",
                 lastCheckpoint_.c_str(),
                 static_cast<long long>(state_.epochsDone),
                 static_cast<unsigned long long>(state_.stepsDone));

  const Schedule &sched = spec_.schedule();
  bool plateau =
      spec_.has_schedule() && sched.kind() == Schedule::reduce_on_plateau;
  bool stopping = spec_.has_early_stopping();
  const EarlyStopping &es = spec_.early_stopping();
  for (int64_t epoch = state_.epochsDone; epoch < options_.epochs; ++epoch) {
    EpochMetrics m;
    if (!runEpoch(epoch, m, error))
      return false;
    history_.push_back(m);
    if (!options_.metricsPath.empty() &&
        !writeFileAtomic(options_.metricsPath, metricsCsv(history_), error))
      return false;

    if (plateau) {
      double v = metricValue(m, sched.metric());
      if (improves(v, state_.plateauBest, sched.min_delta(),
                   lowerIsBetter(sched.metric()))) {
        state_.plateauBest = v;
        state_.plateauBadEpochs = 0;
      } else if (++state_.plateauBadEpochs > sched.patience()) {
        state_.plateauLr =
            std::max(state_.plateauLr * sched.factor(), sched.min_lr());
        state_.plateauBadEpochs = 0;
      }
    }
    bool best = false;
    if (stopping) {
      double v = metricValue(m, es.metric());
      if (improves(v, state_.stopBest, es.min_delta(),
                   lowerIsBetter(es.metric()))) {
        state_.stopBest = v;
        state_.stopBadEpochs = 0;
        state_.stopBestEpoch = epoch + 1;
        best = true;
        if (es.restore_best())
          bestParameters_ = step_.parameters();
      } else if (++state_.stopBadEpochs >= es.patience()) {
        state_.stopped = true;
      }
    }
    state_.epochsDone = epoch + 1;

    std::string saved;
    bool last = state_.stopped || state_.epochsDone == options_.epochs;
    if (spec_.has_checkpoint() &&
        (state_.epochsDone % spec_.checkpoint().every_epochs() == 0 || last)) {
      CheckpointData ck;
      ck.state = state_;
      ck.parameters = step_.parameters();
      ck.optimizerState = step_.optimizerState();
      ck.bestParameters = bestParameters_;
      ck.history = history_;
      if (!writeCheckpoint(spec_.checkpoint().dir(), ck,
                           spec_.checkpoint().keep_last(), saved, error))
        return false;
      lastCheckpoint_ = saved;
    }

    if (out) {
      if (options_.progressBar)
        std::fprintf(out, "\r\x1b[K");
      std::fprintf(out, "epoch %lld/%lld  loss %.4f",
                   static_cast<long long>(epoch + 1),
                   static_cast<long long>(options_.epochs), m.trainLoss);
      if (!std::isnan(m.trainAccuracy))
        std::fprintf(out, "  acc %.2f%%", 100 * m.trainAccuracy);
      if (data_.hasValidation()) {
        std::fprintf(out, "  val_loss %.4f", m.validationLoss);
        if (!std::isnan(m.validationAccuracy))
          std::fprintf(out, "  val_acc %.2f%%", 100 * m.validationAccuracy);
      }
      std::fprintf(out, "  lr %.4g  %.0f samples/s  %.2fs%s%s%s\n", m.lr,
                   m.seconds > 0 ? (state_.trainSamples / spec_.batch_size()) *
                                       spec_.batch_size() / m.seconds
                                 : 0.0,
                   m.seconds, best ? "  (best)" : "",
                   saved.empty() ? "" : "  saved ",
                   saved.empty() ? "" : saved.c_str());
      std::fflush(out);
    }
    if (state_.stopped) {
      if (out)
        std::fprintf(out,
                     "early stopping: %s did not improve for %lld epochs "
                     "(best %.6g at epoch %lld)\n",
                     metricName(es.metric()),
                     static_cast<long long>(state_.stopBadEpochs),
                     state_.stopBest,
                     static_cast<long long>(state_.stopBestEpoch));
      break;
    }
  }
  return true;
}

std::vector<NamedTensor> Trainer::finalParameters() const {
  if (spec_.has_early_stopping() && spec_.early_stopping().restore_best() &&
      !bestParameters_.empty())
    return bestParameters_;
  return step_.parameters();
}

} // namespace lathe
