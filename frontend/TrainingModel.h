// The model side of a training run: which graph input takes the data, which
// value the loss is computed on, which tensors are parameters and which of
// them are trained; and, at the end, the model written back with its trained
// parameters (ONNX export).
//
// Errors follow frontend/TrainingSpec.h: "SPEC: FIELD: MESSAGE" when a spec
// field is at fault, "MODEL: MESSAGE" when the model is.
#ifndef LATHE_FRONTEND_TRAININGMODEL_H
#define LATHE_FRONTEND_TRAININGMODEL_H

#include "frontend/TrainingSpec.h"
#include "lathe/Tensor.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace onnx {
class ModelProto;
} // namespace onnx

namespace lathe {

struct TrainingParameter {
  std::string name;
  /// The initializer's value; zeros for a graph input the model does not
  /// carry a value for (`init` must then name it).
  Tensor value;
  /// From an initializer (false: a graph input, i.e. the model has no
  /// weights for it).
  bool fromInitializer = true;
  bool trainable = false;
  /// Penalised by loss.regularization.
  bool regularized = false;
  /// Index of the first spec `init` rule naming it, or -1.
  int initRule = -1;
};

/// What TrainingModel::buildStepGraph builds (frontend/TrainingGraph.cpp).
struct StepGraphOptions {
  std::vector<int64_t> inputShape; // [batch, sample dims...]
  std::vector<int64_t> labelShape; // [batch, label dims...]
  DType labelDType = DType::I64;
  std::vector<int64_t> outputShape; // of outputName() at this batch size
  /// Training: outputs kLossName (mean loss plus regularisation) and
  /// kCorrectName. Evaluation: kSampleLossName and kSampleCorrectName, per
  /// sample, without regularisation. The correct-prediction outputs exist
  /// only for losses with an accuracy (classification; bce and
  /// bce_with_logits with one output per sample); they are float counts.
  bool training = true;
};

/// Names of the values buildStepGraph adds.
extern const char *const kLabelsName;
extern const char *const kLossName;
extern const char *const kCorrectName;
extern const char *const kSampleLossName;
extern const char *const kSampleCorrectName;

/// Rewrites a model's float32 tensors as float64: inputs, outputs,
/// initializers, constant attributes and Cast targets (for gradient checks
/// in float64). Models with subgraphs are refused.
bool widenToFloat64(onnx::ModelProto &model, const std::string &path,
                    std::string &error);

class TrainingModel {
public:
  TrainingModel();
  ~TrainingModel();
  TrainingModel(TrainingModel &&);
  TrainingModel &operator=(TrainingModel &&);

  /// Loads spec.model.path and resolves model.input, model.output,
  /// model.trainable/frozen, loss.regularization.parameters and the init
  /// rules against it. `specPath` names the spec in errors.
  bool load(const train::TrainingSpec &spec, const std::string &specPath,
            std::string &error);

  const std::string &path() const { return path_; }
  /// The graph input fed with the data and its declared shape (-1 for a
  /// symbolic or unknown dim) and dtype.
  const std::string &inputName() const { return input_; }
  const std::vector<int64_t> &inputShape() const { return inputShape_; }
  DType inputDType() const { return inputDType_; }
  /// The value the loss is computed on.
  const std::string &outputName() const { return output_; }
  /// Every float initializer (but op settings such as a Dropout ratio or
  /// Clip bounds), then every initialised graph input, in model
  /// order.
  const std::vector<TrainingParameter> &parameters() const { return params_; }
  std::vector<TrainingParameter> &parameters() { return params_; }

  /// The shape of outputName() for a given data-input shape (ONNX shape
  /// inference with the input bound). Fails when a dim stays unknown.
  bool inferOutputShape(const std::vector<int64_t> &inputShape,
                        std::vector<int64_t> &shape, std::string &error) const;

  /// The model with every given tensor stored as its initializer (a graph
  /// input of that name becomes an initializer and stops being an input),
  /// checked with libonnx's checker, serialized into `bytes`. Each name must
  /// be a parameter, with its dtype and shape.
  bool exportWith(const std::vector<std::pair<std::string, Tensor>> &values,
                  std::string &bytes, std::string &error) const;

  /// The forward half of a training (or evaluation) step as an ONNX model:
  /// this model with every parameter turned into a graph input (after the
  /// data input and kLabelsName, in parameters() order) and the loss and
  /// metrics of `spec` appended as the only outputs.
  bool buildStepGraph(const train::TrainingSpec &spec,
                      const StepGraphOptions &options, onnx::ModelProto &out,
                      std::string &error) const;

private:
  std::string path_, input_, output_;
  std::vector<int64_t> inputShape_;
  DType inputDType_ = DType::F32;
  std::vector<TrainingParameter> params_;
  std::unique_ptr<onnx::ModelProto> model_;
};

} // namespace lathe

#endif // LATHE_FRONTEND_TRAININGMODEL_H
