#include "codegen/cpu/CpuBackend.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;

namespace lathe {

namespace {

void initLLVM() {
  static bool done = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
    return true;
  }();
  (void)done;
}

std::unique_ptr<llvm::TargetMachine> createTargetMachine(const CpuTarget &t,
                                                         std::string &error) {
  initLLVM();
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(t.triple, error);
  if (!target)
    return nullptr;
  llvm::TargetOptions options;
  return std::unique_ptr<llvm::TargetMachine>(target->createTargetMachine(
      t.triple, t.cpu, t.features, options, llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
}

/// Function attributes make the CPU choice visible to every LLVM pass.
void setTargetAttributes(llvm::Module &m, llvm::TargetMachine &tm) {
  for (llvm::Function &f : m) {
    if (f.isDeclaration())
      continue;
    f.addFnAttr("target-cpu", tm.getTargetCPU());
    f.addFnAttr("target-features", tm.getTargetFeatureString());
  }
}

std::unique_ptr<llvm::Module> translate(ModuleOp module, llvm::LLVMContext &ctx,
                                        llvm::TargetMachine &tm, bool optimize,
                                        std::string &error) {
  auto llvmModule = translateModuleToLLVMIR(module, ctx, "lathe");
  if (!llvmModule) {
    error = "translation to LLVM IR failed";
    return nullptr;
  }
  llvmModule->setDataLayout(tm.createDataLayout());
  llvmModule->setTargetTriple(tm.getTargetTriple().str());
  setTargetAttributes(*llvmModule, tm);
  if (optimize) {
    auto transformer = makeOptimizingTransformer(3, 0, &tm);
    if (llvm::Error e = transformer(llvmModule.get())) {
      error = llvm::toString(std::move(e));
      return nullptr;
    }
  }
  return llvmModule;
}

} // namespace

CpuTarget hostCpuTarget() {
  CpuTarget t;
  t.triple = llvm::sys::getDefaultTargetTriple();
  t.cpu = llvm::sys::getHostCPUName().str();
  std::string list;
  for (const auto &f : llvm::sys::getHostCPUFeatures())
    list += (list.empty() ? "" : ",") + std::string(f.second ? "+" : "-") +
            f.first().str();
  t.features = list;
  return t;
}

bool emitLLVMIR(ModuleOp module, bool optimize, std::string &out,
                std::string &error) {
  auto tm = createTargetMachine(hostCpuTarget(), error);
  if (!tm)
    return false;
  llvm::LLVMContext ctx;
  auto llvmModule = translate(module, ctx, *tm, optimize, error);
  if (!llvmModule)
    return false;
  llvm::raw_string_ostream os(out);
  llvmModule->print(os, nullptr);
  return true;
}

bool emitAssembly(ModuleOp module, std::string &out, std::string &error) {
  auto tm = createTargetMachine(hostCpuTarget(), error);
  if (!tm)
    return false;
  llvm::LLVMContext ctx;
  auto llvmModule = translate(module, ctx, *tm, true, error);
  if (!llvmModule)
    return false;
  llvm::SmallString<0> buffer;
  llvm::raw_svector_ostream os(buffer);
  llvm::legacy::PassManager pm;
  if (tm->addPassesToEmitFile(pm, os, nullptr,
                              llvm::CodeGenFileType::AssemblyFile)) {
    error = "the target cannot emit assembly";
    return false;
  }
  pm.run(*llvmModule);
  out = buffer.str().str();
  return true;
}

struct JitModule::Impl {
  std::unique_ptr<ExecutionEngine> engine;
};

JitModule::JitModule() : impl_(std::make_unique<Impl>()) {}
JitModule::~JitModule() = default;

std::unique_ptr<JitModule> JitModule::create(ModuleOp module,
                                             const std::string &entryName,
                                             std::string &error) {
  initLLVM();
  CpuTarget target = hostCpuTarget();
  auto tm = createTargetMachine(target, error);
  if (!tm)
    return nullptr;
  ExecutionEngineOptions options;
  llvm::TargetMachine *tmPtr = tm.get();
  auto optimize = makeOptimizingTransformer(3, 0, tmPtr);
  std::function<llvm::Error(llvm::Module *)> transformer =
      [&](llvm::Module *m) {
        setTargetAttributes(*m, *tmPtr);
        return optimize(m);
      };
  options.transformer = transformer;
  options.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  auto engine = ExecutionEngine::create(module, options, std::move(tm));
  if (!engine) {
    error = "JIT compilation failed: " + llvm::toString(engine.takeError());
    return nullptr;
  }
  // The runtime functions compiled code calls, resolved to this process's
  // copy of the runtime (the lathe binary need not export its symbols).
  (*engine)->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    symbols[interner("lathe_parallel_for")] = {
        llvm::orc::ExecutorAddr::fromPtr(&lathe_parallel_for),
        llvm::JITSymbolFlags::Exported};
    symbols[interner("lathe_profile_clock")] = {
        llvm::orc::ExecutorAddr::fromPtr(&lathe_profile_clock),
        llvm::JITSymbolFlags::Exported};
    return symbols;
  });
  auto symbol = (*engine)->lookup(entryName);
  if (!symbol) {
    error = "JIT: entry point not found: " + llvm::toString(symbol.takeError());
    return nullptr;
  }
  std::unique_ptr<JitModule> jit(new JitModule());
  jit->entry_ = reinterpret_cast<lathe_entry_fn>(*symbol);
  jit->impl_->engine = std::move(*engine);
  return jit;
}

void *JitModule::lookup(const std::string &symbol) const {
  auto address = impl_->engine->lookup(symbol);
  if (!address) {
    llvm::consumeError(address.takeError());
    return nullptr;
  }
  return *address;
}

} // namespace lathe
