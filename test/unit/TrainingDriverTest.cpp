// The training driver with the reference step: determinism, resume equals an
// uninterrupted run (bit for bit, including the optimizer and schedule
// state), checkpoints, early stopping, NaN handling, and the schedules.
#include "TrainingTestUtils.h"

#include <cmath>
#include <filesystem>

namespace {

using namespace lathe;
using namespace lathe::test;
namespace fs = std::filesystem;

/// Trains `text` for `epochs` (0: the spec's), optionally resuming.
struct Trained {
  LoadedRun run;
  std::vector<NamedTensor> params, state;
  std::vector<EpochMetrics> history;
  TrainerState trainer;
  std::string checkpoint;
  bool ok = false;
  std::string error;
};

void train(Trained &t, const std::string &text, int64_t epochs = 0,
           const std::string &resume = "") {
  ASSERT_TRUE(t.run.load(text)) << t.run.error;
  TrainerOptions options;
  options.epochs = epochs;
  options.resumeFrom = resume;
  options.out = nullptr;
  Trainer trainer(t.run.spec, "t.pbtxt", t.run.data, *t.run.step, options);
  t.ok = trainer.run(t.error);
  t.params = trainer.finalParameters();
  t.state = t.run.step->optimizerState();
  t.history = trainer.history();
  t.trainer = trainer.state();
  t.checkpoint = trainer.lastCheckpoint();
}

void expectSameHistory(const std::vector<EpochMetrics> &a,
                       const std::vector<EpochMetrics> &b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].epoch, b[i].epoch);
    EXPECT_EQ(a[i].lr, b[i].lr);
    // The history goes through metrics.csv (9 significant digits) on
    // resume; everything that steers the run is stored exactly.
    EXPECT_NEAR(a[i].trainLoss, b[i].trainLoss,
                1e-8 * std::fabs(a[i].trainLoss));
    EXPECT_NEAR(a[i].validationLoss, b[i].validationLoss,
                1e-8 * std::fabs(a[i].validationLoss));
  }
}

std::string withValidation(std::string text) {
  text.replace(text.find("data {") + 6, 0, " validation_fraction: 0.2 ");
  return text;
}

TEST(TrainingDriver, SameSeedSameRunBitForBit) {
  std::string text = withValidation(digitsSpec("epochs: 3\nseed: 4\n"));
  Trained a, b, c;
  train(a, text);
  train(b, text);
  ASSERT_TRUE(a.ok && b.ok) << a.error << b.error;
  EXPECT_TRUE(sameBits(a.params, b.params));
  EXPECT_TRUE(sameBits(a.state, b.state));
  ASSERT_EQ(a.history.size(), 3u);
  for (size_t i = 0; i < 3; ++i)
    EXPECT_EQ(a.history[i].trainLoss, b.history[i].trainLoss);
  // It learns: the digits are nearly linearly separable.
  EXPECT_LT(a.history[2].trainLoss, a.history[0].trainLoss);
  EXPECT_GT(a.history[2].validationAccuracy, 0.9);
  // Another seed shuffles (and splits) differently.
  std::string other = text;
  other.replace(other.find("seed: 4"), 7, "seed: 5");
  train(c, other);
  EXPECT_FALSE(sameBits(a.params, c.params));
}

TEST(TrainingDriver, ResumeEqualsUninterrupted) {
  TempDir full, part;
  // Momentum (optimizer state), reduce_on_plateau (schedule state) with
  // patience 0 so that the rate changes, and early stopping's best copy.
  std::string body = "epochs: 5\nseed: 9\n"
                     "schedule { kind: reduce_on_plateau factor: 0.5 "
                     "patience: 0 metric: train_accuracy min_delta: 0.5 }\n"
                     "early_stopping { metric: validation_loss patience: 5 }\n";
  std::string optimizer = "optimizer { kind: nesterov lr: 0.5 momentum: 0.9 }";
  auto spec = [&](const std::string &dir) {
    return withValidation(digitsSpec(body + "checkpoint { dir: \"" + dir +
                                         "\" every_epochs: 1 }\n",
                                     optimizer));
  };
  Trained a;
  train(a, spec(full.path));
  ASSERT_TRUE(a.ok) << a.error;
  ASSERT_EQ(a.history.size(), 5u);

  Trained first;
  train(first, spec(part.path), 2);
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_EQ(first.checkpoint, part.path + "/epoch-0002");
  Trained resumed;
  train(resumed, spec(part.path), 0, part.path);
  ASSERT_TRUE(resumed.ok) << resumed.error;

  EXPECT_TRUE(sameBits(a.params, resumed.params));
  EXPECT_TRUE(sameBits(a.state, resumed.state));
  expectSameHistory(a.history, resumed.history);
  EXPECT_EQ(a.trainer.plateauLr, resumed.trainer.plateauLr);
  EXPECT_EQ(a.trainer.stepsDone, resumed.trainer.stepsDone);
  // The schedule did act (otherwise this test would not cover its state).
  EXPECT_LT(a.history.back().lr, 0.5);
  for (int e = 1; e <= 5; ++e)
    EXPECT_TRUE(
        fs::exists(full.path + "/epoch-000" + std::to_string(e) + "/MANIFEST"));

  // Resuming a finished run trains nothing and changes nothing.
  Trained again;
  train(again, spec(full.path), 0, full.path + "/epoch-0005");
  ASSERT_TRUE(again.ok) << again.error;
  EXPECT_EQ(again.history.size(), 5u);
}

TEST(TrainingDriver, ResumeRefusesAnotherRun) {
  TempDir dir;
  std::string text = digitsSpec("epochs: 1\nseed: 1\ncheckpoint { dir: \"" +
                                dir.path + "\" }\n");
  Trained a;
  train(a, text);
  ASSERT_TRUE(a.ok) << a.error;
  std::string other = text;
  other.replace(other.find("seed: 1"), 7, "seed: 2");
  Trained b;
  train(b, other, 2, dir.path);
  EXPECT_FALSE(b.ok);
  EXPECT_EQ(b.error, dir.path + "/epoch-0001: the checkpoint is of another "
                                "run (seed 1, this run 2)");
  Trained c;
  train(c, text, 2, dir.path + "/nothing");
  EXPECT_EQ(c.error, dir.path + "/nothing: not a directory");
}

TEST(TrainingDriver, KeepLastRemovesOlderCheckpoints) {
  TempDir dir;
  Trained a;
  train(a, digitsSpec("epochs: 4\ncheckpoint { dir: \"" + dir.path +
                      "\" keep_last: 2 }\n"));
  ASSERT_TRUE(a.ok) << a.error;
  std::vector<std::string> names;
  for (const auto &e : fs::directory_iterator(dir.path))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"epoch-0003", "epoch-0004"}));
}

TEST(TrainingDriver, EarlyStoppingStopsAndRestoresTheBest) {
  // min_delta so large that nothing after the first epoch improves.
  Trained a;
  train(a, withValidation(digitsSpec(
               "epochs: 10\nearly_stopping { metric: validation_accuracy "
               "patience: 2 min_delta: 1 }\n")));
  ASSERT_TRUE(a.ok) << a.error;
  EXPECT_EQ(a.history.size(), 3u);
  EXPECT_TRUE(a.trainer.stopped);
  EXPECT_EQ(a.trainer.stopBestEpoch, 1);
  // finalParameters() is the epoch-1 copy, not the step's current values.
  EXPECT_FALSE(sameBits(a.params, a.run.step->parameters()));
}

/// Wraps the reference step and reports a NaN loss at one step.
class NanAt : public TrainingStep {
public:
  NanAt(std::unique_ptr<TrainingStep> inner, uint64_t at)
      : inner_(std::move(inner)), at_(at) {}
  bool step(const Batch &b, float lr, StepResult &r, std::string &e) override {
    if (!inner_->step(b, lr, r, e))
      return false;
    if (b.step == at_)
      r.loss = NAN;
    return true;
  }
  bool evaluate(const Batch &b, EvalResult &r, std::string &e) override {
    return inner_->evaluate(b, r, e);
  }
  std::vector<NamedTensor> parameters() const override {
    return inner_->parameters();
  }
  bool setParameters(const std::vector<NamedTensor> &v,
                     std::string &e) override {
    return inner_->setParameters(v, e);
  }
  std::vector<NamedTensor> optimizerState() const override {
    return inner_->optimizerState();
  }
  bool setOptimizerState(const std::vector<NamedTensor> &v,
                         std::string &e) override {
    return inner_->setOptimizerState(v, e);
  }

private:
  std::unique_ptr<TrainingStep> inner_;
  uint64_t at_;
};

TEST(TrainingDriver, NanLossStopsAndKeepsTheLastGoodCheckpoint) {
  TempDir dir;
  LoadedRun run;
  ASSERT_TRUE(run.load(
      digitsSpec("epochs: 5\ncheckpoint { dir: \"" + dir.path + "\" }\n")))
      << run.error;
  // 22 steps per epoch (1437 / 64): step 50 is epoch 3, batch 6.
  NanAt step(std::move(run.step), 50);
  TrainerOptions options;
  options.out = nullptr;
  Trainer trainer(run.spec, "t.pbtxt", run.data, step, options);
  std::string error;
  EXPECT_FALSE(trainer.run(error));
  EXPECT_EQ(error, "t.pbtxt: step 50 (epoch 3, batch 6): the loss is nan; "
                   "training "
                   "stopped, last good checkpoint: " +
                       dir.path + "/epoch-0002");
  EXPECT_TRUE(fs::exists(dir.path + "/epoch-0002/MANIFEST"));
  EXPECT_FALSE(fs::exists(dir.path + "/epoch-0003"));
  // Nothing half-written is left behind.
  for (const auto &e : fs::directory_iterator(dir.path))
    EXPECT_EQ(e.path().filename().string().rfind("epoch-", 0), 0u);
}

TEST(TrainingDriver, Schedules) {
  auto lr = [](const std::string &schedule, int64_t epochs, uint64_t steps) {
    train::TrainingSpec spec;
    std::string error;
    std::string text =
        digitsSpec("epochs: 1\n" + schedule, "optimizer { kind: sgd lr: 0.8 }");
    EXPECT_TRUE(parseTrainingSpec(text, "t.pbtxt", spec, error)) << error;
    return scheduledLearningRate(spec, epochs, steps, 0.123);
  };
  EXPECT_DOUBLE_EQ(lr("", 7, 100), 0.8);
  EXPECT_DOUBLE_EQ(
      lr("schedule { kind: step step_size: 3 gamma: 0.5 }", 7, 100), 0.2);
  EXPECT_DOUBLE_EQ(lr("schedule { kind: exponential gamma: 0.5 }", 3, 100),
                   0.1);
  EXPECT_DOUBLE_EQ(lr("schedule { kind: inverse_time decay: 0.5 }", 2, 100),
                   0.4);
  EXPECT_DOUBLE_EQ(lr("schedule { kind: inverse_sqrt }", 3, 100), 0.4);
  EXPECT_DOUBLE_EQ(lr("schedule { kind: inverse_sqrt per_step: true }", 3, 15),
                   0.2);
  EXPECT_DOUBLE_EQ(
      lr("schedule { kind: reduce_on_plateau metric: train_loss }", 3, 15),
      0.123);
}

TEST(TrainingDriver, ReferenceStepRefusesWhatItCannotTrain) {
  LoadedRun run;
  EXPECT_FALSE(run.load(digitsSpec("epochs: 1", "optimizer { kind: adam "
                                                "lr: 0.1 }")));
  EXPECT_EQ(run.error, "the reference training step supports only "
                       "optimizer.kind sgd, momentum and nesterov");
}

} // namespace
