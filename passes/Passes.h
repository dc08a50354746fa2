// Passes of lathe (declared in Passes.td) and the pipeline that strings them
// together with upstream MLIR passes.
#ifndef LATHE_PASSES_PASSES_H
#define LATHE_PASSES_PASSES_H

#include "mlir/Pass/Pass.h"

#include <memory>
#include <string>

namespace mlir {
class ModuleOp;
class PassManager;
namespace func {
class FuncOp;
}
} // namespace mlir

namespace lathe {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// Where the lowering pipeline stops (what `lathe compile --emit` shows).
enum class PipelineStage { Lathe, Linalg, LLVMDialect };

struct PipelineOptions {
  int optLevel = 1;
  std::string entryName = "lathe_entry";
  /// Time every kernel (pass lathe-instrument-kernels): two clock reads
  /// per kernel call, counters in the global kProfileCounters.
  bool profile = false;
};

/// What lathe-instrument-kernels leaves for the Session: the counters'
/// global (int64 [slots][2]: nanoseconds, calls) and the module attribute
/// describing the slots.
inline constexpr const char *kProfileCounters = "lathe_profile_counters";
inline constexpr const char *kProfileAttr = "lathe.profile";

/// Adds the passes from the lathe dialect down to `stage`.
void buildPipeline(mlir::PassManager &pm, PipelineStage stage,
                   const PipelineOptions &options);

/// Registers lathe's passes (registerLathePasses, generated) and the
/// `lathe-to-llvm` pipeline, for lathe-opt.
void registerLathePipelines();

} // namespace lathe

#endif // LATHE_PASSES_PASSES_H
