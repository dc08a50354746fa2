// lathe-training-mode: an imported inference graph in its training form
// (Passes.td has the contract). Dropout draws masks keyed by (seed, step,
// op) and batch normalisation normalises with batch statistics and returns
// its updated running statistics as state results, so the training step
// built around this function can run it step after step.
#include "ir/LatheOps.h"
#include "ir/VJPUtils.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseSet.h"

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_TRAININGMODE
#include "passes/Passes.h.inc"

namespace {

constexpr llvm::StringLiteral kName = "lathe.name";
constexpr llvm::StringLiteral kStepName = "lathe.step";

struct TrainingModePass : impl::TrainingModeBase<TrainingModePass> {
  using TrainingModeBase::TrainingModeBase;

  void runOnOperation() override {
    if (failed(rewrite()))
      signalPassFailure();
  }

  LogicalResult rewrite() {
    ModuleOp module = getOperation();
    // A pass option streams into a diagnostic as nothing: copy it.
    std::string funcName = this->funcName;
    auto fn = module.lookupSymbol<func::FuncOp>(funcName);
    if (!fn || fn.isExternal())
      return module.emitError("lathe-training-mode: no function @") << funcName;
    if (!fn.getBody().hasOneBlock())
      return fn.emitError("lathe-training-mode: @")
             << funcName << " must have a single block";
    for (unsigned i = 0; i < fn.getNumArguments(); ++i)
      if (auto name = fn.getArgAttrOfType<StringAttr>(i, kName);
          name && name.getValue() == kStepName)
        return fn.emitError("lathe-training-mode: @")
               << funcName << " has a " << kStepName
               << " argument already (is it in training form?)";

    MLIRContext *ctx = fn.getContext();
    OpBuilder b(ctx);
    unsigned stepIndex = fn.getNumArguments();
    auto stepType = RankedTensorType::get({}, b.getI64Type());
    fn.insertArgument(
        stepIndex, stepType,
        b.getDictionaryAttr(b.getNamedAttr(kName, b.getStringAttr(kStepName))),
        fn.getLoc());
    Value step = fn.getArgument(stepIndex);
    // The importer records @main's input count for the entry point.
    if (auto count = module->getAttrOfType<IntegerAttr>("lathe.num_inputs"))
      module->setAttr("lathe.num_inputs",
                      IntegerAttr::get(count.getType(), count.getInt() + 1));

    SmallVector<Operation *> ops;
    fn.walk([&](Operation *op) {
      if (isa<DropoutOp, TrainingDropoutOp, BatchNormOp>(op))
        ops.push_back(op);
    });
    int64_t dropoutIndex = 0;
    // The state results (updated running statistics), in program order.
    SmallVector<std::pair<Value, StringAttr>> state;
    llvm::DenseSet<Value> statArgs;
    for (Operation *op : ops) {
      b.setInsertionPoint(op);
      if (auto d = dyn_cast<DropoutOp>(op)) {
        Location loc = d.getLoc();
        Type et = vjp::typeOf(d.getInput()).getElementType();
        Value ratio =
            vjp::scalar(b, loc, et, d.getRatioAttr().getValueAsDouble());
        Value on = b.create<ConstantOp>(
            loc, DenseElementsAttr::get(
                     RankedTensorType::get({}, b.getI1Type()), true));
        auto t =
            buildDropout(b, loc, d.getInput(), ratio, on, step, dropoutIndex++);
        d.getOutput().replaceAllUsesWith(t.getOutput());
        d.erase();
      } else if (auto d = dyn_cast<TrainingDropoutOp>(op)) {
        auto t = buildDropout(b, d.getLoc(), d.getInput(), d.getRatio(),
                              d.getTraining(), step, dropoutIndex++);
        d.replaceAllUsesWith(t.getResults());
        d.erase();
      } else if (failed(rewriteBatchNorm(b, fn, cast<BatchNormOp>(op), state,
                                         statArgs))) {
        return failure();
      }
    }

    auto ret = cast<func::ReturnOp>(fn.getBody().front().getTerminator());
    for (auto [value, name] : state) {
      unsigned index = fn.getNumResults();
      fn.insertResult(index, value.getType(),
                      b.getDictionaryAttr(b.getNamedAttr(kName, name)));
      ret->insertOperands(ret->getNumOperands(), value);
    }
    return success();
  }

  TrainingDropoutOp buildDropout(OpBuilder &b, Location loc, Value input,
                                 Value ratio, Value training, Value step,
                                 int64_t index) {
    return b.create<TrainingDropoutOp>(
        loc, input, ratio, training, step,
        b.getI64IntegerAttr(static_cast<int64_t>(uint64_t(seed))),
        b.getI64IntegerAttr(index));
  }

  /// The `lathe.name` of `v` when it is an argument of `fn`.
  static StringAttr argumentName(func::FuncOp fn, Value v) {
    auto arg = dyn_cast<BlockArgument>(v);
    if (!arg || arg.getOwner() != &fn.getBody().front())
      return {};
    return fn.getArgAttrOfType<StringAttr>(arg.getArgNumber(), kName);
  }

  LogicalResult
  rewriteBatchNorm(OpBuilder &b, func::FuncOp fn, BatchNormOp bn,
                   SmallVectorImpl<std::pair<Value, StringAttr>> &state,
                   llvm::DenseSet<Value> &statArgs) {
    Location loc = bn.getLoc();
    StringAttr meanName = argumentName(fn, bn.getMean());
    StringAttr varName = argumentName(fn, bn.getVariance());
    if (!meanName || !varName)
      return bn.emitError(
          "lathe-training-mode: the running mean and variance of a batch "
          "normalisation must be named function arguments (the training "
          "step makes its state an input), not computed or constant values");
    for (Value v : {bn.getMean(), bn.getVariance()})
      if (!statArgs.insert(v).second)
        return bn.emitError("lathe-training-mode: running statistic '")
               << argumentName(fn, v).getValue()
               << "' is used by more than one batch normalisation or twice "
                  "by one";
    RankedTensorType inType = vjp::typeOf(bn.getInput());
    int64_t count = inType.getNumElements() / inType.getDimSize(1);
    if (count < 2)
      return bn.emitError("lathe-training-mode: batch normalisation over ")
             << count
             << " element per channel: training needs at least 2 (the "
                "unbiased variance divides by N - 1)";

    auto t = b.create<BatchNormTrainingOp>(
        loc, bn.getInput(), bn.getScale(), bn.getBias(), bn.getMean(),
        bn.getVariance(), bn.getEpsilonAttr(), bn.getMomentumAttr());
    bn.getOutput().replaceAllUsesWith(t.getOutput());
    // The op's running mean is momentum * mean + (1 - momentum) * batch
    // mean, PyTorch's update: reuse it. Its running variance takes the
    // biased batch variance (ONNX): redo it with the unbiased one. The
    // constants are the op's momentum widened from f32, as its lowering
    // uses it, so mean and variance see the same factor.
    Type et = vjp::typeOf(t.getBatchVar()).getElementType();
    double momentum = bn.getMomentum().convertToFloat();
    double n = static_cast<double>(count);
    Value unbiased = b.create<MulOp>(loc, t.getBatchVar(),
                                     vjp::scalar(b, loc, et, n / (n - 1)));
    Value runningVar = b.create<AddOp>(
        loc,
        b.create<MulOp>(loc, bn.getVariance(),
                        vjp::scalar(b, loc, et, momentum)),
        b.create<MulOp>(loc, unbiased, vjp::scalar(b, loc, et, 1 - momentum)));
    bn.erase();
    state.push_back({t.getRunningMean(), meanName});
    state.push_back({runningVar, varName});
    return success();
  }
};

} // namespace
} // namespace lathe
