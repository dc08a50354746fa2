// Passes on bufferized IR: copies to loops, and arena placement of every
// intermediate buffer.
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_PREPAREBUFFERIZATION
#define GEN_PASS_DEF_LOWERCOPIES
#define GEN_PASS_DEF_PLANARENA
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
        operand.set(b.create<linalg::CopyOp>(ret.getLoc(), v, empty)
                        .getResult(0));
      }
    });
  }
};

struct LowerCopiesPass : impl::LowerCopiesBase<LowerCopiesPass> {
  void runOnOperation() override {
    getOperation().walk([](memref::CopyOp copy) {
      OpBuilder b(copy);
      b.create<linalg::CopyOp>(copy.getLoc(), copy.getSource(),
                               copy.getTarget());
      copy.erase();
    });
  }
};

constexpr int64_t kAlignment = 64;

int64_t alignUp(int64_t v) { return (v + kAlignment - 1) / kAlignment * kAlignment; }

struct PlanArenaPass : impl::PlanArenaBase<PlanArenaPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main || main.isExternal()) {
      module.emitError("lathe-plan-arena: no @main function");
      return signalPassFailure();
    }
    SmallVector<memref::AllocOp> allocs;
    bool ok = true;
    main.walk([&](Operation *op) {
      if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
        MemRefType type = alloc.getType();
        if (!type.hasStaticShape() || !type.getLayout().isIdentity()) {
          alloc.emitError("buffer of type ") << type << " cannot be planned";
          ok = false;
        }
        allocs.push_back(alloc);
      } else if (isa<memref::DeallocOp, memref::AllocaOp>(op)) {
        op->emitError("unexpected ") << op->getName() << " before planning";
        ok = false;
      }
    });
    if (!ok)
      return signalPassFailure();

    OpBuilder b(module.getContext());
    int64_t offset = 0;
    SmallVector<int64_t> offsets;
    for (memref::AllocOp alloc : allocs) {
      MemRefType type = alloc.getType();
      int64_t bytes = type.getNumElements() *
                      std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
      offsets.push_back(offset);
      offset += alignUp(bytes);
    }
    auto arenaType = MemRefType::get({offset}, b.getI8Type());
    main.insertArgument(0, arenaType, {}, main.getLoc());
    main.setArgAttr(0, "lathe.name", b.getStringAttr("arena"));
    Value arena = main.getArgument(0);
    for (auto [alloc, off] : llvm::zip(allocs, offsets)) {
      b.setInsertionPoint(alloc);
      Value shift = b.create<arith::ConstantIndexOp>(alloc.getLoc(), off);
      Value view = b.create<memref::ViewOp>(alloc.getLoc(), alloc.getType(),
                                            arena, shift, ValueRange{});
      alloc.replaceAllUsesWith(view);
      alloc.erase();
    }
    // LLVM's bare-pointer convention rejects a memref argument with a zero
    // dim beside others (3x0x5); such a tensor has no bytes, so the argument
    // becomes memref<0xT> and its uses read an empty view of the arena.
    b.setInsertionPointToStart(&main.front());
    for (unsigned i = 1; i < main.getNumArguments(); ++i) {
      auto type = dyn_cast<MemRefType>(main.getArgument(i).getType());
      if (!type || type.getNumElements() != 0 || type.getRank() <= 1)
        continue;
      Location loc = main.getArgument(i).getLoc();
      Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
      Value view =
          b.create<memref::ViewOp>(loc, type, arena, zero, ValueRange{});
      main.getArgument(i).replaceAllUsesWith(view);
      auto flat = MemRefType::get({0}, type.getElementType());
      main.getArgument(i).setType(flat);
      SmallVector<Type> inputs(main.front().getArgumentTypes());
      main.setFunctionType(
          b.getFunctionType(inputs, main.getFunctionType().getResults()));
    }
    module->setAttr("lathe.arena_bytes", b.getI64IntegerAttr(offset));
    module->setAttr("lathe.naive_bytes", b.getI64IntegerAttr(offset));
  }
};

} // namespace
} // namespace lathe
