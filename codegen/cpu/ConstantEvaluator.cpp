// The CPU code generator as lathe-fold-constants' evaluator: the constant
// subgraph is lowered by the normal pipeline (without graph optimisation,
// which is what is running), JIT-compiled and run once.
#include "passes/ConstantEvaluator.h"
#include "codegen/cpu/CpuBackend.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"

#include <cstdlib>
#include <memory>
#include <mutex>

using namespace mlir;

namespace lathe {

namespace {

constexpr size_t kAlignment = 64;

struct FreeDeleter {
  void operator()(void *p) const { std::free(p); }
};
using Buffer = std::unique_ptr<uint8_t, FreeDeleter>;

Buffer allocate(uint64_t bytes) {
  uint64_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  return Buffer(static_cast<uint8_t *>(
      std::aligned_alloc(kAlignment, rounded ? rounded : kAlignment)));
}

DenseElementsAttr toAttr(RankedTensorType type, const uint8_t *data) {
  int64_t n = type.getNumElements();
  // MLIR packs i1 as bits; compiled code stores one byte per bool.
  if (type.getElementType().isInteger(1)) {
    SmallVector<bool> bits(n);
    for (int64_t i = 0; i < n; ++i)
      bits[i] = data[i] != 0;
    return DenseElementsAttr::get(type, ArrayRef<bool>(bits));
  }
  return DenseElementsAttr::getFromRawBuffer(
      type,
      ArrayRef<char>(reinterpret_cast<const char *>(data), storageBytes(type)));
}

LogicalResult evaluateOnCpu(ModuleOp module,
                            SmallVectorImpl<DenseElementsAttr> &results) {
  MLIRContext *ctx = module.getContext();
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main || main.getNumArguments() != 0)
    return failure();
  SmallVector<RankedTensorType> types;
  for (Type t : main.getResultTypes()) {
    auto tensor = dyn_cast<RankedTensorType>(t);
    if (!tensor || !tensor.hasStaticShape())
      return failure();
    types.push_back(tensor);
  }

  // Failures here are not the model's errors: the caller leaves the
  // subgraph to run time.
  ScopedDiagnosticHandler quiet(ctx, [](Diagnostic &) { return success(); });
  PassManager pm(ctx);
  PipelineOptions options;
  options.optLevel = 0;
  options.entryName = "lathe_fold_entry";
  buildPipeline(pm, PipelineStage::LLVMDialect, options);
  if (failed(pm.run(module)))
    return failure();
  uint64_t arenaBytes = 0;
  if (auto a = module->getAttrOfType<IntegerAttr>("lathe.arena_bytes"))
    arenaBytes = a.getInt();
  std::string error;
  auto jit = JitModule::create(module, options.entryName, error);
  if (!jit)
    return failure();

  Buffer arena = allocate(arenaBytes);
  std::vector<Buffer> outputs;
  std::vector<void *> pointers;
  for (RankedTensorType type : types) {
    outputs.push_back(allocate(storageBytes(type)));
    pointers.push_back(outputs.back().get());
  }
  if (!arena || llvm::any_of(outputs, [](const Buffer &b) { return !b; }))
    return failure();
  jit->entry()(arena.get(), nullptr, pointers.data());
  for (auto [type, buffer] : llvm::zip(types, outputs))
    results.push_back(toAttr(type, buffer.get()));
  return success();
}

} // namespace

void registerCpuConstantEvaluator() {
  // Contexts may be created on several threads (one Session each); the
  // evaluator is set once.
  static std::once_flag once;
  std::call_once(once, [] { setConstantEvaluator(evaluateOnCpu); });
}

} // namespace lathe
