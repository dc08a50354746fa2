// The data side of a training run: see TrainingData.h.
#include "tools/lib/TrainingData.h"

#include "frontend/TrainingModel.h"
#include "lathe/Npy.h"
#include "tools/lib/CounterRng.h"

#include <algorithm>
#include <cmath>

namespace lathe {

using namespace lathe::train;

namespace {

int64_t rowBytes(const Tensor &t) {
  return t.shape.empty() || t.shape[0] == 0
             ? 0
             : static_cast<int64_t>(t.bytes()) / t.shape[0];
}

Tensor takeRows(const Tensor &t, const std::vector<int64_t> &rows) {
  std::vector<int64_t> shape = t.shape;
  shape[0] = static_cast<int64_t>(rows.size());
  Tensor out(t.dtype, shape);
  int64_t rb = rowBytes(t);
  for (size_t i = 0; i < rows.size(); ++i)
    std::memcpy(out.data.data() + i * rb, t.data.data() + rows[i] * rb, rb);
  return out;
}

std::string dimsOf(const std::vector<int64_t> &shape, size_t from) {
  std::vector<int64_t> rest(shape.begin() + std::min(from, shape.size()),
                            shape.end());
  return shapeToString(rest);
}

/// Reads the input and label arrays of one .npz into `set`.
bool readArrays(const TrainingSpec &spec, const std::string &specPath,
                const std::string &path, bool validation, Dataset &set,
                std::string &error) {
  const Data &d = spec.data();
  std::string inputField = "data.input_array", labelField = "data.label_array";
  std::string inputName = d.input_array(), labelName = d.label_array();
  if (validation && d.has_validation_input_array()) {
    inputField = "data.validation_input_array";
    inputName = d.validation_input_array();
  }
  if (validation && d.has_validation_label_array()) {
    labelField = "data.validation_label_array";
    labelName = d.validation_label_array();
  }
  std::vector<std::pair<std::string, Tensor>> arrays;
  if (!readNpz(path, arrays, &error)) {
    error = specPath + ": " + (validation ? "data.validation" : "data.train") +
            ": " + error;
    return false;
  }
  std::string names;
  for (const auto &a : arrays)
    names += (names.empty() ? "" : ", ") + a.first;
  auto find = [&](const std::string &field, const std::string &name,
                  Tensor &out) {
    for (auto &a : arrays)
      if (a.first == name) {
        out = std::move(a.second);
        return true;
      }
    error = specPath + ": " + field + ": no array '" + name + "' in " + path +
            " (arrays: " + (names.empty() ? "none" : names) + ")";
    return false;
  };
  if (!find(inputField, inputName, set.inputs) ||
      !find(labelField, labelName, set.labels))
    return false;
  set.source = path;
  set.inputName = inputName;
  set.labelName = labelName;
  if (set.inputs.shape.empty() || set.labels.shape.empty()) {
    error = path + ": '" + (set.inputs.shape.empty() ? inputName : labelName) +
            "' is a scalar; samples go along dim 0";
    return false;
  }
  if (set.inputs.shape[0] != set.labels.shape[0]) {
    error = path + ": '" + labelName + "' has " +
            std::to_string(set.labels.shape[0]) + " samples, '" + inputName +
            "' has " + std::to_string(set.inputs.shape[0]);
    return false;
  }
  return true;
}

/// The input array against the model's data input (dtype, per-sample dims).
bool checkInputs(const TrainingModel &model, const Dataset &set,
                 std::string &error) {
  const std::string &name = set.inputName;
  if (set.inputs.dtype != model.inputDType()) {
    error = set.source + ": '" + name + "' is " + dtypeName(set.inputs.dtype) +
            ", model input '" + model.inputName() + "' is " +
            dtypeName(model.inputDType());
    return false;
  }
  const std::vector<int64_t> &want = model.inputShape();
  bool fits = want.size() == set.inputs.shape.size();
  for (size_t i = 1; fits && i < want.size(); ++i)
    fits = want[i] < 0 || want[i] == set.inputs.shape[i];
  if (!fits) {
    std::string declared;
    for (size_t i = 0; i < want.size(); ++i)
      declared += (i ? "x" : "") +
                  (want[i] < 0 ? std::string("?") : std::to_string(want[i]));
    error = set.source + ": '" + name + "' has samples of shape " +
            dimsOf(set.inputs.shape, 1) + ", model input '" +
            model.inputName() + "' takes " +
            (declared.empty() ? "scalar" : declared) + " (samples along dim 0)";
    return false;
  }
  return true;
}

/// Normal(0, 1) from two counter-addressed uniforms (Box-Muller).
double normalAt(uint64_t seed, uint64_t index, uint64_t k) {
  double u1 = toUnitDouble(counterRandom(seed, kRngInit, index, 2 * k));
  double u2 = toUnitDouble(counterRandom(seed, kRngInit, index, 2 * k + 1));
  return std::sqrt(-2.0 * std::log1p(-u1)) * std::cos(2 * M_PI * u2);
}

} // namespace

bool isClassIndexLoss(const TrainingSpec &spec) {
  switch (spec.loss().kind()) {
  case Loss::softmax_cross_entropy:
  case Loss::nll:
  case Loss::hinge:
  case Loss::squared_hinge:
    return true;
  default:
    return false;
  }
}

bool checkLabels(const TrainingSpec &spec, const Tensor &labels,
                 const std::string &outputName,
                 const std::vector<int64_t> &outputShape,
                 const std::string &what, std::string &error) {
  std::string loss = "loss.kind " + Loss::Kind_Name(spec.loss().kind());
  std::string output = "model output '" + outputName + "'";
  if (isClassIndexLoss(spec)) {
    if (outputShape.size() != 2) {
      error = "the " + output + " has shape " + shapeToString(outputShape) +
              "; " + loss + " needs [batch, classes]";
      return false;
    }
    if (labels.dtype != DType::I64 || labels.shape.size() != 1) {
      error = what + ": labels are " + std::string(dtypeName(labels.dtype)) +
              "[" + shapeToString(labels.shape) + "]; " + loss +
              " needs int64 class indices, one per sample";
      return false;
    }
    int64_t classes = outputShape[1];
    const int64_t *v = labels.as<int64_t>();
    for (int64_t i = 0; i < labels.numel(); ++i)
      if (v[i] < 0 || v[i] >= classes) {
        error = what + ": sample " + std::to_string(i) + " has label " +
                std::to_string(v[i]) + ", outside [0, " +
                std::to_string(classes) + ") (the " + output + " has " +
                std::to_string(classes) + " classes)";
        return false;
      }
    return true;
  }
  std::vector<int64_t> want(outputShape.begin() + 1, outputShape.end());
  std::vector<int64_t> got(labels.shape.begin() + 1, labels.shape.end());
  if (labels.dtype != DType::F32 || want != got) {
    error = what + ": labels are " + std::string(dtypeName(labels.dtype)) +
            " with samples of shape " + shapeToString(got) + "; " + loss +
            " needs float32 samples shaped like the " + output + " (" +
            shapeToString(want) + ")";
    return false;
  }
  bool probabilities = spec.loss().kind() == Loss::bce ||
                       spec.loss().kind() == Loss::bce_with_logits;
  const float *v = labels.as<float>();
  int64_t perSample = labels.shape[0] ? labels.numel() / labels.shape[0] : 1;
  for (int64_t i = 0; i < labels.numel(); ++i) {
    bool bad =
        !std::isfinite(v[i]) || (probabilities && (v[i] < 0 || v[i] > 1));
    if (bad) {
      error = what + ": sample " + std::to_string(i / perSample) +
              " has label " + std::to_string(v[i]) +
              (probabilities ? ", outside [0, 1]" : ", not finite");
      return false;
    }
  }
  return true;
}

std::vector<int64_t> epochOrder(uint64_t seed, int64_t epoch, int64_t n,
                                bool shuffle) {
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i)
    order[i] = i;
  if (!shuffle)
    return order;
  for (int64_t i = n - 1; i > 0; --i) {
    uint64_t r = counterRandom(seed, kRngShuffle, epoch, i);
    std::swap(order[i], order[toBounded(r, i + 1)]);
  }
  return order;
}

std::vector<int64_t> validationIndices(uint64_t seed, int64_t n,
                                       double fraction) {
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i)
    order[i] = i;
  for (int64_t i = n - 1; i > 0; --i) {
    uint64_t r = counterRandom(seed, kRngValidationSplit, 0, i);
    std::swap(order[i], order[toBounded(r, i + 1)]);
  }
  int64_t count = std::llround(fraction * n);
  order.resize(std::min<int64_t>(count, n));
  std::sort(order.begin(), order.end());
  return order;
}

void gatherBatch(const Dataset &set, const std::vector<int64_t> &order,
                 int64_t start, int64_t batchSize, Batch &batch) {
  auto shaped = [&](const Tensor &t, Tensor &out) {
    std::vector<int64_t> shape = t.shape;
    shape[0] = batchSize;
    if (out.shape != shape || out.dtype != t.dtype)
      out = Tensor(t.dtype, shape);
  };
  shaped(set.inputs, batch.inputs);
  shaped(set.labels, batch.labels);
  int64_t n = static_cast<int64_t>(order.size());
  batch.rows = std::min(batchSize, n - start);
  int64_t ib = rowBytes(set.inputs), lb = rowBytes(set.labels);
  for (int64_t i = 0; i < batchSize; ++i) {
    int64_t row = order[i < batch.rows ? start + i : start];
    std::memcpy(batch.inputs.data.data() + i * ib,
                set.inputs.data.data() + row * ib, ib);
    std::memcpy(batch.labels.data.data() + i * lb,
                set.labels.data.data() + row * lb, lb);
  }
}

bool loadTrainingData(const TrainingSpec &spec, const std::string &specPath,
                      const TrainingModel &model, TrainingData &data,
                      TrainingSetup &setup, std::string &error) {
  const Data &d = spec.data();
  int64_t batch = spec.batch_size();
  if (!readArrays(spec, specPath, d.train(), false, data.train, error) ||
      !checkInputs(model, data.train, error))
    return false;
  if (d.has_validation() && (!readArrays(spec, specPath, d.validation(), true,
                                         data.validation, error) ||
                             !checkInputs(model, data.validation, error)))
    return false;
  if (d.has_validation() && dimsOf(data.validation.labels.shape, 1) !=
                                dimsOf(data.train.labels.shape, 1)) {
    error = d.validation() + ": '" + data.validation.labelName +
            "' has samples of shape " +
            dimsOf(data.validation.labels.shape, 1) + ", in " + d.train() +
            " " + dimsOf(data.train.labels.shape, 1);
    return false;
  }

  if (d.has_validation_fraction()) {
    int64_t n = data.train.size();
    std::vector<int64_t> held =
        validationIndices(spec.seed(), n, d.validation_fraction());
    if (held.empty() || static_cast<int64_t>(held.size()) == n) {
      error = specPath + ": data.validation_fraction: holds out " +
              std::to_string(held.size()) + " of the " + std::to_string(n) +
              " samples; at least one must be in each part";
      return false;
    }
    std::vector<int64_t> kept;
    for (int64_t i = 0, h = 0; i < n; ++i) {
      if (h < static_cast<int64_t>(held.size()) && held[h] == i)
        ++h;
      else
        kept.push_back(i);
    }
    data.validation.inputs = takeRows(data.train.inputs, held);
    data.validation.labels = takeRows(data.train.labels, held);
    data.validation.source = d.train() + " (validation_fraction)";
    data.validation.inputName = data.train.inputName;
    data.validation.labelName = data.train.labelName;
    data.train.inputs = takeRows(data.train.inputs, kept);
    data.train.labels = takeRows(data.train.labels, kept);
  }
  if (data.train.size() < batch) {
    error = specPath + ": batch_size: " + std::to_string(batch) +
            " is more than the " + std::to_string(data.train.size()) +
            " training samples";
    return false;
  }
  int64_t modelBatch = model.inputShape().empty() ? -1 : model.inputShape()[0];
  if (modelBatch >= 0 && modelBatch != batch) {
    error = specPath + ": batch_size: " + std::to_string(batch) +
            ", but model input '" + model.inputName() +
            "' has a fixed batch dim of " + std::to_string(modelBatch);
    return false;
  }

  setup.spec = &spec;
  setup.model = &model;
  setup.seed = spec.seed();
  setup.batchInputShape = data.train.inputs.shape;
  setup.batchInputShape[0] = batch;
  setup.batchLabelShape = data.train.labels.shape;
  setup.batchLabelShape[0] = batch;
  setup.labelDType = data.train.labels.dtype;
  if (!model.inferOutputShape(setup.batchInputShape, setup.outputShape, error))
    return false;
  if (!checkLabels(
          spec, data.train.labels, model.outputName(), setup.outputShape,
          "'" + data.train.labelName + "' in " + data.train.source, error))
    return false;
  if (data.hasValidation() &&
      !checkLabels(
          spec, data.validation.labels, model.outputName(), setup.outputShape,
          "'" + data.validation.labelName + "' in " + data.validation.source,
          error))
    return false;
  return true;
}

bool initializeParameters(const TrainingSpec &spec, const std::string &specPath,
                          TrainingModel &model, std::string &error) {
  std::vector<TrainingParameter> &params = model.parameters();
  for (size_t index = 0; index < params.size(); ++index) {
    TrainingParameter &p = params[index];
    if (p.initRule < 0)
      continue;
    const Init &rule = spec.init(p.initRule);
    const std::vector<int64_t> &shape = p.value.shape;
    float *v = p.value.as<float>();
    int64_t n = p.value.numel();
    bool fans = rule.kind() != Init::normal && rule.kind() != Init::zeros;
    if (fans && shape.size() < 2) {
      error = specPath + ": init[" + std::to_string(p.initRule) +
              "].kind: " + Init::Kind_Name(rule.kind()) +
              " needs rank >= 2, '" + p.name + "' is [" + shapeToString(shape) +
              "]";
      return false;
    }
    double receptive = 1;
    for (size_t i = 2; i < shape.size(); ++i)
      receptive *= static_cast<double>(shape[i]);
    double fanOut = fans ? shape[0] * receptive : 1;
    double fanIn = fans ? shape[1] * receptive : 1;
    for (int64_t k = 0; k < n; ++k) {
      double u = 2 * toUnitDouble(counterRandom(spec.seed(), kRngInit, index,
                                                static_cast<uint64_t>(k))) -
                 1;
      double value = 0;
      switch (rule.kind()) {
      case Init::xavier_uniform:
        value = u * std::sqrt(6.0 / (fanIn + fanOut));
        break;
      case Init::xavier_normal:
        value =
            normalAt(spec.seed(), index, k) * std::sqrt(2.0 / (fanIn + fanOut));
        break;
      case Init::he_uniform:
        value = u * std::sqrt(6.0 / fanIn);
        break;
      case Init::he_normal:
        value = normalAt(spec.seed(), index, k) * std::sqrt(2.0 / fanIn);
        break;
      case Init::normal:
        value = normalAt(spec.seed(), index, k) * rule.stddev();
        break;
      case Init::zeros:
        value = 0;
        break;
      }
      v[k] = static_cast<float>(value);
    }
  }
  return true;
}

} // namespace lathe
