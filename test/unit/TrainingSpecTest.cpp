// The training spec parser: defaults, path resolution, and the one-line
// errors that name the spec and the field.
#include "frontend/TrainingSpec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using lathe::parseTrainingSpec;
using lathe::train::TrainingSpec;

const char *kMinimal = R"(
model { path: "m.onnx" }
loss { kind: softmax_cross_entropy }
optimizer { kind: sgd lr: 0.1 }
data { train: "train.npz" }
batch_size: 8
epochs: 2
)";

std::string parseError(const std::string &text) {
  TrainingSpec spec;
  std::string error;
  EXPECT_FALSE(parseTrainingSpec(text, "dir/spec.pbtxt", spec, error))
      << "accepted:\n"
      << text;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  return error;
}

TEST(TrainingSpec, MinimalSpecGetsDefaultsAndResolvedPaths) {
  TrainingSpec spec;
  std::string error;
  ASSERT_TRUE(parseTrainingSpec(kMinimal, "runs/a/spec.pbtxt", spec, error))
      << error;
  EXPECT_EQ(spec.model().path(), "runs/a/m.onnx");
  EXPECT_EQ(spec.data().train(), "runs/a/train.npz");
  EXPECT_EQ(spec.output_model(), "runs/a/m.trained.onnx");
  EXPECT_EQ(spec.data().input_array(), "x");
  EXPECT_EQ(spec.data().label_array(), "y");
  EXPECT_TRUE(spec.data().shuffle());
  EXPECT_EQ(spec.seed(), 0u);
  EXPECT_EQ(spec.schedule().kind(), lathe::train::Schedule::constant);
  EXPECT_DOUBLE_EQ(spec.optimizer().lr(), 0.1);
}

TEST(TrainingSpec, AbsolutePathsAndSpecInCwdStayAsGiven) {
  TrainingSpec spec;
  std::string error;
  std::string text = std::string(kMinimal) +
                     "checkpoint { dir: \"/abs/ck\" }\noutput_model: "
                     "\"out.onnx\"\n";
  ASSERT_TRUE(parseTrainingSpec(text, "spec.pbtxt", spec, error)) << error;
  EXPECT_EQ(spec.model().path(), "m.onnx");
  EXPECT_EQ(spec.checkpoint().dir(), "/abs/ck");
  EXPECT_EQ(spec.output_model(), "out.onnx");
  EXPECT_EQ(spec.checkpoint().every_epochs(), 1);
}

TEST(TrainingSpec, FullExampleParses) {
  TrainingSpec spec;
  std::string error;
  std::string path =
      std::string(LATHE_SOURCE_DIR) + "/examples/digits_mlp.pbtxt";
  ASSERT_TRUE(lathe::loadTrainingSpec(path, spec, error)) << error;
  EXPECT_EQ(spec.init_size(), 2);
  EXPECT_EQ(spec.optimizer().kind(), lathe::train::OptimizerKind::adam);
  EXPECT_EQ(spec.model().path(),
            std::string(LATHE_SOURCE_DIR) + "/examples/digits_mlp.onnx");
}

struct BadCase {
  std::string edit; // appended to (or replacing parts of) kMinimal
  std::string expected;
};

TEST(TrainingSpec, ErrorsNameTheSpecAndTheField) {
  // Appending a second value of a singular field is a parse error, so these
  // replace whole messages of kMinimal instead.
  auto with = [](const std::string &from, const std::string &to) {
    std::string text = kMinimal;
    size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return text.replace(at, from.size(), to);
  };
  const std::string sgd = "optimizer { kind: sgd lr: 0.1 }";
  const std::string data = "data { train: \"train.npz\" }";
  std::vector<BadCase> cases = {
      {with(sgd, "optimizer { kind: sgd lr: 0 }"),
       "dir/spec.pbtxt: optimizer.lr: must be > 0"},
      {with(sgd, "optimizer { kind: sgd lr: -1 }"),
       "dir/spec.pbtxt: optimizer.lr: must be > 0"},
      {with(sgd, "optimizer { kind: sgd lr: inf }"),
       "dir/spec.pbtxt: optimizer.lr: must be a finite number"},
      {with(sgd, "optimizer { kind: sgd }"),
       "dir/spec.pbtxt: optimizer.lr: required"},
      {with(sgd, ""), "dir/spec.pbtxt: optimizer: required"},
      {with(sgd, "optimizer { kind: sgd lr: 0.1 beta1: 0.9 }"),
       "dir/spec.pbtxt: optimizer.beta1: not used by optimizer.kind sgd"},
      {with(sgd, "optimizer { kind: adam lr: 0.1 beta2: 1 }"),
       "dir/spec.pbtxt: optimizer.beta2: must be in [0, 1)"},
      {with(sgd, "optimizer { kind: momentum lr: 0.1 clip_value: 0 }"),
       "dir/spec.pbtxt: optimizer.clip_value: must be > 0"},
      {with("batch_size: 8", "batch_size: 0"),
       "dir/spec.pbtxt: batch_size: must be > 0"},
      {with("epochs: 2", ""), "dir/spec.pbtxt: epochs: required"},
      {with("loss { kind: softmax_cross_entropy }",
            "loss { kind: huber delta: 0 }"),
       "dir/spec.pbtxt: loss.delta: must be > 0"},
      {with("loss { kind: softmax_cross_entropy }",
            "loss { kind: mse regularization { kind: l2 l1_coefficient: 1 "
            "l2_coefficient: 1 } }"),
       "dir/spec.pbtxt: loss.regularization.l1_coefficient: not used by "
       "regularization kind l2"},
      {with("loss { kind: softmax_cross_entropy }",
            "loss { kind: mse regularization { kind: elastic_net "
            "l1_coefficient: 1 } }"),
       "dir/spec.pbtxt: loss.regularization.l2_coefficient: required"},
      {std::string(kMinimal) + "schedule { kind: step gamma: 0.5 }",
       "dir/spec.pbtxt: schedule.step_size: required"},
      {std::string(kMinimal) + "schedule { kind: exponential gamma: 1.5 }",
       "dir/spec.pbtxt: schedule.gamma: must be in (0, 1]"},
      {std::string(kMinimal) + "schedule { kind: reduce_on_plateau }",
       "dir/spec.pbtxt: schedule.metric: validation_loss needs validation "
       "data"},
      {std::string(kMinimal) + "early_stopping { patience: 3 }",
       "dir/spec.pbtxt: early_stopping.metric: validation_loss needs "
       "validation data"},
      {with("loss { kind: softmax_cross_entropy }", "loss { kind: mse }") +
           "early_stopping { metric: train_accuracy }",
       "dir/spec.pbtxt: early_stopping.metric: train_accuracy needs a "
       "classification loss"},
      {with(data, "data { train: \"t.npz\" validation: \"v.npz\" "
                  "validation_fraction: 0.2 }"),
       "dir/spec.pbtxt: data.validation_fraction: give either"},
      {with(data, "data { train: \"t.npz\" validation_fraction: 1 }"),
       "dir/spec.pbtxt: data.validation_fraction: must be in (0, 1)"},
      {with(data, "data { train: \"t.npz\" validation_input_array: \"a\" }"),
       "dir/spec.pbtxt: data.validation_input_array: used only with "
       "data.validation"},
      {with(data, ""), "dir/spec.pbtxt: data: required"},
      {std::string(kMinimal) + "checkpoint { every_epochs: 2 }",
       "dir/spec.pbtxt: checkpoint.dir: required"},
      {std::string(kMinimal) + "init { kind: zeros }",
       "dir/spec.pbtxt: init[0].parameters: required"},
      {std::string(kMinimal) +
           "init { parameters: \"w\" kind: zeros stddev: 1 }",
       "dir/spec.pbtxt: init[0].stddev: not used by init kind zeros"},
      // Syntax errors come from protobuf with line and column; they name
      // the field or value.
      {std::string(kMinimal) + "learning_rate: 0.1",
       "dir/spec.pbtxt:8:14: Message type \"lathe.train.TrainingSpec\" has no "
       "field named \"learning_rate\""},
      {with(sgd, "optimizer { kind: adamw lr: 0.1 }"),
       "dir/spec.pbtxt:4:25: Unknown enumeration value of \"adamw\" for field "
       "\"kind\""},
      {std::string(kMinimal) + "epochs: 3",
       "dir/spec.pbtxt:8:7: Non-repeated field \"epochs\" is specified "
       "multiple times"},
  };
  for (const BadCase &c : cases) {
    std::string error = parseError(c.edit);
    EXPECT_EQ(error.rfind(c.expected, 0), 0u)
        << "expected: " << c.expected << "\n     got: " << error;
  }
}

TEST(TrainingSpec, MissingFileNamesIt) {
  TrainingSpec spec;
  std::string error;
  EXPECT_FALSE(lathe::loadTrainingSpec("no/such.pbtxt", spec, error));
  EXPECT_EQ(error, "no/such.pbtxt: cannot open file");
}

TEST(TrainingSpec, GlobMatch) {
  using lathe::globMatch;
  EXPECT_TRUE(globMatch("fc.*", "fc.weight"));
  EXPECT_TRUE(globMatch("fc*.bias", "fc12.bias"));
  EXPECT_FALSE(globMatch("fc*.bias", "fc1.weight"));
  EXPECT_TRUE(globMatch("*", ""));
  EXPECT_TRUE(globMatch("conv?.w", "conv3.w"));
  EXPECT_FALSE(globMatch("conv?.w", "conv10.w"));
  EXPECT_TRUE(globMatch("layer[0-2].*", "layer1.w"));
  EXPECT_FALSE(globMatch("layer[0-2].*", "layer3.w"));
  EXPECT_TRUE(globMatch("layer[!0-2].*", "layer3.w"));
  EXPECT_TRUE(globMatch("a*b*c", "aXXbYYbZc"));
  EXPECT_FALSE(globMatch("a*b*c", "aXXbYYbZ"));
  EXPECT_TRUE(globMatch("exact", "exact"));
  EXPECT_FALSE(globMatch("exact", "exactly"));
  EXPECT_TRUE(globMatch("[", "["));
  EXPECT_TRUE(lathe::isGlob("a*"));
  EXPECT_FALSE(lathe::isGlob("fc1.weight"));
}

} // namespace
