// lathe train --check-gradients: the compiled gradients of the training loss
// against central finite differences, both in float64. The loss graph is the
// one the training step compiles (TrainingModel::buildStepGraph), widened to
// float64 and differentiated by the same lathe-autodiff; the finite
// differences evaluate that same compiled loss, so the check isolates the
// backward graph (the VJPs), not float32 rounding.
#include "tools/lib/GradientCheck.h"

#include "frontend/TrainingModel.h"
#include "frontend/TrainingSpec.pb.h"
#include "tools/lib/Compiler.h"

#include "onnx/onnx_pb.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace lathe {

namespace {

Tensor toF64(const Tensor &t) {
  if (t.dtype != DType::F32)
    return t;
  Tensor out(DType::F64, t.shape);
  for (int64_t i = 0; i < t.numel(); ++i)
    out.as<double>()[i] = t.as<float>()[i];
  return out;
}

} // namespace

bool checkTrainingGradients(const TrainingSetup &setup,
                            const TrainingData &data,
                            const GradientCheckOptions &options, FILE *out,
                            bool &passed, std::string &error) {
  const TrainingModel &model = *setup.model;
  const train::TrainingSpec &spec = *setup.spec;
  int64_t n = std::min<int64_t>(options.samples, data.train.size());
  StepGraphOptions graph;
  graph.inputShape = setup.batchInputShape;
  graph.inputShape[0] = n;
  graph.labelShape = setup.batchLabelShape;
  graph.labelShape[0] = n;
  graph.labelDType = setup.labelDType;
  if (!model.inferOutputShape(graph.inputShape, graph.outputShape, error))
    return false;
  onnx::ModelProto proto;
  if (!model.buildStepGraph(spec, graph, proto, error) ||
      !widenToFloat64(proto, model.path(), error))
    return false;

  GradientRequest request;
  request.output = kLossName;
  std::vector<size_t> trainable; // indices into model.parameters()
  for (size_t i = 0; i < model.parameters().size(); ++i)
    if (model.parameters()[i].trainable) {
      request.wrt.push_back(model.parameters()[i].name);
      trainable.push_back(i);
    }
  CompileRequest compile;
  compile.modelPath = model.path();
  compile.import.model = &proto;
  compile.gradients = request;
  // The training form, as the step computes it: batch statistics, and
  // dropout masks fixed by (seed, step 0, op).
  compile.trainingModeSeed = setup.seed;
  std::unique_ptr<Session> session = SessionFactory::create(compile, &error);
  if (!session)
    return false;

  // Inputs by name: the first n training samples, the parameters in f64.
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i)
    order[i] = i;
  Batch batch;
  gatherBatch(data.train, order, 0, n, batch);
  std::vector<Tensor> inputs;
  std::vector<int64_t> paramInput(model.parameters().size(), -1);
  for (const TensorInfo &info : session->inputs()) {
    if (info.name == model.inputName()) {
      inputs.push_back(toF64(batch.inputs));
    } else if (info.name == kLabelsName) {
      inputs.push_back(toF64(batch.labels));
    } else if (info.name == "lathe.step") {
      inputs.emplace_back(DType::I64, std::vector<int64_t>{});
    } else {
      bool found = false;
      for (size_t p = 0; p < model.parameters().size(); ++p)
        if (model.parameters()[p].name == info.name) {
          paramInput[p] = static_cast<int64_t>(inputs.size());
          inputs.push_back(toF64(model.parameters()[p].value));
          found = true;
        }
      if (!found) {
        error = model.path() + ": gradient check: unexpected input '" +
                info.name + "'";
        return false;
      }
    }
  }
  std::vector<Tensor> outputs;
  if (!session->run(inputs, outputs, &error))
    return false;
  auto loss = [&](const std::vector<Tensor> &in, double &value) {
    std::vector<Tensor> o;
    if (!session->run(in, o, &error))
      return false;
    value = o[0].as<double>()[0];
    return true;
  };

  std::mt19937_64 rng(setup.seed);
  passed = true;
  double worstAll = 0;
  std::fprintf(out,
               "gradient check: loss %.10g on %lld samples, float64, central "
               "differences\n",
               outputs[0].as<double>()[0], static_cast<long long>(n));
  std::fprintf(out, "  %-32s %9s %14s\n", "parameter", "elements",
               "max rel. error");
  for (size_t k = 0; k < trainable.size(); ++k) {
    const TrainingParameter &param = model.parameters()[trainable[k]];
    int64_t slot = paramInput[trainable[k]];
    size_t gradIndex = 0;
    for (size_t o = 0; o < session->outputs().size(); ++o)
      if (session->outputs()[o].name == "grad_" + param.name)
        gradIndex = o;
    const Tensor &grad = outputs[gradIndex];
    int64_t count =
        std::min<int64_t>(options.elementsPerParameter, grad.numel());
    std::vector<int64_t> picks(grad.numel());
    for (int64_t i = 0; i < grad.numel(); ++i)
      picks[i] = i;
    std::shuffle(picks.begin(), picks.end(), rng);
    picks.resize(count);
    double worst = 0;
    for (int64_t i : picks) {
      std::vector<Tensor> plus = inputs, minus = inputs;
      double x = inputs[slot].as<double>()[i];
      double h = 1e-6 * std::max(1.0, std::fabs(x));
      plus[slot].as<double>()[i] = x + h;
      minus[slot].as<double>()[i] = x - h;
      double lp = 0, lm = 0;
      if (!loss(plus, lp) || !loss(minus, lm))
        return false;
      double numeric = (lp - lm) / (2 * h);
      double analytic = grad.as<double>()[i];
      double rel = std::fabs(analytic - numeric) /
                   std::max({std::fabs(analytic), std::fabs(numeric), 1e-2});
      worst = std::max(worst, rel);
    }
    worstAll = std::max(worstAll, worst);
    bool ok = worst < options.tolerance;
    passed &= ok;
    std::fprintf(out, "  %-32s %9lld %14.3e%s\n", param.name.c_str(),
                 static_cast<long long>(count), worst, ok ? "" : "  MISMATCH");
  }
  std::fprintf(out, "%s: worst relative error %.3e (tolerance %.0e)\n",
               passed ? "ok" : "FAILED", worstAll, options.tolerance);
  return true;
}

} // namespace lathe
