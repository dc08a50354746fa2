// Training data: the seeded split and shuffle (deterministic, pinned to
// golden values so that a change of the generator is noticed), batching,
// checks against the model and the loss, parameter initialisation, and the
// model side (trainable selection, export).
#include "TrainingTestUtils.h"

#include "lathe/Npy.h"
#include "onnx/onnx_pb.h"
#include "tools/lib/CounterRng.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

namespace {

using namespace lathe;
using namespace lathe::test;

TEST(TrainingData, EpochOrderIsASeededPermutation) {
  std::vector<int64_t> a = epochOrder(7, 3, 100, true);
  EXPECT_EQ(a, epochOrder(7, 3, 100, true));
  EXPECT_NE(a, epochOrder(7, 4, 100, true));
  EXPECT_NE(a, epochOrder(8, 3, 100, true));
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> identity(100);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_EQ(sorted, identity);
  EXPECT_EQ(epochOrder(7, 3, 100, false), identity);
  // Golden values: bit-reproducibility across builds and machines.
  EXPECT_EQ(epochOrder(0, 0, 8, true),
            (std::vector<int64_t>{6, 3, 7, 0, 4, 5, 2, 1}));
  EXPECT_EQ(counterRandom(1, 2, 3, 4), 6646549084938303ull);
}

TEST(TrainingData, ValidationIndicesAreSortedDistinctAndSeeded) {
  std::vector<int64_t> v = validationIndices(5, 1000, 0.2);
  EXPECT_EQ(v.size(), 200u);
  EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));
  EXPECT_EQ(std::set<int64_t>(v.begin(), v.end()).size(), 200u);
  EXPECT_EQ(v, validationIndices(5, 1000, 0.2));
  EXPECT_NE(v, validationIndices(6, 1000, 0.2));
  EXPECT_EQ(validationIndices(5, 10, 0.25).size(), 3u); // round(2.5) = 3
}

TEST(TrainingData, GatherPadsThePartialBatchWithItsFirstSample) {
  Dataset set;
  set.inputs = Tensor(DType::F32, {5, 2});
  set.labels = Tensor(DType::I64, {5});
  for (int i = 0; i < 10; ++i)
    set.inputs.as<float>()[i] = static_cast<float>(i);
  for (int i = 0; i < 5; ++i)
    set.labels.as<int64_t>()[i] = 10 + i;
  std::vector<int64_t> order = {4, 2, 0, 1, 3};
  Batch b;
  gatherBatch(set, order, 3, 4, b);
  EXPECT_EQ(b.rows, 2);
  EXPECT_EQ(b.inputs.shape, (std::vector<int64_t>{4, 2}));
  std::vector<int64_t> labels(b.labels.as<int64_t>(),
                              b.labels.as<int64_t>() + 4);
  EXPECT_EQ(labels, (std::vector<int64_t>{11, 13, 11, 11}));
  EXPECT_EQ(b.inputs.as<float>()[2], 6.0f); // row 3 = sample 3
  EXPECT_EQ(b.inputs.as<float>()[4], 2.0f); // padding = sample 1
}

TEST(TrainingData, LoadsDigitsAndSplitsByFraction) {
  LoadedRun run;
  std::string text = digitsSpec("epochs: 1\nseed: 3\n");
  text.replace(text.find("data {") + 6, 0, " validation_fraction: 0.25 ");
  ASSERT_TRUE(run.load(text)) << run.error;
  EXPECT_EQ(run.data.train.size() + run.data.validation.size(), 1437);
  EXPECT_EQ(run.data.validation.size(), 359); // round(0.25 * 1437)
  EXPECT_EQ(run.setup.batchInputShape, (std::vector<int64_t>{64, 1, 8, 8}));
  EXPECT_EQ(run.setup.outputShape, (std::vector<int64_t>{64, 10}));
  EXPECT_EQ(run.model.inputName(), "image");
  ASSERT_EQ(run.model.parameters().size(), 2u);
  EXPECT_TRUE(run.model.parameters()[0].trainable);
}

TEST(TrainingData, ErrorsNameTheArrayTheSampleAndTheValue) {
  auto errorOf = [](const std::string &text) {
    LoadedRun run;
    EXPECT_FALSE(run.load(text, "s.pbtxt"));
    EXPECT_EQ(run.error.find('\n'), std::string::npos) << run.error;
    return run.error;
  };
  std::string base = digitsSpec("epochs: 1");
  auto swap = [&](const std::string &from, const std::string &to) {
    std::string t = base;
    return t.replace(t.find(from), from.size(), to);
  };
  std::string bad = sourcePath("test/training/bad_labels.npz");
  std::string digits = sourcePath("examples/digits.npz");
  std::string badLabels = swap("input_array: \"train_images\" label_array: "
                               "\"train_labels\"",
                               "input_array: \"x\" label_array: \"y\"");
  badLabels.replace(badLabels.find(digits), digits.size(), bad);
  badLabels.replace(badLabels.find("batch_size: 64"), 14, "batch_size: 8");
  EXPECT_EQ(errorOf(badLabels),
            "'y' in " + bad +
                ": sample 17 has label 12, outside [0, 10) (the model output "
                "'logits' has 10 classes)");
  EXPECT_EQ(
      errorOf(swap("input_array: \"train_images\"", "input_array: \"images\"")),
      "s.pbtxt: data.input_array: no array 'images' in " + digits +
          " (arrays: train_images, train_labels, validation_images, "
          "validation_labels)");
  EXPECT_EQ(errorOf(swap("batch_size: 64", "batch_size: 5000")),
            "s.pbtxt: batch_size: 5000 is more than the 1437 training "
            "samples");
  EXPECT_EQ(errorOf(swap("output: \"logits\"", "output: \"nothing\"")),
            "s.pbtxt: model.output: 'nothing' is not a value computed by " +
                sourcePath("test/training/digits_linear.onnx") +
                " (outputs: probs)");
  EXPECT_EQ(errorOf(swap("output: \"logits\"",
                         "output: \"logits\" trainable: \"fc.*\"")),
            "s.pbtxt: model.trainable: 'fc.*' matches no parameter of " +
                sourcePath("test/training/digits_linear.onnx"));
  EXPECT_EQ(errorOf(swap(digits, "missing.npz")),
            "s.pbtxt: data.train: missing.npz: cannot open: No such file or "
            "directory");
}

TEST(TrainingData, FrozenAndRegularizedSelection) {
  LoadedRun run;
  std::string text = digitsSpec("epochs: 1");
  text.replace(text.find("output: \"logits\""), 16,
               "output: \"logits\" frozen: \"b\"");
  text.replace(text.find("loss { kind: softmax_cross_entropy }"), 37,
               "loss { kind: softmax_cross_entropy regularization { kind: l2 "
               "l2_coefficient: 0.1 } }");
  ASSERT_TRUE(parseTrainingSpec(text, "t.pbtxt", run.spec, run.error))
      << run.error;
  ASSERT_TRUE(run.model.load(run.spec, "t.pbtxt", run.error)) << run.error;
  const auto &p = run.model.parameters();
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].name, "W");
  EXPECT_TRUE(p[0].trainable && p[0].regularized);
  EXPECT_FALSE(p[1].trainable || p[1].regularized);
}

TEST(TrainingData, InitRulesAreSeededAndScaled) {
  std::string text = digitsSpec("epochs: 1\nseed: 11\n"
                                "init { parameters: \"W\" kind: "
                                "xavier_uniform }\n"
                                "init { parameters: \"*\" kind: normal "
                                "stddev: 0.5 }\n");
  LoadedRun a, b;
  ASSERT_TRUE(a.load(text)) << a.error;
  ASSERT_TRUE(b.load(text)) << b.error;
  const Tensor &w = a.model.parameters()[0].value;
  double bound = std::sqrt(6.0 / (64 + 10)), sq = 0;
  for (int64_t i = 0; i < w.numel(); ++i) {
    EXPECT_LE(std::fabs(w.as<float>()[i]), bound);
    sq += w.as<float>()[i] * w.as<float>()[i];
  }
  // Uniform(-a, a) has variance a^2 / 3.
  EXPECT_NEAR(sq / w.numel(), bound * bound / 3, bound * bound / 3 * 0.2);
  EXPECT_EQ(w.data, b.model.parameters()[0].value.data);
  EXPECT_EQ(a.model.parameters()[1].initRule, 1); // "*" matched b
  EXPECT_NE(a.model.parameters()[1].value.as<float>()[0], 0.0f);
}

TEST(TrainingModel, ExportReplacesInitializers) {
  LoadedRun run;
  ASSERT_TRUE(run.load(digitsSpec("epochs: 1"))) << run.error;
  std::vector<NamedTensor> params = run.step->parameters();
  params[0].second.as<float>()[5] = 1.5f;
  std::string bytes;
  ASSERT_TRUE(run.model.exportWith(params, bytes, run.error)) << run.error;
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(bytes));
  ASSERT_EQ(m.graph().initializer_size(), 2);
  const onnx::TensorProto &w = m.graph().initializer(0);
  EXPECT_EQ(w.name(), "W");
  ASSERT_EQ(w.raw_data().size(), 640u * 4);
  float v;
  std::memcpy(&v, w.raw_data().data() + 5 * 4, 4);
  EXPECT_EQ(v, 1.5f);

  params[0].second = Tensor(DType::F32, {3});
  EXPECT_FALSE(run.model.exportWith(params, bytes, run.error));
  EXPECT_NE(run.error.find("export: 'W' is float32[3], the model's "
                           "float32[10x64]"),
            std::string::npos)
      << run.error;
}

} // namespace
