// lathe-lower-parallel-calls: a call to a kernel marked
// `lathe.parallel_tasks` (lathe-parallelize) becomes a call to the runtime's
//
//   void lathe_parallel_for(void (*fn)(void *, int64_t, int64_t), void *arg,
//                           int64_t tasks)
//
// with the kernel's buffers packed into a struct on the caller's stack and a
// trampoline `<kernel>_task(arg, begin, end)` that unpacks them and calls
// the kernel on its range of tasks. Done on the LLVM dialect, where a
// kernel's arguments (bare pointers and scalars) have plain LLVM types.
#include "passes/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_LOWERPARALLELCALLS
#include "passes/Passes.h.inc"

namespace {

constexpr const char *kParallelFor = "lathe_parallel_for";

struct LowerParallelCallsPass
    : impl::LowerParallelCallsBase<LowerParallelCallsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto i64 = IntegerType::get(ctx, 64);
    auto voidType = LLVM::LLVMVoidType::get(ctx);

    SmallVector<LLVM::LLVMFuncOp> kernels;
    for (auto func : module.getOps<LLVM::LLVMFuncOp>())
      if (func->hasAttr("lathe.parallel_tasks"))
        kernels.push_back(func);
    if (kernels.empty())
      return;

    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    auto parallelFor = module.lookupSymbol<LLVM::LLVMFuncOp>(kParallelFor);
    if (!parallelFor)
      parallelFor = b.create<LLVM::LLVMFuncOp>(
          module.getLoc(), kParallelFor,
          LLVM::LLVMFunctionType::get(voidType, {ptr, ptr, i64}));

    for (LLVM::LLVMFuncOp kernel : kernels) {
      auto tasks = kernel->getAttrOfType<IntegerAttr>("lathe.parallel_tasks");
      kernel->removeAttr("lathe.parallel_tasks");
      LLVM::LLVMFunctionType type = kernel.getFunctionType();
      unsigned numArgs = type.getNumParams();
      if (numArgs < 2 || type.getParamType(numArgs - 1) != i64 ||
          type.getParamType(numArgs - 2) != i64) {
        kernel.emitError("lathe-lower-parallel-calls: a parallel kernel "
                         "must end with (i64 begin, i64 end)");
        return signalPassFailure();
      }
      ArrayRef<Type> fields = type.getParams().drop_back(2);
      auto frame = LLVM::LLVMStructType::getLiteral(ctx, fields);
      // The calls are collected before the trampoline adds its own.
      SmallVector<LLVM::CallOp> calls;
      module.walk([&](LLVM::CallOp call) {
        if (call.getCallee() == kernel.getName())
          calls.push_back(call);
      });
      LLVM::LLVMFuncOp task = buildTask(b, kernel, frame, fields);
      for (LLVM::CallOp call : calls) {
        Location loc = call.getLoc();
        // The frame lives in the caller's entry block: an alloca at the
        // call would grow the stack if the call sat in a loop.
        auto caller = call->getParentOfType<LLVM::LLVMFuncOp>();
        OpBuilder entry = OpBuilder::atBlockBegin(&caller.getBody().front());
        Value one = entry.create<LLVM::ConstantOp>(loc, i64, 1);
        Value slot = entry.create<LLVM::AllocaOp>(loc, ptr, frame, one);
        OpBuilder at(call);
        for (auto [i, field] : llvm::enumerate(fields)) {
          Value addr = at.create<LLVM::GEPOp>(
              loc, ptr, frame, slot,
              ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(i)});
          at.create<LLVM::StoreOp>(loc, call.getArgOperands()[i], addr);
        }
        Value fn = at.create<LLVM::AddressOfOp>(loc, ptr, task.getName());
        Value count = at.create<LLVM::ConstantOp>(loc, i64, tasks.getInt());
        at.create<LLVM::CallOp>(loc, parallelFor, ValueRange{fn, slot, count});
        call.erase();
      }
    }
  }

  /// void <kernel>_task(ptr frame, i64 begin, i64 end): unpacks the
  /// kernel's arguments and runs it on [begin, end).
  LLVM::LLVMFuncOp buildTask(OpBuilder &b, LLVM::LLVMFuncOp kernel,
                             LLVM::LLVMStructType frame,
                             ArrayRef<Type> fields) {
    MLIRContext *ctx = kernel.getContext();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto i64 = IntegerType::get(ctx, 64);
    Location loc = kernel.getLoc();
    auto task = b.create<LLVM::LLVMFuncOp>(
        loc, (kernel.getName() + "_task").str(),
        LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx),
                                    {ptr, i64, i64}),
        LLVM::Linkage::Internal);
    Block *block = task.addEntryBlock(b);
    OpBuilder body = OpBuilder::atBlockBegin(block);
    SmallVector<Value> args;
    for (auto [i, field] : llvm::enumerate(fields)) {
      Value addr = body.create<LLVM::GEPOp>(
          loc, ptr, frame, block->getArgument(0),
          ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(i)});
      args.push_back(body.create<LLVM::LoadOp>(loc, field, addr));
    }
    args.push_back(block->getArgument(1));
    args.push_back(block->getArgument(2));
    body.create<LLVM::CallOp>(loc, kernel, args);
    body.create<LLVM::ReturnOp>(loc, ValueRange{});
    return task;
  }
};

} // namespace
} // namespace lathe
