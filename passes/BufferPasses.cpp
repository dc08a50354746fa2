// Passes around bufferization: the function boundary before it, copies to
// loops after it (the arena planner is in PlanArena.cpp).
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

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

/// Whether `a` and `b` are the same memory: one value, or equal views of
/// the same memory (bufferization builds a new subview for each side of an
/// in-place insert_slice, and the arena planner a new view per use).
bool sameMemory(Value a, Value b) {
  if (a == b)
    return true;
  Operation *x = a.getDefiningOp(), *y = b.getDefiningOp();
  if (!x || !y || x->getName() != y->getName() || a.getType() != b.getType() ||
      x->getNumOperands() != y->getNumOperands() ||
      x->getAttrDictionary() != y->getAttrDictionary())
    return false;
  if (!isa<memref::SubViewOp, memref::ViewOp, memref::ExpandShapeOp,
           memref::CollapseShapeOp, memref::ReinterpretCastOp>(x))
    return false;
  if (!sameMemory(x->getOperand(0), y->getOperand(0)))
    return false;
  // Offsets, sizes and byte shifts: equal when they are one value or the
  // same constant.
  for (unsigned i = 1; i < x->getNumOperands(); ++i) {
    Value p = x->getOperand(i), q = y->getOperand(i);
    if (p == q)
      continue;
    auto pc = getConstantIntValue(p), qc = getConstantIntValue(q);
    if (!pc || !qc || *pc != *qc)
      return false;
  }
  return true;
}

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
