#include "tools/lib/Compiler.h"

#include "codegen/cpu/CpuBackend.h"
#include "ir/Location.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

using namespace mlir;

namespace lathe {

std::unique_ptr<MLIRContext> createCompilerContext() {
  DialectRegistry registry;
  registerCompilerDialects(registry);
  auto ctx = std::make_unique<MLIRContext>(registry);
  ctx->loadAllAvailableDialects();
  return ctx;
}

static double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

bool compileModel(MLIRContext &ctx, const CompileRequest &request,
                  OwningOpRef<ModuleOp> &module, ImportResult &imported,
                  std::string &error, double *importSeconds,
                  double *passSeconds) {
  auto start = std::chrono::steady_clock::now();
  ModuleOp m = importOnnxFile(ctx, request.modelPath, request.import, imported,
                              error);
  if (!m)
    return false;
  module = m;
  if (importSeconds)
    *importSeconds = secondsSince(start);

  start = std::chrono::steady_clock::now();
  std::string diagnostic;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
    if (d.getSeverity() == DiagnosticSeverity::Error && diagnostic.empty()) {
      std::string where = describeLocation(d.getLocation());
      if (where.empty() || where.find(request.modelPath) != 0)
        where = request.modelPath + (where.empty() ? "" : ": " + where);
      diagnostic = where + ": " + d.str();
      diagnostic = diagnostic.substr(0, diagnostic.find('\n'));
    }
    return success();
  });
  PassManager pm(&ctx);
  if (request.printIRAfterAll) {
    ctx.disableMultithreading();
    pm.enableIRPrinting(
        [](Pass *, Operation *) { return false; },
        [](Pass *, Operation *) { return true; },
        /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false,
        /*printAfterOnlyOnFailure=*/false, llvm::errs());
  }
  buildPipeline(pm, request.stage, request.pipeline);
  if (failed(pm.run(*module))) {
    error = diagnostic.empty()
                ? request.modelPath + ": compilation failed in the pass pipeline"
                : diagnostic;
    return false;
  }
  if (passSeconds)
    *passSeconds = secondsSince(start);
  return true;
}

} // namespace lathe
