// lathe train SPEC.pbtxt: read the training spec, the model and the data,
// run the training loop (tools/lib/TrainingDriver.h) with a training step
// (tools/lib/Training.h), and export the trained model as ONNX.
#include "tools/lathe/BenchProfile.h"
#include "tools/lathe/Cli.h"

#include "frontend/TrainingModel.h"
#include "frontend/TrainingSpec.h"
#include "lathe/Npy.h"
#include "tools/lib/GradientCheck.h"
#include "tools/lib/TrainingDriver.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <unistd.h>

namespace lathe::cli {

static const char *kTrainHelp =
    "usage: lathe train SPEC.pbtxt [options]\n"
    "\n"
    "Trains the model a training spec describes (protobuf text format; the\n"
    "fields are documented in frontend/TrainingSpec.proto and\n"
    "docs/training.md) and writes the trained model as ONNX.\n"
    "\n"
    "options:\n"
    "  --epochs N            train N epochs in all (overrides the spec)\n"
    "  --resume DIR          continue from a checkpoint (a checkpoint\n"
    "                        directory, or the checkpoint root: the newest)\n"
    "  --metrics-out FILE    write per-epoch metrics as CSV (rewritten after\n"
    "                        every epoch)\n"
    "  -o, --output FILE     where the trained model goes (overrides the\n"
    "                        spec's output_model)\n"
    "  --step KIND           compiled (default) or reference: the plain C++\n"
    "                        softmax-regression step used to test the driver\n"
    "  --trace FILE.npz      record the first steps (loss, learning rate,\n"
    "                        raw gradients, parameters after each step)\n"
    "  --trace-steps N       how many steps --trace records (default 5)\n"
    "  --no-progress         one line per epoch even on a terminal\n"
    "  --threads N           threads the compiled step runs on (default 0 =\n"
    "                        every core; the results do not depend on it)\n"
    "  --dump-ir-dir DIR     write the compiled step's IR before and after\n"
    "                        every pass to DIR/step/NN-PASS.mlir (and the\n"
    "                        evaluation function's to DIR/eval/)\n"
    "  --bench N             do not train: time N steps on the first batch\n"
    "                        (after 3 warm-up steps) and print the median\n"
    "  --profile             with --bench: also time each compiled kernel of\n"
    "                        the step and print them by time\n"
    "  --check-gradients     do not train: compare the compiled gradients of\n"
    "                        the loss with central finite differences in\n"
    "                        float64 on the first 4 training samples, print\n"
    "                        the relative errors (exit 1 above 1e-6)\n";

static double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

/// lathe train --bench N: the step's own time, without data handling.
static int benchStep(TrainingStep &step, const train::TrainingSpec &spec,
                     const TrainingData &data, int64_t steps,
                     double compileSeconds, bool profile) {
  std::vector<int64_t> order(spec.batch_size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = static_cast<int64_t>(i % data.train.size());
  Batch batch;
  gatherBatch(data.train, order, 0, spec.batch_size(), batch);
  std::vector<double> times;
  double timedSeconds = 0;
  std::string error;
  for (int64_t i = 0; i < steps + 3; ++i) {
    // The profile covers the timed steps only.
    if (i == 3)
      step.resetProfile();
    batch.step = static_cast<uint64_t>(i);
    StepResult r;
    auto start = std::chrono::steady_clock::now();
    if (!step.step(batch, static_cast<float>(spec.optimizer().lr()), r, error))
      return fail(kBadInput, error);
    if (i >= 3) {
      times.push_back(secondsSince(start));
      timedSeconds += times.back();
    }
  }
  std::sort(times.begin(), times.end());
  std::printf("step: median %.4f ms, min %.4f ms over %lld steps (batch "
              "%lld); compile %.2f s\n",
              times[times.size() / 2] * 1e3, times[0] * 1e3,
              static_cast<long long>(steps),
              static_cast<long long>(spec.batch_size()), compileSeconds);
  if (profile)
    BenchProfile(step.profile(), steps, timedSeconds).print();
  return kOk;
}

int trainCommand(int argc, char **argv) {
  std::string specPath, outputPath, tracePath, dumpIRDir, stepKind = "compiled";
  int64_t traceSteps = 5, benchSteps = 0;
  int threads = 0;
  TrainerOptions options;
  bool progress = true, checkGradients = false, profile = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string inlineValue;
    bool hasInline = false;
    if (arg.rfind("--", 0) == 0 && arg.find('=') != std::string::npos) {
      inlineValue = arg.substr(arg.find('=') + 1);
      arg = arg.substr(0, arg.find('='));
      hasInline = true;
    }
    auto value = [&](const char *flag) -> const char * {
      if (hasInline)
        return inlineValue.c_str();
      if (i + 1 >= argc) {
        fail(kBadUsage, std::string("train: ") + flag + " needs a value");
        return nullptr;
      }
      return argv[++i];
    };
    // A flag's value that must be a positive integer.
    auto positive = [&](const char *flag, int64_t &out) {
      const char *v = value(flag);
      if (!v)
        return false;
      if (!parseCount(v, out) || out == 0) {
        fail(kBadUsage, std::string("train: ") + flag +
                            " expects a positive integer, got '" + v + "'");
        return false;
      }
      return true;
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kTrainHelp, stdout);
      return kOk;
    } else if (arg == "--epochs") {
      if (!positive("--epochs", options.epochs))
        return kBadUsage;
    } else if (arg == "--resume") {
      const char *v = value("--resume");
      if (!v)
        return kBadUsage;
      options.resumeFrom = v;
    } else if (arg == "--metrics-out") {
      const char *v = value("--metrics-out");
      if (!v)
        return kBadUsage;
      options.metricsPath = v;
    } else if (arg == "-o" || arg == "--output") {
      const char *v = value("--output");
      if (!v)
        return kBadUsage;
      outputPath = v;
    } else if (arg == "--step") {
      const char *v = value("--step");
      if (!v)
        return kBadUsage;
      stepKind = v;
      if (stepKind != "compiled" && stepKind != "reference")
        return fail(kBadUsage, "train: --step expects compiled or reference, "
                               "got '" +
                                   stepKind + "'");
    } else if (arg == "--trace") {
      const char *v = value("--trace");
      if (!v)
        return kBadUsage;
      tracePath = v;
    } else if (arg == "--trace-steps") {
      if (!positive("--trace-steps", traceSteps))
        return kBadUsage;
    } else if (arg == "--dump-ir-dir") {
      const char *v = value("--dump-ir-dir");
      if (!v)
        return kBadUsage;
      dumpIRDir = v;
    } else if (arg == "--bench") {
      if (!positive("--bench", benchSteps))
        return kBadUsage;
    } else if (arg == "--threads") {
      const char *v = value("--threads");
      if (!v || !parseThreads("train", v, threads))
        return kBadUsage;
    } else if (arg == "--profile") {
      profile = true;
    } else if (arg == "--check-gradients") {
      checkGradients = true;
    } else if (arg == "--no-progress") {
      progress = false;
    } else if (!arg.empty() && arg[0] == '-') {
      return fail(kBadUsage, "train: unknown option '" + arg + "'");
    } else if (specPath.empty()) {
      specPath = arg;
    } else {
      return fail(kBadUsage, "train: more than one spec given");
    }
  }
  if (profile && benchSteps == 0)
    return fail(kBadUsage, "train: --profile needs --bench N");
  if (specPath.empty())
    return fail(kBadUsage,
                "train: no spec given (usage: lathe train SPEC.pbtxt ...)");

  std::string error;
  train::TrainingSpec spec;
  if (!loadTrainingSpec(specPath, spec, error))
    return fail(kBadInput, error);
  if (!outputPath.empty())
    spec.set_output_model(outputPath);
  TrainingModel model;
  if (!model.load(spec, specPath, error) ||
      !initializeParameters(spec, specPath, model, error))
    return fail(kBadInput, error);
  TrainingData data;
  TrainingSetup setup;
  if (!loadTrainingData(spec, specPath, model, data, setup, error))
    return fail(kBadInput, error);

  if (checkGradients) {
    bool passed = false;
    if (!checkTrainingGradients(setup, data, GradientCheckOptions(), stdout,
                                passed, error))
      return fail(kBadInput, error);
    return passed ? kOk
                  : fail(kBadInput, specPath + ": the gradient check failed");
  }
  setup.keepGradients = !tracePath.empty();
  setup.dumpIRDir = dumpIRDir;
  setup.threads = threads;
  setup.profile = profile;
  auto compileStart = std::chrono::steady_clock::now();
  std::unique_ptr<TrainingStep> step =
      stepKind == "reference" ? createReferenceTrainingStep(setup, error)
                              : createCompiledTrainingStep(setup, error);
  if (!step)
    return fail(kBadInput, specPath + ": " + error);
  if (benchSteps > 0)
    return benchStep(*step, spec, data, benchSteps, secondsSince(compileStart),
                     profile);

  std::printf("training %s: %lld samples (%lld validation), batch %lld, "
              "%lld steps per epoch\n",
              model.path().c_str(), static_cast<long long>(data.train.size()),
              static_cast<long long>(data.validation.size()),
              static_cast<long long>(spec.batch_size()),
              static_cast<long long>(data.train.size() / spec.batch_size()));
  options.progressBar = progress && isatty(fileno(stdout));
  std::vector<NamedTensor> trace;
  if (!tracePath.empty()) {
    options.trace = &trace;
    options.traceSteps = traceSteps;
  }
  Trainer trainer(spec, specPath, data, *step, options);
  if (!trainer.run(error))
    return fail(kBadInput, error);
  if (!tracePath.empty() && !writeNpz(tracePath, trace, &error))
    return fail(kBadInput, error);

  std::string bytes;
  if (!model.exportWith(trainer.finalParameters(), bytes, error) ||
      !writeFileAtomic(spec.output_model(), bytes, error))
    return fail(kBadInput, error);
  std::printf("wrote %s\n", spec.output_model().c_str());
  return kOk;
}

} // namespace lathe::cli
