// The C ABI entry point: void entry(void *arena, void *const *inputs,
// void *const *outputs). @main takes (arena, inputs..., outputs...) as bare
// pointers after FuncToLLVM with the bare-pointer calling convention.
#include "passes/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_EMITENTRYPOINT
#include "passes/Passes.h.inc"

namespace {
struct EmitEntryPointPass : impl::EmitEntryPointBase<EmitEntryPointPass> {
  using EmitEntryPointBase::EmitEntryPointBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<LLVM::LLVMFuncOp>("main");
    if (!main) {
      module.emitError("lathe-emit-entry-point: no lowered @main");
      return signalPassFailure();
    }
    auto numInputs = module->getAttrOfType<IntegerAttr>("lathe.num_inputs");
    if (!numInputs) {
      module.emitError("lathe-emit-entry-point: missing lathe.num_inputs");
      return signalPassFailure();
    }
    MLIRContext *ctx = module.getContext();
    OpBuilder b(ctx);
    b.setInsertionPointToEnd(module.getBody());
    Location loc = main.getLoc();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto fnType = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx),
                                              {ptr, ptr, ptr});
    auto entry = b.create<LLVM::LLVMFuncOp>(loc, entryName, fnType);
    Block *block = entry.addEntryBlock(b);
    b.setInsertionPointToStart(block);
    unsigned numArgs = main.getNumArguments();
    int64_t ins = numInputs.getInt();
    SmallVector<Value> args = {block->getArgument(0)};
    for (unsigned i = 1; i < numArgs; ++i) {
      bool isInput = static_cast<int64_t>(i - 1) < ins;
      Value array = block->getArgument(isInput ? 1 : 2);
      int64_t index = isInput ? i - 1 : i - 1 - ins;
      Value slot = b.create<LLVM::GEPOp>(loc, ptr, ptr, array,
                                         ArrayRef<LLVM::GEPArg>{index});
      args.push_back(b.create<LLVM::LoadOp>(loc, ptr, slot));
    }
    b.create<LLVM::CallOp>(loc, main, args);
    b.create<LLVM::ReturnOp>(loc, ValueRange{});
  }
};
} // namespace
} // namespace lathe
