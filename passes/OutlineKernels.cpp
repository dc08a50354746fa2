// lathe-outline-kernels: each loop nest of @main (a linalg op or a loop on
// buffers) becomes a function of its own, called from @main. LLVM's
// optimisations are per function, and several of them (scalar evolution,
// SLP vectorisation, scheduling) grow faster than linearly with the size
// of one function: a model compiled as one @main with hundreds of loop
// nests spent most of its compile time there. Kernels are also the unit a
// profiler times and a thread pool runs.
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_OUTLINEKERNELS
#include "passes/Passes.h.inc"

namespace {

bool isKernel(Operation *op) {
  return isa<linalg::LinalgOp>(op) || op->getNumRegions() > 0;
}

/// Ops that only name memory or values (views, reshapes, globals,
/// constants): cloned into each kernel that uses them, so that the kernel
/// sees constant offsets and shapes instead of opaque pointers.
bool isCloneable(Operation *op) {
  return op->getNumRegions() == 0 && isMemoryEffectFree(op) &&
         (isa<memref::MemRefDialect, arith::ArithDialect>(op->getDialect()));
}

struct OutlineKernelsPass : impl::OutlineKernelsBase<OutlineKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main || !main.getBody().hasOneBlock())
      return;
    Block &body = main.getBody().front();
    SmallVector<Operation *> kernels;
    for (Operation &op : body)
      if (isKernel(&op) && op.getNumResults() == 0)
        kernels.push_back(&op);
    OpBuilder moduleBuilder = OpBuilder::atBlockEnd(module.getBody());
    unsigned index = 0;
    for (Operation *kernel : kernels)
      outline(kernel, main, moduleBuilder, index++);
    // Views and constants that only kernels used are dead in @main now.
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
      if (isCloneable(&op) && op.use_empty())
        op.erase();
  }

  void outline(Operation *kernel, func::FuncOp main, OpBuilder &moduleBuilder,
               unsigned index) {
    // Values the kernel reads from @main: its operands and what its
    // regions capture.
    llvm::SetVector<Value> used(kernel->getOperands().begin(),
                                kernel->getOperands().end());
    for (Region &region : kernel->getRegions())
      getUsedValuesDefinedAbove(region, used);
    // Walk back through cloneable producers down to what must be passed.
    llvm::SetVector<Operation *> cloned;
    llvm::SetVector<Value> arguments;
    SmallVector<Value> worklist(used.begin(), used.end());
    while (!worklist.empty()) {
      Value v = worklist.pop_back_val();
      Operation *def = v.getDefiningOp();
      if (def && isCloneable(def)) {
        if (cloned.insert(def))
          worklist.append(def->operand_begin(), def->operand_end());
        continue;
      }
      arguments.insert(v);
    }
    // A value passed as an argument must survive the bare-pointer calling
    // convention: a memref with identity layout, or a scalar.
    for (Value v : arguments) {
      auto memref = dyn_cast<MemRefType>(v.getType());
      if (memref && !memref.getLayout().isIdentity())
        return;
      if (!memref && !v.getType().isIntOrIndexOrFloat())
        return;
    }

    // Arguments in @main's order (its arguments first), for readable calls.
    SmallVector<Value> args(arguments.begin(), arguments.end());
    auto rank = [](Value v) -> std::pair<int, Operation *> {
      if (auto arg = dyn_cast<BlockArgument>(v))
        return {static_cast<int>(arg.getArgNumber()), nullptr};
      return {INT32_MAX, v.getDefiningOp()};
    };
    llvm::stable_sort(args, [&](Value a, Value b) {
      auto ra = rank(a), rb = rank(b);
      if (ra.first != rb.first)
        return ra.first < rb.first;
      return ra.second && rb.second && ra.second->isBeforeInBlock(rb.second);
    });
    SmallVector<Operation *> order(cloned.begin(), cloned.end());
    llvm::sort(order, [](Operation *a, Operation *b) {
      return a->isBeforeInBlock(b);
    });
    SmallVector<Type> argTypes;
    for (Value v : args)
      argTypes.push_back(v.getType());
    std::string name = "lathe_kernel_" + std::to_string(index);
    auto func = moduleBuilder.create<func::FuncOp>(
        kernel->getLoc(), name, moduleBuilder.getFunctionType(argTypes, {}));
    func.setPrivate();
    // One call site would make LLVM inline the kernel straight back.
    func->setAttr("no_inline", moduleBuilder.getUnitAttr());
    Block *entry = func.addEntryBlock();
    OpBuilder b = OpBuilder::atBlockBegin(entry);
    IRMapping mapping;
    for (auto [v, arg] : llvm::zip(args, entry->getArguments()))
      mapping.map(v, arg);
    for (Operation *op : order)
      b.clone(*op, mapping);
    b.clone(*kernel, mapping);
    b.create<func::ReturnOp>(kernel->getLoc());

    OpBuilder call(kernel);
    call.create<func::CallOp>(kernel->getLoc(), func, args);
    kernel->erase();
  }
};

} // namespace
} // namespace lathe
