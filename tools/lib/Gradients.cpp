// SessionOptions::gradients: the imported @main is replaced by the gradient
// function lathe-autodiff builds from it, so the rest of the pipeline (and
// the entry point, the descriptor, the Session) compiles it like any model
// whose outputs happen to include gradients.
#include "tools/lib/Compiler.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"

using namespace mlir;

namespace lathe {

/// Position of `name` in `values`, or -1.
static int64_t indexOf(const std::vector<ValueInfo> &values,
                       const std::string &name) {
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i].name == name)
      return static_cast<int64_t>(i);
  return -1;
}

static std::string names(const std::vector<ValueInfo> &values) {
  std::string all;
  for (const ValueInfo &v : values)
    all += (all.empty() ? "" : ", ") + v.name;
  return all;
}

static bool isFloat(DType dtype) {
  return dtype == DType::F16 || dtype == DType::BF16 || dtype == DType::F32 ||
         dtype == DType::F64;
}

bool differentiateMain(ModuleOp module, const GradientRequest &request,
                       const std::string &modelPath, ImportResult &imported,
                       std::string &error) {
  // The importer makes one argument per graph input and one result per
  // graph output, in the order of imported.inputs/outputs.
  int64_t output = indexOf(imported.outputs, request.output);
  if (output < 0) {
    error =
        modelPath + ": gradient of '" + request.output +
        "': the model has no such output (outputs: " + names(imported.outputs) +
        ")";
    return false;
  }
  if (!isFloat(imported.outputs[output].dtype)) {
    error = modelPath + ": gradient of '" + request.output +
            "': the output is " + dtypeName(imported.outputs[output].dtype) +
            ", not a float tensor";
    return false;
  }
  if (request.wrt.empty()) {
    error = modelPath + ": gradient of '" + request.output +
            "': no input to differentiate with respect to";
    return false;
  }
  AutodiffOptions options;
  options.output = output;
  std::vector<int64_t> wrt;
  for (const std::string &name : request.wrt) {
    int64_t index = indexOf(imported.inputs, name);
    if (index < 0) {
      error =
          modelPath + ": gradient with respect to '" + name +
          "': the model has no such input (inputs: " + names(imported.inputs) +
          ")";
      return false;
    }
    if (!isFloat(imported.inputs[index].dtype)) {
      error = modelPath + ": gradient with respect to '" + name +
              "': the input is " + dtypeName(imported.inputs[index].dtype) +
              ", not a float tensor";
      return false;
    }
    if (llvm::is_contained(wrt, index)) {
      error = modelPath + ": gradient with respect to '" + name +
              "': the input is named twice";
      return false;
    }
    wrt.push_back(index);
  }
  options.wrt = wrt;

  PassManager pm(module.getContext());
  pm.addPass(createAutodiff(options));
  if (failed(pm.run(module)))
    return false; // the diagnostic handler has the message

  auto main = module.lookupSymbol<func::FuncOp>("main");
  auto grad = module.lookupSymbol<func::FuncOp>("main_grad");
  main.erase();
  grad.setSymName("main");
  return true;
}

} // namespace lathe
