#include "codegen/cpu/CpuBackend.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/SmallVectorMemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/Transforms/Utils/SplitModule.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <thread>

using namespace mlir;

namespace lathe {

namespace {

/// LLVM's -O2 pipeline. The kernels are vector code already; -O3 differs by
/// its unrolling threshold (300 against 150), which made MobileNetV2's
/// kernels 3-4 times as costly to optimise (16 s against 7 s to compile)
/// for no speed-up measurable here (ResNet-18, its layers alone, the
/// MLPs, SGEMM and the LSTM, paired runs on 2026-11-22).
constexpr unsigned kOptLevel = 2;

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
    auto transformer = makeOptimizingTransformer(kOptLevel, 0, &tm);
    if (llvm::Error e = transformer(llvmModule.get())) {
      error = llvm::toString(std::move(e));
      return nullptr;
    }
  }
  return llvmModule;
}

/// Assembly or object code of `m` for `tm`'s CPU, into `out`.
bool emitFile(llvm::TargetMachine &tm, llvm::Module &m,
              llvm::CodeGenFileType type, llvm::SmallVectorImpl<char> &out,
              std::string &error) {
  llvm::raw_svector_ostream os(out);
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, os, nullptr, type)) {
    error = "the target cannot emit this kind of file";
    return false;
  }
  pm.run(m);
  return true;
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
  if (!emitFile(*tm, *llvmModule, llvm::CodeGenFileType::AssemblyFile, buffer,
                error))
    return false;
  out = buffer.str().str();
  return true;
}

namespace {

/// Threads that optimise and generate code in parallel: the cores, at most
/// 8, and 1 for a small module (a constant folded at compile time), where
/// the split and the threads would cost more than they save.
unsigned codegenThreads(const llvm::Module &m) {
  size_t instructions = 0;
  for (const llvm::Function &f : m)
    instructions += f.getInstructionCount();
  if (instructions < 20000)
    return 1;
  return std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
}

/// Optimises (-O2) and compiles one partition, given as bitcode, to an
/// object file in memory, in a context of its own (LLVM contexts are not
/// shared across threads). Its functions carry the target attributes
/// `translate` set before the split.
bool compilePartition(llvm::StringRef bitcode, const CpuTarget &target,
                      llvm::SmallVectorImpl<char> &object, std::string &error) {
  llvm::LLVMContext ctx;
  auto module = llvm::parseBitcodeFile(
      llvm::MemoryBufferRef(bitcode, "lathe-partition"), ctx);
  if (!module) {
    error = llvm::toString(module.takeError());
    return false;
  }
  auto tm = createTargetMachine(target, error);
  if (!tm)
    return false;
  if (llvm::Error e =
          makeOptimizingTransformer(kOptLevel, 0, tm.get())(module->get())) {
    error = llvm::toString(std::move(e));
    return false;
  }
  return emitFile(*tm, **module, llvm::CodeGenFileType::ObjectFile, object,
                  error);
}

/// Large constants (weights) of a JIT-compiled module: their bytes live
/// here, outside the generated code.
struct HostConstant {
  std::string name;
  std::unique_ptr<char[], void (*)(char *)> bytes{nullptr, nullptr};
};

/// The bytes of a global's initializer, when they are laid out as in memory
/// (whole-byte elements, not a splat).
std::optional<llvm::ArrayRef<char>> rawBytes(Attribute value) {
  auto elements = dyn_cast_or_null<ElementsAttr>(value);
  if (!elements)
    return std::nullopt;
  Type et = elements.getElementType();
  if (!et.isIntOrFloat() || et.getIntOrFloatBitWidth() % 8 != 0)
    return std::nullopt;
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    return blob->getData();
  }
  auto dense = dyn_cast<DenseElementsAttr>(value);
  if (!dense || dense.isSplat())
    return std::nullopt;
  return dense.getRawData();
}

/// Moves every constant global of at least `minBytes` out of `module`: its
/// bytes are copied into a 64-byte aligned host buffer and the global
/// becomes an external declaration the JIT resolves to it. Emitting,
/// splitting and linking ResNet-18's 45 MB of weights as object data cost
/// about a second; the kernels only ever load from them.
std::vector<HostConstant> hoistConstants(ModuleOp module, size_t minBytes) {
  std::vector<HostConstant> out;
  module.walk([&](LLVM::GlobalOp global) {
    if (!global.getConstant())
      return;
    std::optional<llvm::ArrayRef<char>> bytes =
        rawBytes(global.getValueOrNull());
    if (!bytes || bytes->size() < minBytes)
      return;
    HostConstant c;
    c.name = global.getSymName().str();
    c.bytes = {static_cast<char *>(
                   std::aligned_alloc(64, (bytes->size() + 63) / 64 * 64)),
               [](char *p) { std::free(p); }};
    std::memcpy(c.bytes.get(), bytes->data(), bytes->size());
    out.push_back(std::move(c));
    global.removeValueAttr();
    global.setLinkage(LLVM::Linkage::External);
    global.setVisibility_(LLVM::Visibility::Default);
  });
  return out;
}

} // namespace

struct JitModule::Impl {
  std::unique_ptr<llvm::orc::LLJIT> jit;
  std::vector<HostConstant> constants;
};

JitModule::JitModule() : impl_(std::make_unique<Impl>()) {}
JitModule::~JitModule() = default;

// The module is split into one partition per core (llvm::SplitModule, as
// LTO's parallel code generation does: kernels are separate functions, so
// little crosses partitions), each optimised and compiled to an object on a
// thread of its own, and the objects are linked in process by ORC. LLVM
// optimisation and code generation of ResNet-18's ~150 kernels took ~7 s on
// one thread.
std::unique_ptr<JitModule> JitModule::create(ModuleOp module,
                                             const std::string &entryName,
                                             std::string &error) {
  initLLVM();
  CpuTarget target = hostCpuTarget();
  std::vector<llvm::SmallString<0>> partitions;
  OwningOpRef<ModuleOp> copy(module.clone());
  std::vector<HostConstant> constants =
      hoistConstants(*copy, /*minBytes=*/16384);
  {
    auto tm = createTargetMachine(target, error);
    if (!tm)
      return nullptr;
    llvm::LLVMContext ctx;
    auto llvmModule = translate(*copy, ctx, *tm, /*optimize=*/false, error);
    if (!llvmModule)
      return nullptr;
    unsigned threads = codegenThreads(*llvmModule);
    auto keep = [&](std::unique_ptr<llvm::Module> part) {
      llvm::raw_svector_ostream os(partitions.emplace_back());
      llvm::WriteBitcodeToFile(*part, os);
    };
    if (threads > 1)
      llvm::SplitModule(*llvmModule, threads, keep,
                        /*PreserveLocals=*/false);
    else
      keep(std::move(llvmModule));
  }
  std::vector<llvm::SmallVector<char, 0>> objects(partitions.size());
  std::vector<std::string> errors(partitions.size());
  std::vector<char> ok(partitions.size(), 0);
  {
    std::vector<std::thread> workers;
    for (size_t i = 1; i < partitions.size(); ++i)
      workers.emplace_back([&, i] {
        ok[i] = compilePartition(partitions[i], target, objects[i], errors[i]);
      });
    ok[0] = compilePartition(partitions[0], target, objects[0], errors[0]);
    for (std::thread &t : workers)
      t.join();
  }
  for (size_t i = 0; i < partitions.size(); ++i)
    if (!ok[i]) {
      error = "code generation failed: " + errors[i];
      return nullptr;
    }

  auto jit = llvm::orc::LLJITBuilder().create();
  if (!jit) {
    error = "JIT: " + llvm::toString(jit.takeError());
    return nullptr;
  }
  llvm::orc::JITDylib &lib = (*jit)->getMainJITDylib();
  // The C library (memcpy, math functions) from this process, and the
  // runtime functions compiled code calls, resolved to this process's copy
  // of the runtime (the lathe binary need not export its symbols).
  auto process = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      (*jit)->getDataLayout().getGlobalPrefix());
  if (!process) {
    error = "JIT: " + llvm::toString(process.takeError());
    return nullptr;
  }
  lib.addGenerator(std::move(*process));
  llvm::orc::MangleAndInterner interner((*jit)->getExecutionSession(),
                                        (*jit)->getDataLayout());
  llvm::orc::SymbolMap symbols;
  symbols[interner("lathe_parallel_for")] = {
      llvm::orc::ExecutorAddr::fromPtr(&lathe_parallel_for),
      llvm::JITSymbolFlags::Exported};
  symbols[interner("lathe_profile_clock")] = {
      llvm::orc::ExecutorAddr::fromPtr(&lathe_profile_clock),
      llvm::JITSymbolFlags::Exported};
  for (const HostConstant &c : constants)
    symbols[interner(c.name)] = {
        llvm::orc::ExecutorAddr::fromPtr(c.bytes.get()),
        llvm::JITSymbolFlags::Exported};
  if (llvm::Error e = lib.define(llvm::orc::absoluteSymbols(symbols))) {
    error = "JIT: " + llvm::toString(std::move(e));
    return nullptr;
  }
  for (auto &object : objects)
    if (llvm::Error e = (*jit)->addObjectFile(
            std::make_unique<llvm::SmallVectorMemoryBuffer>(
                std::move(object), "lathe-kernels", false))) {
      error = "JIT: " + llvm::toString(std::move(e));
      return nullptr;
    }
  auto symbol = (*jit)->lookup(entryName);
  if (!symbol) {
    error = "JIT: entry point not found: " + llvm::toString(symbol.takeError());
    return nullptr;
  }
  std::unique_ptr<JitModule> result(new JitModule());
  result->entry_ = symbol->toPtr<lathe_entry_fn>();
  result->impl_->jit = std::move(*jit);
  result->impl_->constants = std::move(constants);
  return result;
}

void *JitModule::lookup(const std::string &symbol) const {
  auto address = impl_->jit->lookup(symbol);
  if (!address) {
    llvm::consumeError(address.takeError());
    return nullptr;
  }
  return address->toPtr<void *>();
}

} // namespace lathe
