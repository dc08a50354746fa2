// The forward half of a training step as an ONNX graph: the model with its
// parameters turned into graph inputs (so the step can differentiate and
// update them), followed by the loss, the regularisation and the metrics.
// Building it in ONNX lets the ordinary importer type and check every added
// node; the backward graph and the optimizer are added later, on the lathe
// dialect (passes lathe-autodiff and lathe-insert-optimizer).
//
// Each loss is written as its textbook formula in plain ONNX ops whose
// gradients lathe knows, with PyTorch's conventions where ONNX has none:
// mean over the batch, `log` clamped at -100 in binary cross-entropy,
// MultiMarginLoss's division by the number of classes in the hinge losses.
// Only ops whose signature is the same in every opset lathe accepts are used,
// except ReduceSum, whose axes moved from an attribute to an input in opset
// 13 (reduceSum below writes either form).
#include "frontend/OnnxTensor.h"
#include "frontend/TrainingModel.h"

#include "onnx/onnx_pb.h"

namespace lathe {

using namespace lathe::train;

namespace {

/// Appends nodes (named "loss/<what>") and constants to a graph.
class GraphWriter {
public:
  GraphWriter(onnx::GraphProto &graph, int64_t opset)
      : graph_(graph), opset_(opset) {}

  std::string node(const std::string &op, std::vector<std::string> inputs,
                   const std::string &what = "") {
    onnx::NodeProto *n = graph_.add_node();
    n->set_op_type(op);
    std::string name =
        "loss/" + (what.empty() ? op : what) + "#" + std::to_string(count_++);
    n->set_name(name);
    for (const std::string &in : inputs)
      n->add_input(in);
    n->add_output(name);
    last_ = n;
    return name;
  }
  /// Attributes of the node just added.
  GraphWriter &attr(const std::string &name, int64_t v) {
    auto *a = last_->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
    return *this;
  }
  GraphWriter &attr(const std::string &name, const std::vector<int64_t> &v) {
    auto *a = last_->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v)
      a->add_ints(x);
    return *this;
  }

  std::string floatScalar(double v) {
    return constant(onnx::TensorProto::FLOAT, {}, [&](onnx::TensorProto &t) {
      t.add_float_data(static_cast<float>(v));
    });
  }
  std::string int64s(const std::vector<int64_t> &v) {
    return constant(onnx::TensorProto::INT64, {static_cast<int64_t>(v.size())},
                    [&](onnx::TensorProto &t) {
                      for (int64_t x : v)
                        t.add_int64_data(x);
                    });
  }

  /// ReduceSum over `axes` (all when empty).
  std::string reduceSum(const std::string &x, const std::vector<int64_t> &axes,
                        bool keepdims) {
    if (axes.empty() || opset_ < 13) {
      std::string out = node("ReduceSum", {x});
      attr("keepdims", keepdims ? 1 : 0);
      if (!axes.empty())
        attr("axes", axes);
      return out;
    }
    std::string out = node("ReduceSum", {x, int64s(axes)});
    attr("keepdims", keepdims ? 1 : 0);
    return out;
  }
  std::string reduceMean(const std::string &x, const std::vector<int64_t> &axes,
                         bool keepdims) {
    std::string out = node("ReduceMean", {x});
    attr("keepdims", keepdims ? 1 : 0);
    if (!axes.empty())
      attr("axes", axes);
    return out;
  }
  std::string cast(const std::string &x, int32_t to) {
    std::string out = node("Cast", {x});
    attr("to", static_cast<int64_t>(to));
    return out;
  }

  void output(const std::string &value, const std::string &name, int32_t type,
              const std::vector<int64_t> &shape) {
    onnx::NodeProto *n = graph_.add_node();
    n->set_op_type("Identity");
    n->set_name(name);
    n->add_input(value);
    n->add_output(name);
    auto *o = graph_.add_output();
    o->set_name(name);
    auto *tt = o->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(type);
    auto *dims = tt->mutable_shape();
    for (int64_t d : shape)
      dims->add_dim()->set_dim_value(d);
  }

private:
  template <typename Fill>
  std::string constant(int32_t type, const std::vector<int64_t> &dims,
                       Fill fill) {
    onnx::TensorProto *t = graph_.add_initializer();
    t->set_name("loss/const#" + std::to_string(count_++));
    t->set_data_type(type);
    for (int64_t d : dims)
      t->add_dims(d);
    fill(*t);
    return t->name();
  }

  onnx::GraphProto &graph_;
  int64_t opset_;
  int count_ = 0;
  onnx::NodeProto *last_ = nullptr;
};

bool isClassification(Loss::Kind k) {
  return k == Loss::softmax_cross_entropy || k == Loss::nll ||
         k == Loss::hinge || k == Loss::squared_hinge;
}

} // namespace

const char *const kLabelsName = "lathe.labels";
const char *const kLossName = "lathe.loss";
const char *const kCorrectName = "lathe.correct";
const char *const kSampleLossName = "lathe.sample_loss";
const char *const kSampleCorrectName = "lathe.sample_correct";

bool TrainingModel::buildStepGraph(const TrainingSpec &spec,
                                   const StepGraphOptions &options,
                                   onnx::ModelProto &out,
                                   std::string &error) const {
  out = *model_;
  onnx::GraphProto &graph = *out.mutable_graph();
  int64_t opset = 0;
  for (const auto &imp : out.opset_import())
    if (imp.domain().empty() || imp.domain() == "ai.onnx")
      opset = imp.version();
  const std::vector<int64_t> &outShape = options.outputShape;
  int64_t batch = options.inputShape.empty() ? 0 : options.inputShape[0];
  Loss::Kind kind = spec.loss().kind();
  auto fail = [&](const std::string &message) {
    error = path_ + ": " + message;
    return false;
  };
  if (outShape.empty() || outShape[0] != batch)
    return fail("the trained value '" + output_ + "' has shape [" +
                shapeToString(outShape) +
                "]: its first dimension must be the batch");
  if (isClassification(kind) && outShape.size() != 2)
    return fail("loss " + Loss::Kind_Name(kind) + " needs '" + output_ +
                "' of shape [batch, classes], not [" + shapeToString(outShape) +
                "]");

  // Every parameter becomes a graph input, in parameters() order.
  std::map<std::string, const TrainingParameter *> params;
  for (const TrainingParameter &p : params_)
    params[p.name] = &p;
  auto *inits = graph.mutable_initializer();
  for (int i = inits->size() - 1; i >= 0; --i)
    if (params.count(inits->Get(i).name()))
      inits->DeleteSubrange(i, 1);
  auto *inputs = graph.mutable_input();
  for (int i = inputs->size() - 1; i >= 0; --i)
    if (params.count(inputs->Get(i).name()) || inputs->Get(i).name() == input_)
      inputs->DeleteSubrange(i, 1);
  auto addInput = [&](const std::string &name, int32_t type,
                      const std::vector<int64_t> &shape) {
    auto *in = graph.add_input();
    in->set_name(name);
    auto *tt = in->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(type);
    auto *dims = tt->mutable_shape();
    for (int64_t d : shape)
      dims->add_dim()->set_dim_value(d);
  };
  addInput(input_, static_cast<int32_t>(inputDType_), options.inputShape);
  addInput(kLabelsName, static_cast<int32_t>(options.labelDType),
           options.labelShape);
  for (const TrainingParameter &p : params_)
    addInput(p.name, onnx::TensorProto::FLOAT, p.value.shape);
  graph.clear_output();

  GraphWriter w(graph, opset);
  const std::string z = output_, labels = kLabelsName;
  const int32_t f32 = onnx::TensorProto::FLOAT;
  std::vector<int64_t> sampleAxes; // every axis but the batch
  for (size_t d = 1; d < outShape.size(); ++d)
    sampleAxes.push_back(static_cast<int64_t>(d));
  std::string sampleLoss, sampleCorrect;

  if (isClassification(kind)) {
    if (options.labelDType != DType::I64 ||
        options.labelShape != std::vector<int64_t>{batch})
      return fail("loss " + Loss::Kind_Name(kind) +
                  " needs int64 labels of shape [batch]");
    int64_t classes = outShape[1];
    std::vector<int64_t> range(classes);
    for (int64_t c = 0; c < classes; ++c)
      range[c] = c;
    std::string column = w.node("Reshape", {labels, w.int64s({batch, 1})});
    std::string oneHot =
        w.cast(w.node("Equal", {column, w.int64s(range)}, "OneHot"), f32);
    std::string picked; // [N, 1]: the output at the label
    switch (kind) {
    case Loss::softmax_cross_entropy: {
      std::string logp = w.node("LogSoftmax", {z});
      w.attr("axis", 1);
      picked = w.reduceSum(w.node("Mul", {oneHot, logp}), {1}, true);
      sampleLoss = w.node("Neg", {picked});
      break;
    }
    case Loss::nll:
      picked = w.reduceSum(w.node("Mul", {oneHot, z}), {1}, true);
      sampleLoss = w.node("Neg", {picked});
      break;
    default: { // hinge, squared_hinge: sum_{j != y} max(0, 1 - z_y + z_j) / C
      picked = w.reduceSum(w.node("Mul", {oneHot, z}), {1}, true);
      std::string margin = w.node(
          "Relu",
          {w.node("Add", {w.node("Sub", {w.floatScalar(1.0), picked}), z})});
      if (kind == Loss::squared_hinge)
        margin = w.node("Mul", {margin, margin});
      std::string others = w.node("Sub", {w.floatScalar(1.0), oneHot});
      sampleLoss = w.node("Div", {w.node("Mul", {margin, others}),
                                  w.floatScalar(static_cast<double>(classes))});
      sampleLoss = w.reduceSum(sampleLoss, {1}, true);
      break;
    }
    }
    sampleLoss = w.node("Reshape", {sampleLoss, w.int64s({batch})});
    std::string predicted = w.node("ArgMax", {z});
    w.attr("axis", 1).attr("keepdims", 0);
    sampleCorrect = w.cast(w.node("Equal", {predicted, labels}), f32);
  } else {
    if (options.labelDType != DType::F32 || options.labelShape != outShape)
      return fail("loss " + Loss::Kind_Name(kind) +
                  " needs float labels of the shape of '" + output_ + "' [" +
                  shapeToString(outShape) + "]");
    std::string perElement;
    switch (kind) {
    case Loss::bce: {
      // -(y log p + (1 - y) log(1 - p)), each log clamped at -100.
      auto clampedLog = [&](const std::string &v) {
        return w.node("Max", {w.node("Log", {v}), w.floatScalar(-100.0)});
      };
      std::string oneMinusY = w.node("Sub", {w.floatScalar(1.0), labels});
      std::string oneMinusP = w.node("Sub", {w.floatScalar(1.0), z});
      perElement = w.node(
          "Neg",
          {w.node("Add", {w.node("Mul", {labels, clampedLog(z)}),
                          w.node("Mul", {oneMinusY, clampedLog(oneMinusP)})})});
      break;
    }
    case Loss::bce_with_logits:
      // max(x, 0) - x y + log(1 + exp(-|x|)): no overflow for any x.
      perElement = w.node(
          "Add",
          {w.node("Sub", {w.node("Relu", {z}), w.node("Mul", {z, labels})}),
           w.node("Softplus", {w.node("Neg", {w.node("Abs", {z})})})});
      break;
    case Loss::mse: {
      std::string d = w.node("Sub", {z, labels});
      perElement = w.node("Mul", {d, d});
      break;
    }
    case Loss::l1:
      perElement = w.node("Abs", {w.node("Sub", {z, labels})});
      break;
    case Loss::huber: {
      // 0.5 d^2 where |d| < delta, delta (|d| - delta / 2) elsewhere.
      double delta = spec.loss().delta();
      std::string d = w.node("Sub", {z, labels});
      std::string a = w.node("Abs", {d});
      std::string quad =
          w.node("Mul", {w.floatScalar(0.5), w.node("Mul", {d, d})});
      std::string lin =
          w.node("Mul", {w.floatScalar(delta),
                         w.node("Sub", {a, w.floatScalar(delta / 2)})});
      perElement = w.node(
          "Where", {w.node("Less", {a, w.floatScalar(delta)}), quad, lin});
      break;
    }
    default:
      return fail("loss kind " + Loss::Kind_Name(kind) + " is not supported");
    }
    sampleLoss = sampleAxes.empty()
                     ? perElement
                     : w.reduceMean(perElement, sampleAxes, false);
    // Accuracy for a binary output of one value per sample.
    int64_t perSample = 1;
    for (size_t d = 1; d < outShape.size(); ++d)
      perSample *= outShape[d];
    if ((kind == Loss::bce || kind == Loss::bce_with_logits) &&
        perSample == 1) {
      std::string threshold = w.floatScalar(kind == Loss::bce ? 0.5 : 0.0);
      std::string yes = w.node("Not", {w.node("Less", {z, threshold})});
      std::string truth =
          w.node("Not", {w.node("Less", {labels, w.floatScalar(0.5)})});
      std::string hit = w.cast(w.node("Equal", {yes, truth}), f32);
      sampleCorrect = w.node("Reshape", {hit, w.int64s({batch})});
    }
  }

  if (!options.training) {
    w.output(sampleLoss, kSampleLossName, f32, {batch});
    if (!sampleCorrect.empty())
      w.output(sampleCorrect, kSampleCorrectName, f32, {batch});
    return true;
  }
  std::string loss = w.reduceMean(sampleLoss, {}, false);
  if (spec.loss().has_regularization()) {
    const Regularization &r = spec.loss().regularization();
    for (const TrainingParameter &p : params_) {
      if (!p.regularized)
        continue;
      if (r.has_l1_coefficient())
        loss = w.node("Add",
                      {loss, w.node("Mul", {w.floatScalar(r.l1_coefficient()),
                                            w.reduceSum(w.node("Abs", {p.name}),
                                                        {}, false)})});
      if (r.has_l2_coefficient())
        loss = w.node(
            "Add",
            {loss, w.node("Mul", {w.floatScalar(r.l2_coefficient() / 2),
                                  w.reduceSum(w.node("Mul", {p.name, p.name}),
                                              {}, false)})});
    }
  }
  w.output(loss, kLossName, f32, {});
  if (!sampleCorrect.empty())
    w.output(w.reduceSum(sampleCorrect, {}, false), kCorrectName, f32, {});
  return true;
}

} // namespace lathe

namespace lathe {

namespace {

/// Rewrites a FLOAT tensor proto as DOUBLE (other types untouched).
bool widenTensor(onnx::TensorProto &proto, const std::string &dir,
                 std::string &error) {
  if (proto.data_type() != onnx::TensorProto::FLOAT)
    return true;
  Tensor t;
  if (!tensorFromProto(proto, dir, t, error))
    return false;
  std::string name = proto.name();
  proto.Clear();
  proto.set_name(name);
  proto.set_data_type(onnx::TensorProto::DOUBLE);
  for (int64_t d : t.shape)
    proto.add_dims(d);
  for (int64_t i = 0; i < t.numel(); ++i)
    proto.add_double_data(t.as<float>()[i]);
  return true;
}

void widenType(onnx::TypeProto &type) {
  if (type.has_tensor_type() &&
      type.tensor_type().elem_type() == onnx::TensorProto::FLOAT)
    type.mutable_tensor_type()->set_elem_type(onnx::TensorProto::DOUBLE);
}

} // namespace

bool widenToFloat64(onnx::ModelProto &model, const std::string &path,
                    std::string &error) {
  onnx::GraphProto &graph = *model.mutable_graph();
  std::string dir = directoryOf(path);
  for (auto &vi : *graph.mutable_input())
    widenType(*vi.mutable_type());
  for (auto &vi : *graph.mutable_output())
    widenType(*vi.mutable_type());
  graph.clear_value_info();
  for (auto &init : *graph.mutable_initializer())
    if (!widenTensor(init, dir, error)) {
      error = path + ": " + error;
      return false;
    }
  for (auto &node : *graph.mutable_node()) {
    if (node.attribute_size() == 0)
      continue;
    for (auto &a : *node.mutable_attribute()) {
      if (a.has_g() || a.graphs_size()) {
        error = path + ": node '" + node.name() + "' (" + node.op_type() +
                "): subgraphs cannot be converted to float64";
        return false;
      }
      if (a.has_t() && !widenTensor(*a.mutable_t(), dir, error)) {
        error = path + ": node '" + node.name() + "': " + error;
        return false;
      }
      // Cast (and the random generators' dtype) naming float32.
      if ((a.name() == "to" || a.name() == "dtype") &&
          a.type() == onnx::AttributeProto::INT &&
          a.i() == onnx::TensorProto::FLOAT)
        a.set_i(onnx::TensorProto::DOUBLE);
    }
  }
  return true;
}

} // namespace lathe
