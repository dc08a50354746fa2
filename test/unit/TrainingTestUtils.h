// Shared set-up of the training tests: a spec over the checked-in softmax
// regression model (test/training/digits_linear.onnx) and the shipped digits
// (examples/digits.npz), loaded the way `lathe train` loads it, with the
// reference step.
#ifndef LATHE_TEST_TRAININGTESTUTILS_H
#define LATHE_TEST_TRAININGTESTUTILS_H

#include "frontend/TrainingModel.h"
#include "frontend/TrainingSpec.h"
#include "tools/lib/TrainingData.h"
#include "tools/lib/TrainingDriver.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

namespace lathe::test {

inline std::string sourcePath(const std::string &rel) {
  return std::string(LATHE_SOURCE_DIR) + "/" + rel;
}

/// The digits spec with `extra` appended (fields not already set).
inline std::string digitsSpec(
    const std::string &extra,
    const std::string &optimizer = "optimizer { kind: momentum lr: 0.2 }") {
  return "model { path: \"" + sourcePath("test/training/digits_linear.onnx") +
         "\" output: \"logits\" }\n"
         "loss { kind: softmax_cross_entropy }\n" +
         optimizer +
         "\n"
         "data {\n"
         "  train: \"" +
         sourcePath("examples/digits.npz") +
         "\"\n"
         "  input_array: \"train_images\" label_array: \"train_labels\"\n"
         "}\n"
         "batch_size: 64\n" +
         extra + "\n";
}

/// A fresh temporary directory, removed with the object.
struct TempDir {
  std::string path;
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "/lathe-train-XXXXXX";
    EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

/// Everything `lathe train` builds before the loop.
struct LoadedRun {
  train::TrainingSpec spec;
  TrainingModel model;
  TrainingData data;
  TrainingSetup setup;
  std::unique_ptr<TrainingStep> step;
  std::string error;

  /// False (with `error`) where `lathe train` would stop.
  bool load(const std::string &text, const std::string &specPath = "t.pbtxt") {
    return parseTrainingSpec(text, specPath, spec, error) &&
           model.load(spec, specPath, error) &&
           initializeParameters(spec, specPath, model, error) &&
           loadTrainingData(spec, specPath, model, data, setup, error) &&
           (step = createReferenceTrainingStep(setup, error)) != nullptr;
  }
};

inline bool sameBits(const std::vector<NamedTensor> &a,
                     const std::vector<NamedTensor> &b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].first != b[i].first || a[i].second.shape != b[i].second.shape ||
        a[i].second.data != b[i].second.data)
      return false;
  return true;
}

} // namespace lathe::test

#endif // LATHE_TEST_TRAININGTESTUTILS_H
