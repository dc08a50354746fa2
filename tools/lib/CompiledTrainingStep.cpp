// The compiled training step: one JIT-compiled function
//   (data, labels, parameters, optimizer state, learning rate, step)
//     -> (loss, correct, new parameters, new state)
// built from the model in three stages: the forward graph with the loss as
// ONNX (TrainingModel::buildStepGraph), then on the lathe dialect the
// training form of BatchNorm and Dropout (lathe-training-mode), the
// backward graph (lathe-autodiff) and the update (lathe-insert-optimizer);
// then the ordinary pipeline, so forward, backward and update share one
// arena and are fused together. A second function, compiled from the same
// model in inference form, evaluates; it reads the same parameter buffers.
//
// State is updated "in place" with two buffers per updated tensor: the step
// reads one and writes the other, and the roles swap after the step. No
// kernel can then read a parameter the same step has already overwritten,
// however the compiler orders or fuses the work, at the price of a second
// copy of the parameters and optimizer state in memory (no copies in time).
#include "frontend/TrainingModel.h"
#include "passes/Passes.h"
#include "tools/lib/Compiler.h"
#include "tools/lib/Training.h"

#include "frontend/TrainingSpec.pb.h"
#include "onnx/onnx_pb.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"

#include <map>

namespace lathe {

using namespace lathe::train;

namespace {

/// A tensor of the step's state: a parameter, BatchNorm statistic or
/// optimizer slot. `updated` ones have two buffers that take turns.
struct Slot {
  std::string name;
  Tensor buffers[2];
  int current = 0;
  bool updated = false;
  bool optimizer = false;
  Tensor &value() { return buffers[current]; }
  const Tensor &value() const { return buffers[current]; }
};

/// Where a function input comes from or an output goes.
struct Binding {
  enum Kind {
    Data,
    Labels,
    LearningRate,
    StepIndex,
    State,
    Loss,
    Correct,
    SampleLoss,
    SampleCorrect,
    Gradient,
    Scratch
  };
  Kind kind;
  size_t slot = 0; // State
};

std::string optimizerKindName(OptimizerKind::Kind k) {
  return OptimizerKind::Kind_Name(k);
}

/// Index of the argument (or result) of `fn` whose lathe.name is `name`,
/// or -1.
int64_t indexNamed(mlir::func::FuncOp fn, llvm::StringRef name, bool results) {
  unsigned n = results ? fn.getNumResults() : fn.getNumArguments();
  for (unsigned i = 0; i < n; ++i) {
    auto a = results ? fn.getResultAttrOfType<mlir::StringAttr>(i, "lathe.name")
                     : fn.getArgAttrOfType<mlir::StringAttr>(i, "lathe.name");
    if (a && a.getValue() == name)
      return i;
  }
  return -1;
}

class CompiledStep : public TrainingStep {
public:
  bool build(const TrainingSetup &setup, std::string &error) {
    setup_ = setup;
    const TrainingSpec &spec = *setup.spec;
    const TrainingModel &model = *setup.model;
    for (const TrainingParameter &p : model.parameters()) {
      Slot s;
      s.name = p.name;
      s.buffers[0] = p.value;
      slots_.push_back(std::move(s));
      if (p.trainable)
        trainable_.push_back(p.name);
    }
    numParams_ = slots_.size();

    StepGraphOptions graph;
    graph.inputShape = setup.batchInputShape;
    graph.labelShape = setup.batchLabelShape;
    graph.labelDType = setup.labelDType;
    graph.outputShape = setup.outputShape;
    onnx::ModelProto trainGraph, evalGraph;
    if (!model.buildStepGraph(spec, graph, trainGraph, error))
      return false;
    graph.training = false;
    if (!model.buildStepGraph(spec, graph, evalGraph, error))
      return false;

    CompileRequest request;
    request.modelPath = model.path();
    request.import.model = &trainGraph;
    // BatchNorm with batch statistics (running ones become state results),
    // dropout keyed by (seed, lathe.step, op).
    request.trainingModeSeed = setup.seed;
    request.threads = setup.threads;
    request.pipeline.profile = setup.profile;
    if (!setup.dumpIRDir.empty())
      request.dumpIRDir = setup.dumpIRDir + "/step";
    request.afterImport = [&](mlir::ModuleOp module, std::string &err) {
      return buildStepFunction(module, err);
    };
    std::string message;
    train_ = SessionFactory::create(request, &message);
    if (!train_) {
      error = message;
      return false;
    }
    CompileRequest evalRequest;
    evalRequest.modelPath = model.path();
    evalRequest.import.model = &evalGraph;
    evalRequest.threads = setup.threads;
    if (!setup.dumpIRDir.empty())
      evalRequest.dumpIRDir = setup.dumpIRDir + "/eval";
    eval_ = SessionFactory::create(evalRequest, &message);
    if (!eval_) {
      error = message;
      return false;
    }
    return bind(error);
  }

  bool step(const Batch &batch, float lr, StepResult &result,
            std::string &error) override {
    if (!checkBatch(batch, error))
      return false;
    lr_.as<float>()[0] = lr;
    step_.as<int64_t>()[0] = static_cast<int64_t>(batch.step);
    inPtrs_.clear();
    for (const Binding &b : trainIn_)
      inPtrs_.push_back(inputPointer(b, batch));
    outPtrs_.clear();
    for (const Binding &b : trainOut_)
      outPtrs_.push_back(
          b.kind == Binding::State
              ? slots_[b.slot].buffers[1 - slots_[b.slot].current].data.data()
              : outputPointer(b));
    if (!train_->runBuffers(inPtrs_.data(), outPtrs_.data(), &error))
      return false;
    for (const Binding &b : trainOut_)
      if (b.kind == Binding::State)
        slots_[b.slot].current ^= 1;
    result.loss = loss_.as<float>()[0];
    result.correct =
        hasAccuracy_ ? static_cast<int64_t>(correct_.as<float>()[0]) : -1;
    return true;
  }

  bool evaluate(const Batch &batch, EvalResult &result,
                std::string &error) override {
    if (!checkBatch(batch, error))
      return false;
    inPtrs_.clear();
    for (const Binding &b : evalIn_)
      inPtrs_.push_back(inputPointer(b, batch));
    outPtrs_.clear();
    for (const Binding &b : evalOut_)
      outPtrs_.push_back(outputPointer(b));
    if (!eval_->runBuffers(inPtrs_.data(), outPtrs_.data(), &error))
      return false;
    double lossSum = 0, correct = 0;
    for (int64_t r = 0; r < batch.rows; ++r) {
      lossSum += sampleLoss_.as<float>()[r];
      if (hasAccuracy_)
        correct += sampleCorrect_.as<float>()[r];
    }
    result.lossSum = lossSum;
    result.correct = hasAccuracy_ ? static_cast<int64_t>(correct) : -1;
    return true;
  }

  std::vector<NamedTensor> parameters() const override {
    std::vector<NamedTensor> out;
    for (size_t i = 0; i < numParams_; ++i)
      out.push_back({slots_[i].name, slots_[i].value()});
    return out;
  }
  bool setParameters(const std::vector<NamedTensor> &values,
                     std::string &error) override {
    return assign(0, numParams_, values, "parameters", error);
  }
  std::vector<NamedTensor> optimizerState() const override {
    std::vector<NamedTensor> out;
    for (size_t i = numParams_; i < slots_.size(); ++i)
      out.push_back({slots_[i].name, slots_[i].value()});
    return out;
  }
  bool setOptimizerState(const std::vector<NamedTensor> &values,
                         std::string &error) override {
    return assign(numParams_, slots_.size(), values, "optimizer state", error);
  }

  std::vector<NamedTensor> gradients() const override { return gradients_; }
  std::vector<KernelProfile> profile() const override {
    return train_->profile();
  }
  void resetProfile() override { train_->resetProfile(); }

private:
  /// @main (the imported forward + loss) becomes the step: training form,
  /// gradient of the loss with respect to the trainable parameters, update.
  bool buildStepFunction(mlir::ModuleOp module, std::string &error) {
    auto main = module.lookupSymbol<mlir::func::FuncOp>("main");
    const std::string &path = setup_.model->path();
    int64_t loss = indexNamed(main, kLossName, /*results=*/true);
    AutodiffOptions autodiff;
    autodiff.output = loss;
    std::vector<int64_t> wrt;
    for (const std::string &name : trainable_) {
      int64_t index = indexNamed(main, name, /*results=*/false);
      if (index < 0) {
        error = path + ": parameter '" + name + "' is not used by the model";
        return false;
      }
      wrt.push_back(index);
    }
    autodiff.wrt = wrt;
    const Optimizer &o = setup_.spec->optimizer();
    InsertOptimizerOptions optimizer;
    optimizer.wrt = wrt;
    optimizer.kind = optimizerKindName(o.kind());
    optimizer.momentum = o.momentum();
    optimizer.beta1 = o.beta1();
    optimizer.beta2 = o.beta2();
    optimizer.eps = o.eps();
    optimizer.rho = o.rho();
    optimizer.weightDecay = o.weight_decay();
    optimizer.clipValue = o.has_clip_value() ? o.clip_value() : 0;
    optimizer.clipGlobalNorm =
        o.has_clip_global_norm() ? o.clip_global_norm() : 0;
    optimizer.keepGradients = setup_.keepGradients;

    mlir::PassManager pm(module.getContext());
    pm.addPass(createAutodiff(autodiff));
    if (failed(pm.run(module)))
      return false;
    main.erase();
    module.lookupSymbol<mlir::func::FuncOp>("main_grad").setSymName("main");
    mlir::PassManager pm2(module.getContext());
    pm2.addPass(createInsertOptimizer(optimizer));
    return succeeded(pm2.run(module));
  }

  /// Matches the compiled functions' inputs and outputs to the state, the
  /// batch and the scalars, and allocates what is new (optimizer state
  /// starts at zero).
  bool bind(std::string &error) {
    std::map<std::string, size_t> slotOf;
    for (size_t i = 0; i < slots_.size(); ++i)
      slotOf[slots_[i].name] = i;
    const std::string &input = setup_.model->inputName();
    auto bindInputs = [&](const Session &s, std::vector<Binding> &into,
                          bool training) {
      for (const TensorInfo &in : s.inputs()) {
        if (in.name == input)
          into.push_back({Binding::Data});
        else if (in.name == kLabelsName)
          into.push_back({Binding::Labels});
        else if (in.name == "lathe.lr")
          into.push_back({Binding::LearningRate});
        else if (in.name == "lathe.step")
          into.push_back({Binding::StepIndex});
        else {
          auto it = slotOf.find(in.name);
          if (it == slotOf.end()) {
            if (!training) {
              error = setup_.model->path() + ": evaluation input '" + in.name +
                      "' is not a parameter";
              return false;
            }
            Slot s;
            s.name = in.name;
            s.optimizer = true;
            s.buffers[0] = Tensor(in.dtype, in.shape);
            it = slotOf.emplace(in.name, slots_.size()).first;
            slots_.push_back(std::move(s));
          }
          const Tensor &v = slots_[it->second].value();
          if (v.dtype != in.dtype || v.shape != in.shape) {
            error = setup_.model->path() + ": state '" + in.name +
                    "' does not match the compiled step";
            return false;
          }
          into.push_back({Binding::State, it->second});
        }
      }
      return true;
    };
    if (!bindInputs(*train_, trainIn_, true) ||
        !bindInputs(*eval_, evalIn_, false))
      return false;
    for (const TensorInfo &out : train_->outputs()) {
      if (out.name == kLossName) {
        trainOut_.push_back({Binding::Loss});
      } else if (out.name == kCorrectName) {
        trainOut_.push_back({Binding::Correct});
        hasAccuracy_ = true;
      } else if (llvm::StringRef(out.name).starts_with("grad/")) {
        gradients_.push_back({out.name, Tensor(out.dtype, out.shape)});
        trainOut_.push_back({Binding::Gradient, gradients_.size() - 1});
      } else if (auto it = slotOf.find(out.name); it != slotOf.end()) {
        Slot &s = slots_[it->second];
        s.updated = true;
        s.buffers[1] = s.buffers[0];
        trainOut_.push_back({Binding::State, it->second});
      } else {
        scratch_.emplace_back(out.dtype, out.shape);
        trainOut_.push_back({Binding::Scratch, scratch_.size() - 1});
      }
    }
    for (const TensorInfo &out : eval_->outputs()) {
      if (out.name != kSampleLossName && out.name != kSampleCorrectName) {
        error = setup_.model->path() + ": unexpected evaluation output '" +
                out.name + "'";
        return false;
      }
      evalOut_.push_back({out.name == kSampleLossName
                              ? Binding::SampleLoss
                              : Binding::SampleCorrect});
    }
    int64_t batch = setup_.batchInputShape[0];
    lr_ = Tensor(DType::F32, {});
    step_ = Tensor(DType::I64, {});
    loss_ = Tensor(DType::F32, {});
    correct_ = Tensor(DType::F32, {});
    sampleLoss_ = Tensor(DType::F32, {batch});
    sampleCorrect_ = Tensor(DType::F32, {batch});
    return true;
  }

  bool checkBatch(const Batch &batch, std::string &error) const {
    if (batch.inputs.shape != setup_.batchInputShape ||
        batch.inputs.dtype != setup_.model->inputDType() ||
        batch.labels.shape != setup_.batchLabelShape ||
        batch.labels.dtype != setup_.labelDType) {
      error = setup_.model->path() + ": batch of " +
              dtypeName(batch.inputs.dtype) + "[" +
              shapeToString(batch.inputs.shape) + "] / " +
              dtypeName(batch.labels.dtype) + "[" +
              shapeToString(batch.labels.shape) +
              "] does not fit the compiled step";
      return false;
    }
    return true;
  }

  void *inputPointer(const Binding &b, const Batch &batch) {
    switch (b.kind) {
    case Binding::Data:
      return const_cast<uint8_t *>(batch.inputs.data.data());
    case Binding::Labels:
      return const_cast<uint8_t *>(batch.labels.data.data());
    case Binding::LearningRate:
      return lr_.data.data();
    case Binding::StepIndex:
      return step_.data.data();
    default:
      return slots_[b.slot].value().data.data();
    }
  }
  void *outputPointer(const Binding &b) {
    switch (b.kind) {
    case Binding::Loss:
      return loss_.data.data();
    case Binding::Correct:
      return correct_.data.data();
    case Binding::SampleLoss:
      return sampleLoss_.data.data();
    case Binding::SampleCorrect:
      return sampleCorrect_.data.data();
    case Binding::Gradient:
      return gradients_[b.slot].second.data.data();
    default:
      return scratch_[b.slot].data.data();
    }
  }

  bool assign(size_t begin, size_t end, const std::vector<NamedTensor> &values,
              const char *what, std::string &error) {
    if (values.size() != end - begin) {
      error = std::string("compiled step: expected ") +
              std::to_string(end - begin) + " " + what + " tensors, got " +
              std::to_string(values.size());
      return false;
    }
    for (size_t i = begin; i < end; ++i) {
      const NamedTensor &v = values[i - begin];
      const Tensor &mine = slots_[i].value();
      if (v.first != slots_[i].name || v.second.dtype != mine.dtype ||
          v.second.shape != mine.shape) {
        error = std::string("compiled step: ") + what + " '" + v.first +
                "' does not match '" + slots_[i].name + "' " +
                dtypeName(mine.dtype) + "[" + shapeToString(mine.shape) + "]";
        return false;
      }
    }
    for (size_t i = begin; i < end; ++i)
      slots_[i].value() = values[i - begin].second;
    return true;
  }

  TrainingSetup setup_;
  std::unique_ptr<Session> train_, eval_;
  std::vector<Slot> slots_; // parameters (model order), then optimizer state
  size_t numParams_ = 0;
  std::vector<std::string> trainable_;
  std::vector<Binding> trainIn_, trainOut_, evalIn_, evalOut_;
  bool hasAccuracy_ = false;
  Tensor lr_, step_, loss_, correct_, sampleLoss_, sampleCorrect_;
  std::vector<Tensor> scratch_;
  std::vector<NamedTensor> gradients_;
  std::vector<void *> inPtrs_, outPtrs_;
};

} // namespace

std::unique_ptr<TrainingStep>
createCompiledTrainingStep(const TrainingSetup &setup, std::string &error) {
  auto step = std::make_unique<CompiledStep>();
  if (!step->build(setup, error))
    return nullptr;
  return step;
}

} // namespace lathe
