// The compiler driver shared by the CLI and the Session API: import a model
// and run the pipeline to a given stage, with errors as one line.
#ifndef LATHE_TOOLS_COMPILER_H
#define LATHE_TOOLS_COMPILER_H

#include "frontend/Importer.h"
#include "lathe/Session.h"
#include "passes/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace lathe {

struct CompileRequest {
  std::string modelPath;
  /// Threads of the Session's thread pool (SessionOptions::threads).
  int threads = 0;
  ImportOptions import;
  PipelineStage stage = PipelineStage::LLVMDialect;
  PipelineOptions pipeline;
  /// IR printing to stderr, as mlir-opt's --print-ir-* flags: pass
  /// argument names (`lathe-fold-batchnorm`, `cse`, ...).
  bool printIRAfterAll = false;
  bool printIRBeforeAll = false;
  std::vector<std::string> printIRAfter;
  std::vector<std::string> printIRBefore;
  /// When set, the IR before the first pass and after every pass is written
  /// to DIR/NN-PASS.mlir (NN counts from 00 = the imported module).
  std::string dumpIRDir;
  /// Print each pass's wall time to stderr (as mlir-opt --mlir-timing).
  bool timePasses = false;
  /// When set, the module returned is the one right after the first run of
  /// this pass (`lathe graph --after=PASS`); an error when the pipeline to
  /// `stage` has no such pass.
  std::string stopAfter;
  /// When set, @main is replaced by its gradient function right after
  /// import (lathe-autodiff): its results are the outputs followed by
  /// `grad_<input>` for each input of `wrt`, and `imported.outputs` lists
  /// them so.
  std::optional<GradientRequest> gradients;
  /// When set, @main is put in its training form right after import (pass
  /// lathe-training-mode with this dropout seed; before `gradients`): one
  /// more input `lathe.step` (int64 scalar, last) and one output per
  /// running statistic of a batch normalisation, named like that input.
  std::optional<uint64_t> trainingModeSeed;
  /// Runs right after import (and `gradients`), before the pipeline: the
  /// training step appends its backward graph and optimizer here. It may
  /// change @main's signature; `imported.inputs`/`outputs` are then rebuilt
  /// from the `lathe.name` attributes of its arguments and results. Errors
  /// of passes it runs reach the diagnostic handler; others go in `error`.
  std::function<bool(mlir::ModuleOp, std::string &error)> afterImport;
};

/// Builds Sessions from a CompileRequest (Session::compile is this with the
/// request its SessionOptions describe).
class SessionFactory {
public:
  static std::unique_ptr<Session> create(const CompileRequest &request,
                                         std::string *error);
};

/// The argument names of the passes `buildPipeline` adds for `stage`, in
/// order (nested passes included, duplicates kept).
std::vector<std::string> pipelinePassNames(mlir::MLIRContext &ctx,
                                           PipelineStage stage,
                                           const PipelineOptions &options);

/// An MLIR context with every dialect the compiler uses registered.
std::unique_ptr<mlir::MLIRContext> createCompilerContext();

/// Imports and lowers. `importSeconds`/`compileSeconds` get the time spent.
bool compileModel(mlir::MLIRContext &ctx, const CompileRequest &request,
                  mlir::OwningOpRef<mlir::ModuleOp> &module,
                  ImportResult &imported, std::string &error,
                  double *importSeconds = nullptr,
                  double *passSeconds = nullptr);

/// Replaces @main of an imported module by its gradient function for
/// `request` (CompileRequest::gradients; tools/lib/Gradients.cpp); the
/// caller updates `imported` from the new signature. Errors of the pass reach
/// the context's diagnostic handler; name errors are returned in `error`.
bool differentiateMain(mlir::ModuleOp module, const GradientRequest &request,
                       const std::string &modelPath, ImportResult &imported,
                       std::string &error);

} // namespace lathe

#endif // LATHE_TOOLS_COMPILER_H
