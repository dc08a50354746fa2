// lathe-fold-constants: every lathe op whose operands are all constants is
// evaluated at compile time by compiling the constant subgraph on its own
// (see ConstantEvaluator.h), so folding covers every op the code generator
// covers, with identical numerics.
#include "passes/ConstantEvaluator.h"
#include "passes/Passes.h"

#include "ir/LatheDialect.h"
#include "ir/LatheOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_FOLDCONSTANTS
#include "passes/Passes.h.inc"

static ConstantEvaluator &evaluatorSlot() {
  static ConstantEvaluator evaluator;
  return evaluator;
}

void setConstantEvaluator(ConstantEvaluator evaluator) {
  evaluatorSlot() = std::move(evaluator);
}

const ConstantEvaluator &getConstantEvaluator() { return evaluatorSlot(); }

namespace {

int64_t staticBytes(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.hasStaticShape() ? storageBytes(tensor) : -1;
}

struct FoldConstantsPass : impl::FoldConstantsBase<FoldConstantsPass> {
  using FoldConstantsBase::FoldConstantsBase;

  /// Folding must not turn a small constant into a large one (Expand,
  /// Tile, ConstantOfShape-like broadcasts): a result may be as large as its
  /// operands together, or up to `growLimit` bytes.
  bool worthFolding(Operation *op) const {
    int64_t in = 0;
    for (Value v : op->getOperands()) {
      int64_t bytes = staticBytes(v.getType());
      if (bytes < 0)
        return false;
      in += bytes;
    }
    for (Type t : op->getResultTypes()) {
      int64_t bytes = staticBytes(t);
      if (bytes <= 0 || (bytes > in && bytes > growLimit))
        return false;
    }
    return true;
  }

  void runOnOperation() override {
    const ConstantEvaluator &evaluate = getConstantEvaluator();
    if (!evaluate)
      return;
    getOperation().walk([&](func::FuncOp func) {
      if (failed(foldFunction(func, evaluate)))
        signalPassFailure();
    });
  }

  LogicalResult foldFunction(func::FuncOp func,
                             const ConstantEvaluator &evaluate) {
    llvm::SetVector<Operation *> foldable;
    Dialect *lathe = getContext().getLoadedDialect<LatheDialect>();
    for (Operation &op : func.getBody().getOps()) {
      if (op.getDialect() != lathe || isa<ConstantOp>(op) ||
          op.getNumOperands() == 0 || op.getNumRegions() != 0 ||
          op.use_empty() || !worthFolding(&op))
        continue;
      bool constantInputs = llvm::all_of(op.getOperands(), [&](Value v) {
        Operation *def = v.getDefiningOp();
        return def && (isa<ConstantOp>(def) || foldable.contains(def));
      });
      if (constantInputs)
        foldable.insert(&op);
    }
    if (foldable.empty())
      return success();

    // The values the rest of the graph reads are the subgraph's results.
    SmallVector<Value> frontier;
    for (Operation *op : foldable)
      for (Value result : op->getResults())
        if (llvm::any_of(result.getUsers(), [&](Operation *user) {
              return !foldable.contains(user);
            }))
          frontier.push_back(result);

    OwningOpRef<ModuleOp> sub = ModuleOp::create(func.getLoc());
    (*sub)->setAttr("lathe.num_inputs",
                    IntegerAttr::get(IntegerType::get(&getContext(), 64), 0));
    OpBuilder b(sub->getBodyRegion());
    auto subFunc = b.create<func::FuncOp>(
        func.getLoc(), "main",
        b.getFunctionType({}, ValueRange(frontier).getTypes()));
    b.setInsertionPointToStart(subFunc.addEntryBlock());
    IRMapping mapping;
    for (Operation *op : foldable) {
      for (Value v : op->getOperands())
        if (!mapping.contains(v))
          b.clone(*v.getDefiningOp(), mapping);
      b.clone(*op, mapping);
    }
    SmallVector<Value> returned;
    for (Value v : frontier)
      returned.push_back(mapping.lookup(v));
    b.create<func::ReturnOp>(func.getLoc(), returned);

    SmallVector<DenseElementsAttr> values;
    if (failed(evaluate(*sub, values)) || values.size() != frontier.size()) {
      // The compiled graph computes these values at run time instead, so a
      // subgraph the evaluator cannot run is not an error.
      func.emitRemark("lathe-fold-constants: could not evaluate a constant "
                      "subgraph of ")
          << foldable.size() << " ops; left to run time";
      return success();
    }

    for (auto [value, attr] : llvm::zip(frontier, values)) {
      OpBuilder builder(value.getDefiningOp());
      auto constant =
          builder.create<ConstantOp>(value.getLoc(), cast<ElementsAttr>(attr));
      constant->setAttr("lathe.folded", builder.getUnitAttr());
      value.replaceAllUsesWith(constant.getResult());
    }
    llvm::SetVector<Operation *> inputs;
    for (Operation *op : foldable)
      for (Value v : op->getOperands())
        if (isa<ConstantOp>(v.getDefiningOp()))
          inputs.insert(v.getDefiningOp());
    for (Operation *op : llvm::reverse(foldable))
      if (op->use_empty())
        op->erase();
    for (Operation *op : inputs)
      if (op->use_empty())
        op->erase();
    return success();
  }
};

} // namespace
} // namespace lathe
