// mlir-opt with the lathe dialect, lathe's passes and the upstream passes
// its pipeline uses.
#include "codegen/cpu/CpuBackend.h"
#include "passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  lathe::registerLathePipelines();
  mlir::DialectRegistry registry;
  lathe::registerCompilerDialects(registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "lathe optimizer driver\n", registry));
}
