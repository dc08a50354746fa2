// Passes around bufferization: the function boundary before it, copies to
// loops after it (the arena planner is in PlanArena.cpp).
#include "passes/MatchContraction.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_PREPAREBUFFERIZATION
#define GEN_PASS_DEF_LOWERCOPIES
#include "passes/Passes.h.inc"

namespace {

struct PrepareBufferizationPass
    : impl::PrepareBufferizationBase<PrepareBufferizationPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    // CSE merges equal tensor.empty ops: two layers' results, or a tile's
    // scratch (a slice of the empty) and its loop's destination. Empty-
    // tensor elimination then gives all of them the buffer of the first
    // padded destination (lathe-pad-in-place), and the others are copied
    // out of it and back. Each use gets its own tensor.empty again.
    RewritePatternSet patterns(&getContext());
    tensor::populateFoldTensorEmptyPatterns(patterns);
    if (failed(applyPatternsAndFoldGreedily(func, std::move(patterns))))
      return signalPassFailure();
    func.walk([](tensor::EmptyOp empty) {
      for (OpOperand &use :
           llvm::make_early_inc_range(llvm::drop_begin(empty->getUses()))) {
        OpBuilder b(empty);
        use.set(b.clone(*empty)->getResult(0));
      }
    });
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      if (isa<TensorType>(func.getArgument(i).getType()))
        func.setArgAttr(i, "bufferization.writable",
                        BoolAttr::get(&getContext(), false));
    func.walk([](func::ReturnOp ret) {
      OpBuilder b(ret);
      llvm::SmallPtrSet<Value, 4> seen;
      for (OpOperand &operand : ret->getOpOperands()) {
        Value v = operand.get();
        auto type = dyn_cast<RankedTensorType>(v.getType());
        // Arguments, and values returned twice, need their own buffer.
        if (!type || (!isa<BlockArgument>(v) && seen.insert(v).second))
          continue;
        Value empty = b.create<tensor::EmptyOp>(ret.getLoc(), type.getShape(),
                                                type.getElementType());
        operand.set(
            b.create<linalg::CopyOp>(ret.getLoc(), v, empty).getResult(0));
      }
    });
  }
};

struct LowerCopiesPass : impl::LowerCopiesBase<LowerCopiesPass> {
  void runOnOperation() override {
    // A copy of memory onto itself: what an in-place insert_slice
    // bufferizes to.
    getOperation().walk([](Operation *op) {
      if (auto copy = dyn_cast<memref::CopyOp>(op)) {
        if (sameMemory(copy.getSource(), copy.getTarget()))
          copy->erase();
      } else if (auto copy = dyn_cast<linalg::CopyOp>(op)) {
        if (copy.hasPureBufferSemantics() &&
            sameMemory(copy.getInputs()[0], copy.getOutputs()[0]))
          copy->erase();
      }
    });
    getOperation().walk([](memref::CopyOp copy) {
      OpBuilder b(copy);
      b.create<linalg::CopyOp>(copy.getLoc(), copy.getSource(),
                               copy.getTarget());
      copy.erase();
    });
  }
};

} // namespace
} // namespace lathe
