// CompileRequest::trainingModeSeed: the imported @main is put in its
// training form by lathe-training-mode right after import, and the
// Session's input and output lists follow the function's new signature:
// the step counter `lathe.step` as the last input, and one output per
// updated running statistic, named like the input it updates.
#include "tools/lib/Compiler.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"

using namespace mlir;

namespace lathe {

bool applyTrainingMode(ModuleOp module, uint64_t seed,
                       const std::string &modelPath, ImportResult &imported,
                       std::string &error) {
  auto main = module.lookupSymbol<func::FuncOp>("main");
  unsigned oldResults = main.getNumResults();
  TrainingModeOptions options;
  options.seed = seed;
  PassManager pm(module.getContext());
  pm.addPass(createTrainingMode(options));
  if (failed(pm.run(module)))
    return false; // the diagnostic handler has the message

  imported.inputs.push_back({"lathe.step", DType::I64, {}});
  for (unsigned i = oldResults; i < main.getNumResults(); ++i) {
    auto name = main.getResultAttrOfType<StringAttr>(i, "lathe.name");
    auto input = llvm::find_if(imported.inputs, [&](const ValueInfo &v) {
      return name && v.name == name.getValue().str();
    });
    if (input == imported.inputs.end()) {
      error = modelPath + ": training mode: result " + std::to_string(i) +
              " names no input";
      return false;
    }
    imported.outputs.push_back(*input);
  }
  return true;
}

} // namespace lathe
