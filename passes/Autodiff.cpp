// lathe-autodiff: reverse-mode automatic differentiation on the lathe
// dialect (Passes.td has the contract). The gradient function is a copy of
// the function with the backward graph appended before its return, so that
// the forward values the vector-Jacobian products read are simply reused and
// everything after this pass (folding, CSE, fusion, memory planning) treats
// forward and backward alike.
#include "ir/LatheOps.h"
#include "ir/VJPUtils.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_AUTODIFF
#include "passes/Passes.h.inc"

namespace {

/// A constant of `type` (float) filled with `value`.
Value filled(OpBuilder &b, Location loc, RankedTensorType type, double value) {
  return b.create<ConstantOp>(
      loc, DenseElementsAttr::get(
               type, b.getFloatAttr(type.getElementType(), value)));
}

struct AutodiffPass : impl::AutodiffBase<AutodiffPass> {
  using AutodiffBase::AutodiffBase;

  void runOnOperation() override {
    if (failed(differentiate()))
      signalPassFailure();
  }

  LogicalResult differentiate() {
    ModuleOp module = getOperation();
    // Plain copies of the options: a pass option streams into a diagnostic
    // as nothing.
    std::string funcName = this->funcName;
    int64_t output = this->output;
    auto fn = module.lookupSymbol<func::FuncOp>(funcName);
    if (!fn || fn.isExternal())
      return module.emitError("lathe-autodiff: no function @") << funcName;
    std::string gradName = funcName + "_grad";
    if (module.lookupSymbol(gradName))
      return module.emitError("lathe-autodiff: @")
             << gradName << " exists already";
    if (!fn.getBody().hasOneBlock())
      return fn.emitError("lathe-autodiff: @")
             << funcName << " must have a single block";
    if (output < 0 || output >= fn.getNumResults())
      return fn.emitError("lathe-autodiff: output ")
             << output << " is not a result index (@" << funcName << " has "
             << fn.getNumResults() << ")";
    auto outType = dyn_cast<RankedTensorType>(fn.getResultTypes()[output]);
    if (!outType || !isa<FloatType>(outType.getElementType()))
      return fn.emitError("lathe-autodiff: result ")
             << output << " is not a float tensor";
    llvm::SmallDenseSet<int64_t> seen;
    for (int64_t index : wrt) {
      if (index < 0 || index >= fn.getNumArguments())
        return fn.emitError("lathe-autodiff: wrt ")
               << index << " is not an argument index (@" << funcName << " has "
               << fn.getNumArguments() << ")";
      if (!vjp::isFloatTensor(fn.getArgument(index)))
        return fn.emitError("lathe-autodiff: argument ")
               << index << " is not a float tensor";
      if (!seen.insert(index).second)
        return fn.emitError("lathe-autodiff: argument ")
               << index << " is listed twice in wrt";
    }

    OpBuilder b(module.getContext());
    b.setInsertionPointAfter(fn);
    auto grad = cast<func::FuncOp>(b.clone(*fn));
    grad.setSymName(gradName);
    Block &body = grad.getBody().front();
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    Value out = ret.getOperand(output);

    // Values that vary with a wrt argument: only float tensors, so
    // comparisons, arg-reductions and index arithmetic stop the flow.
    llvm::DenseSet<Value> varied;
    for (int64_t index : wrt)
      varied.insert(body.getArgument(index));
    SmallVector<Operation *> forward;
    for (Operation &op : body.without_terminator()) {
      forward.push_back(&op);
      if (llvm::any_of(op.getOperands(),
                       [&](Value v) { return varied.contains(v); }))
        for (Value r : op.getResults())
          if (vjp::isFloatTensor(r))
            varied.insert(r);
    }

    // The reverse sweep. A value has an entry in `grads` only when it
    // varies and reaches the output, so an op none of whose results has one
    // is skipped: it does not reach the output, or nothing it computes
    // depends on a wrt argument.
    llvm::DenseMap<Value, Value> grads;
    b.setInsertionPoint(ret);
    if (varied.contains(out))
      grads[out] = filled(b, ret.getLoc(), outType, 1.0);
    for (Operation *op : llvm::reverse(forward)) {
      SmallVector<Value> resultGrads;
      bool flows = false;
      for (Value r : op->getResults()) {
        resultGrads.push_back(grads.lookup(r));
        flows |= static_cast<bool>(resultGrads.back());
      }
      if (!flows)
        continue;
      auto differentiable = dyn_cast<DifferentiableOpInterface>(op);
      if (!differentiable)
        return op->emitError("no gradient for ") << op->getName() << " yet";
      SmallVector<Value> operandGrads;
      if (failed(differentiable.buildVJP(b, resultGrads, operandGrads)))
        return failure();
      if (operandGrads.size() != op->getNumOperands())
        return op->emitError("lathe-autodiff: the VJP of ")
               << op->getName() << " gave " << operandGrads.size()
               << " gradients for " << op->getNumOperands() << " operands";
      for (auto [operand, g] : llvm::zip(op->getOperands(), operandGrads)) {
        if (!g || !varied.contains(operand))
          continue;
        if (g.getType() != operand.getType())
          return op->emitError("lathe-autodiff: the VJP of ")
                 << op->getName() << " gave a gradient of type " << g.getType()
                 << " for an operand of type " << operand.getType();
        // Fan-out: every use contributes, the contributions add up.
        Value &slot = grads[operand];
        slot = slot ? b.create<AddOp>(op->getLoc(), slot, g).getResult() : g;
      }
    }

    SmallVector<Value> results(ret.getOperands());
    SmallVector<DictionaryAttr> resultAttrs;
    for (unsigned i = 0; i < fn.getNumResults(); ++i)
      resultAttrs.push_back(fn.getResultAttrDict(i) ? fn.getResultAttrDict(i)
                                                    : b.getDictionaryAttr({}));
    for (int64_t index : wrt) {
      Value arg = body.getArgument(index);
      Value g = grads.lookup(arg);
      if (!g)
        g = filled(b, ret.getLoc(), vjp::typeOf(arg), 0.0);
      results.push_back(g);
      // Gradient results are named after their argument: grad_<name>.
      SmallVector<NamedAttribute> attrs;
      if (auto name = fn.getArgAttrOfType<StringAttr>(index, "lathe.name"))
        attrs.push_back(b.getNamedAttr(
            "lathe.name", b.getStringAttr("grad_" + name.getValue())));
      resultAttrs.push_back(b.getDictionaryAttr(attrs));
    }
    b.create<func::ReturnOp>(ret.getLoc(), results);
    ret.erase();
    grad.setType(b.getFunctionType(fn.getArgumentTypes(),
                                   ValueRange(results).getTypes()));
    grad.setAllResultAttrs(resultAttrs);
    return success();
  }
};

} // namespace
} // namespace lathe
