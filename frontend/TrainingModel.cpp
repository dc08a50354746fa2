// The model side of a training run: see TrainingModel.h.
#include "frontend/TrainingModel.h"

#include "frontend/Importer.h"
#include "frontend/OnnxTensor.h"

#include "onnx/checker.h"
#include "onnx/onnx_pb.h"
#include "onnx/shape_inference/implementation.h"

#include <map>
#include <set>

namespace lathe {

using namespace lathe::train;

TrainingModel::TrainingModel() = default;
TrainingModel::~TrainingModel() = default;
TrainingModel::TrainingModel(TrainingModel &&) = default;
TrainingModel &TrainingModel::operator=(TrainingModel &&) = default;

namespace {

std::string firstLine(const std::string &s) {
  return s.substr(0, s.find('\n'));
}

std::string joinNames(const std::vector<std::string> &names) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < 8; ++i)
    out += (i ? ", " : "") + names[i];
  if (names.size() > 8)
    out += ", ...";
  return out;
}

bool anyMatch(const google::protobuf::RepeatedPtrField<std::string> &patterns,
              const std::string &name) {
  for (const std::string &p : patterns)
    if (globMatch(p, name))
      return true;
  return false;
}

std::vector<int64_t> declaredShape(const onnx::ValueInfoProto &vi) {
  std::vector<int64_t> shape;
  for (const auto &d : vi.type().tensor_type().shape().dim())
    shape.push_back(d.has_dim_value() ? d.dim_value() : -1);
  return shape;
}

void storeTensor(const Tensor &t, onnx::TensorProto &proto) {
  std::string name = proto.name();
  proto.Clear();
  proto.set_name(name);
  proto.set_data_type(static_cast<int32_t>(t.dtype));
  for (int64_t d : t.shape)
    proto.add_dims(d);
  proto.set_raw_data(std::string(t.data.begin(), t.data.end()));
}

/// PyTorch's exporter merges initializers of equal value (BatchNorm
/// weights of ones, biases and running means of zeros, across layers of one
/// width) into one and reads the others through Identity nodes named as the
/// parameters were. Trained, each is a parameter or running statistic of
/// its own: every Identity of an initializer becomes an initializer again,
/// a copy under the Identity's output name.
void splitSharedInitializers(onnx::GraphProto &graph) {
  std::map<std::string, int> inits;
  for (int i = 0; i < graph.initializer_size(); ++i)
    inits[graph.initializer(i).name()] = i;
  std::set<std::string> outputs;
  for (const auto &o : graph.output())
    outputs.insert(o.name());
  std::vector<onnx::TensorProto> copies;
  auto *nodes = graph.mutable_node();
  int kept = 0;
  for (int i = 0; i < nodes->size(); ++i) {
    const onnx::NodeProto &node = nodes->Get(i);
    auto it = node.op_type() == "Identity" && node.input_size() == 1 &&
                      node.output_size() == 1 && node.domain().empty() &&
                      !outputs.count(node.output(0)) &&
                      !inits.count(node.output(0))
                  ? inits.find(node.input(0))
                  : inits.end();
    if (it == inits.end()) {
      if (kept != i)
        nodes->SwapElements(kept, i);
      ++kept;
      continue;
    }
    copies.push_back(graph.initializer(it->second));
    copies.back().set_name(node.output(0));
  }
  while (nodes->size() > kept)
    nodes->RemoveLast();
  for (auto &t : copies)
    *graph.add_initializer() = std::move(t);
}

} // namespace

bool TrainingModel::load(const TrainingSpec &spec, const std::string &specPath,
                         std::string &error) {
  path_ = spec.model().path();
  model_ = std::make_unique<onnx::ModelProto>();
  auto modelError = [&](const std::string &message) {
    error = path_ + ": " + message;
    return false;
  };
  auto specError = [&](const std::string &field, const std::string &message) {
    error = specPath + ": " + field + ": " + message;
    return false;
  };
  if (!loadOnnxModel(path_, *model_, error))
    return specError("model.path", path_ + ": " + error);
  splitSharedInitializers(*model_->mutable_graph());
  const onnx::GraphProto &graph = model_->graph();

  std::set<std::string> initNames;
  for (const auto &init : graph.initializer())
    initNames.insert(init.name());
  // Running statistics are state the step updates, not gradient-trained.
  std::set<std::string> bnStats;
  std::set<std::string> produced;
  // Float initializers that configure an op rather than weigh its input
  // (a dropout ratio, clip bounds, a pad value, resize scales) are constants,
  // not parameters: nothing trains or exports them.
  std::set<std::string> settings;
  static const std::map<std::string, std::vector<int>> settingInputs = {
      {"Dropout", {1}},   {"Clip", {1, 2}},  {"Pad", {2}},
      {"Resize", {1, 2}}, {"Upsample", {1}},
  };
  for (const auto &node : graph.node()) {
    if (node.op_type() == "BatchNormalization")
      for (int i = 3; i < node.input_size() && i < 5; ++i)
        bnStats.insert(node.input(i));
    if (auto it = settingInputs.find(node.op_type()); it != settingInputs.end())
      for (int i : it->second)
        if (i < node.input_size())
          settings.insert(node.input(i));
    for (const std::string &out : node.output())
      produced.insert(out);
  }

  // The data input: named, or the one graph input no init rule claims (or
  // the only graph input at all, which a broad glob such as "*" may have
  // caught: the data input is never a parameter).
  std::vector<std::string> freeInputs, allInputs;
  for (const auto &in : graph.input()) {
    if (initNames.count(in.name()))
      continue;
    allInputs.push_back(in.name());
    bool claimed = false;
    for (const Init &rule : spec.init())
      claimed |= anyMatch(rule.parameters(), in.name());
    if (spec.model().has_input() ? in.name() == spec.model().input() : !claimed)
      freeInputs.push_back(in.name());
  }
  if (!spec.model().has_input() && freeInputs.empty() && allInputs.size() == 1)
    freeInputs = allInputs;
  if (spec.model().has_input()) {
    if (freeInputs.empty())
      return specError("model.input", "'" + spec.model().input() +
                                          "' is not an input of " + path_);
  } else if (freeInputs.size() != 1) {
    return specError("model.input",
                     freeInputs.empty()
                         ? path_ + " has no input left for the data"
                         : path_ + " has " + std::to_string(freeInputs.size()) +
                               " inputs (" + joinNames(freeInputs) +
                               "): name the one fed with data");
  }
  input_ = freeInputs[0];
  for (const auto &in : graph.input()) {
    if (in.name() != input_)
      continue;
    if (!in.type().has_tensor_type())
      return modelError("input '" + input_ + "' is not a tensor");
    inputDType_ = static_cast<DType>(in.type().tensor_type().elem_type());
    inputShape_ = declaredShape(in);
  }

  // The trained value.
  std::vector<std::string> outputs;
  for (const auto &out : graph.output())
    outputs.push_back(out.name());
  if (spec.model().has_output()) {
    output_ = spec.model().output();
    if (!produced.count(output_))
      return specError("model.output",
                       "'" + output_ + "' is not a value computed by " + path_ +
                           " (outputs: " + joinNames(outputs) + ")");
  } else {
    if (outputs.size() != 1)
      return specError("model.output", path_ + " has " +
                                           std::to_string(outputs.size()) +
                                           " outputs (" + joinNames(outputs) +
                                           "): name the one to train");
    output_ = outputs[0];
  }

  // Parameters: float initializers, then the graph inputs init rules claim.
  params_.clear();
  std::string dir = directoryOf(path_);
  for (const auto &init : graph.initializer()) {
    if (init.data_type() != onnx::TensorProto::FLOAT ||
        settings.count(init.name()))
      continue;
    TrainingParameter p;
    p.name = init.name();
    if (!tensorFromProto(init, dir, p.value, error))
      return modelError(error);
    params_.push_back(std::move(p));
  }
  for (const auto &in : graph.input()) {
    if (initNames.count(in.name()) || in.name() == input_)
      continue;
    const auto &tt = in.type().tensor_type();
    std::vector<int64_t> shape = declaredShape(in);
    bool known = in.type().has_tensor_type() && tt.has_shape();
    for (int64_t d : shape)
      known &= d >= 0;
    if (!known || tt.elem_type() != onnx::TensorProto::FLOAT)
      return modelError("input '" + in.name() +
                        "' is initialised as a parameter but is not a float "
                        "tensor of static shape");
    TrainingParameter p;
    p.name = in.name();
    p.fromInitializer = false;
    p.value = Tensor(DType::F32, shape);
    params_.push_back(std::move(p));
  }

  auto select = [&](const google::protobuf::RepeatedPtrField<std::string> &pats,
                    const std::string &field, auto &&apply) {
    for (int i = 0; i < pats.size(); ++i) {
      bool hit = false;
      for (TrainingParameter &p : params_)
        if (globMatch(pats.Get(i), p.name)) {
          hit = true;
          if (!apply(p, pats.Get(i)))
            return false;
        }
      if (!hit)
        return specError(field, "'" + pats.Get(i) +
                                    "' matches no parameter of " + path_);
    }
    return true;
  };

  const Model &m = spec.model();
  if (m.trainable_size() == 0) {
    for (TrainingParameter &p : params_)
      p.trainable = !bnStats.count(p.name);
  } else if (!select(m.trainable(), "model.trainable",
                     [&](TrainingParameter &p, const std::string &pat) {
                       if (!bnStats.count(p.name)) {
                         p.trainable = true;
                         return true;
                       }
                       // A glob may sweep statistics along; a name may not.
                       if (isGlob(pat))
                         return true;
                       return specError("model.trainable",
                                        "'" + p.name +
                                            "' is a BatchNormalization running "
                                            "statistic, not trainable");
                     })) {
    return false;
  }
  if (!select(m.frozen(), "model.frozen",
              [](TrainingParameter &p, const std::string &) {
                p.trainable = false;
                return true;
              }))
    return false;
  bool anyTrainable = false;
  for (const TrainingParameter &p : params_)
    anyTrainable |= p.trainable;
  if (!anyTrainable)
    return specError(m.trainable_size() ? "model.trainable" : "model.frozen",
                     "no parameter of " + path_ + " is left to train");

  if (spec.loss().has_regularization()) {
    const Regularization &r = spec.loss().regularization();
    if (r.parameters_size() == 0) {
      for (TrainingParameter &p : params_)
        p.regularized = p.trainable && p.value.shape.size() >= 2;
    } else if (!select(r.parameters(), "loss.regularization.parameters",
                       [&](TrainingParameter &p, const std::string &pat) {
                         if (p.trainable) {
                           p.regularized = true;
                           return true;
                         }
                         return isGlob(pat) ||
                                specError("loss.regularization.parameters",
                                          "'" + p.name + "' is not trainable");
                       })) {
      return false;
    }
  }

  for (int r = 0; r < spec.init_size(); ++r) {
    const Init &rule = spec.init(r);
    std::string field = "init[" + std::to_string(r) + "].parameters";
    if (!select(rule.parameters(), field,
                [&](TrainingParameter &p, const std::string &) {
                  if (p.initRule < 0)
                    p.initRule = r;
                  return true;
                }))
      return false;
  }
  for (const TrainingParameter &p : params_)
    if (!p.fromInitializer && p.initRule < 0)
      return specError("init", "'" + p.name + "' has no value in " + path_ +
                                   " and no init rule");
  return true;
}

bool TrainingModel::inferOutputShape(const std::vector<int64_t> &inputShape,
                                     std::vector<int64_t> &shape,
                                     std::string &error) const {
  onnx::ModelProto model = *model_;
  onnx::GraphProto &graph = *model.mutable_graph();
  for (auto &in : *graph.mutable_input()) {
    if (in.name() != input_)
      continue;
    auto *dims = in.mutable_type()->mutable_tensor_type()->mutable_shape();
    dims->clear_dim();
    for (int64_t d : inputShape)
      dims->add_dim()->set_dim_value(d);
  }
  try {
    onnx::shape_inference::InferShapes(model);
  } catch (const std::exception &e) {
    error = path_ + ": shape inference failed: " + firstLine(e.what());
    return false;
  }
  const onnx::ValueInfoProto *found = nullptr;
  for (const auto &vi : graph.output())
    if (vi.name() == output_)
      found = &vi;
  for (const auto &vi : graph.value_info())
    if (vi.name() == output_)
      found = &vi;
  bool known = found && found->type().tensor_type().has_shape();
  if (known)
    shape = declaredShape(*found);
  for (int64_t d : shape)
    known &= d >= 0;
  if (!known) {
    error = path_ + ": the shape of '" + output_ +
            "' is not known after shape inference";
    return false;
  }
  return true;
}

bool TrainingModel::exportWith(
    const std::vector<std::pair<std::string, Tensor>> &values,
    std::string &bytes, std::string &error) const {
  onnx::ModelProto model = *model_;
  onnx::GraphProto &graph = *model.mutable_graph();
  std::map<std::string, const TrainingParameter *> byName;
  for (const TrainingParameter &p : params_)
    byName[p.name] = &p;
  for (const auto &[name, value] : values) {
    auto it = byName.find(name);
    if (it == byName.end()) {
      error = path_ + ": export: '" + name + "' is not a parameter";
      return false;
    }
    if (value.dtype != it->second->value.dtype ||
        value.shape != it->second->value.shape) {
      error = path_ + ": export: '" + name + "' is " + dtypeName(value.dtype) +
              "[" + shapeToString(value.shape) + "], the model's " +
              dtypeName(it->second->value.dtype) + "[" +
              shapeToString(it->second->value.shape) + "]";
      return false;
    }
    onnx::TensorProto *slot = nullptr;
    for (auto &init : *graph.mutable_initializer())
      if (init.name() == name)
        slot = &init;
    if (!slot) {
      // A parameter the model took as an input now ships with the model.
      slot = graph.add_initializer();
      slot->set_name(name);
      auto *inputs = graph.mutable_input();
      for (int i = 0; i < inputs->size(); ++i)
        if (inputs->Get(i).name() == name) {
          inputs->DeleteSubrange(i, 1);
          break;
        }
    }
    storeTensor(value, *slot);
  }
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception &e) {
    error = path_ + ": export: the written model fails the ONNX checker: " +
            firstLine(e.what());
    return false;
  }
  if (!model.SerializeToString(&bytes)) {
    error = path_ + ": export: cannot serialize the model";
    return false;
  }
  return true;
}

} // namespace lathe
