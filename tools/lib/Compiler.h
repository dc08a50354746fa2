// The compiler driver shared by the CLI and the Session API: import a model
// and run the pipeline to a given stage, with errors as one line.
#ifndef LATHE_TOOLS_COMPILER_H
#define LATHE_TOOLS_COMPILER_H

#include "frontend/Importer.h"
#include "passes/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <memory>
#include <string>

namespace lathe {

struct CompileRequest {
  std::string modelPath;
  ImportOptions import;
  PipelineStage stage = PipelineStage::LLVMDialect;
  PipelineOptions pipeline;
  bool printIRAfterAll = false;
};

/// An MLIR context with every dialect the compiler uses registered.
std::unique_ptr<mlir::MLIRContext> createCompilerContext();

/// Imports and lowers. `importSeconds`/`compileSeconds` get the time spent.
bool compileModel(mlir::MLIRContext &ctx, const CompileRequest &request,
                  mlir::OwningOpRef<mlir::ModuleOp> &module,
                  ImportResult &imported, std::string &error,
                  double *importSeconds = nullptr,
                  double *passSeconds = nullptr);

} // namespace lathe

#endif // LATHE_TOOLS_COMPILER_H
