// The CPU target: LLVM dialect → LLVM IR optimised for a CPU → JIT, assembly
// or (later) object code. Heavy LLVM/MLIR headers stay in the .cpp.
#ifndef LATHE_CODEGEN_CPU_CPUBACKEND_H
#define LATHE_CODEGEN_CPU_CPUBACKEND_H

#include "lathe/runtime.h"

#include <memory>
#include <string>

namespace mlir {
class DialectRegistry;
class ModuleOp;
} // namespace mlir

namespace lathe {

/// Registers every dialect, interface and translation the compiler uses.
void registerCompilerDialects(mlir::DialectRegistry &registry);

/// Makes the CPU JIT the evaluator of lathe-fold-constants (called by
/// registerCompilerDialects, so every compiler context folds).
void registerCpuConstantEvaluator();

/// Name and features of the CPU code is generated for ("native" = host).
struct CpuTarget {
  std::string triple, cpu, features;
};
CpuTarget hostCpuTarget();

/// Lowers an LLVM-dialect module to textual LLVM IR (optimised at -O2 for
/// the host CPU when `optimize`) or to host assembly.
bool emitLLVMIR(mlir::ModuleOp module, bool optimize, std::string &out,
                std::string &error);
bool emitAssembly(mlir::ModuleOp module, std::string &out, std::string &error);

/// JIT-compiled code of one model, alive as long as this object.
class JitModule {
public:
  static std::unique_ptr<JitModule> create(mlir::ModuleOp module,
                                           const std::string &entryName,
                                           std::string &error);
  ~JitModule();
  lathe_entry_fn entry() const { return entry_; }
  /// Address of a symbol of the compiled code (a function or a public
  /// global), null when there is none.
  void *lookup(const std::string &symbol) const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  lathe_entry_fn entry_ = nullptr;
  JitModule();
};

} // namespace lathe

#endif // LATHE_CODEGEN_CPU_CPUBACKEND_H
