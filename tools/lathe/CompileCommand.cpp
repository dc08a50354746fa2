// lathe compile MODEL --emit=...: show what the compiler makes of a model at
// any stage, from the imported lathe dialect to host assembly.
#include "tools/lathe/Cli.h"

#include "codegen/cpu/CpuBackend.h"
#include "tools/lib/Compiler.h"

#include "mlir/IR/AsmState.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstdio>

namespace lathe::cli {

static const char *kCompileHelp =
    "usage: lathe compile MODEL [options]\n"
    "\n"
    "Compiles MODEL and prints (or writes with -o) the result of one stage.\n"
    "\n"
    "options:\n"
    "  --emit=STAGE           lathe (imported graph, after graph passes),\n"
    "                         linalg, llvm-dialect, llvm-ir (optimised for\n"
    "                         this CPU) or asm; default lathe\n"
    "  -o FILE                write to FILE instead of stdout\n"
    "  --shape NAME=DIMS      bind the dims of input NAME\n"
    "  -O0, --O0              skip graph optimisation\n"
    "  --print-locations      print each op's location (the ONNX node)\n"
    "  --print-ir-after-all   print the IR after every pass to stderr\n"
    "  --print-ir-before-all  print the IR before every pass to stderr\n"
    "  --print-ir-after=PASS[,PASS...]\n"
    "                         print the IR after the named passes to stderr\n"
    "  --print-ir-before=PASS[,PASS...]\n"
    "                         print the IR before the named passes to stderr\n"
    "  --dump-ir-dir=DIR      write the IR before the first pass and after\n"
    "                         each pass to DIR/NN-PASS.mlir\n"
    "  --time-passes          print each pass's wall time to stderr\n"
    "  --list-passes          print the pipeline's passes for --emit and "
    "exit\n";

/// Appends the comma-separated pass names of `value` to `list`.
static void addPassNames(const std::string &value,
                         std::vector<std::string> &list) {
  size_t pos = 0;
  while (pos <= value.size()) {
    size_t comma = value.find(',', pos);
    std::string name = value.substr(
        pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (!name.empty())
      list.push_back(name);
    if (comma == std::string::npos)
      break;
    pos = comma + 1;
  }
}

int compileCommand(int argc, char **argv) {
  std::string model, output, emit = "lathe";
  bool printLocations = false, listPasses = false;
  CompileRequest request;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kCompileHelp, stdout);
      return kOk;
    } else if (arg.rfind("--emit=", 0) == 0) {
      emit = arg.substr(7);
    } else if (arg == "--emit" && i + 1 < argc) {
      emit = argv[++i];
    } else if ((arg == "-o" || arg == "--output") && i + 1 < argc) {
      output = argv[++i];
    } else if (arg == "--shape" && i + 1 < argc) {
      if (!addShape(argv[++i], request.import.shapes))
        return kBadUsage;
    } else if (arg == "-O0" || arg == "--O0") {
      request.pipeline.optLevel = 0;
    } else if (arg == "--print-locations") {
      printLocations = true;
    } else if (arg == "--print-ir-after-all") {
      request.printIRAfterAll = true;
    } else if (arg == "--print-ir-before-all") {
      request.printIRBeforeAll = true;
    } else if (arg.rfind("--print-ir-after=", 0) == 0) {
      addPassNames(arg.substr(17), request.printIRAfter);
    } else if (arg.rfind("--print-ir-before=", 0) == 0) {
      addPassNames(arg.substr(18), request.printIRBefore);
    } else if (arg.rfind("--dump-ir-dir=", 0) == 0 && arg.size() > 14) {
      request.dumpIRDir = arg.substr(14);
    } else if (arg == "--dump-ir-dir" && i + 1 < argc) {
      request.dumpIRDir = argv[++i];
    } else if (arg == "--time-passes") {
      request.timePasses = true;
    } else if (arg == "--list-passes") {
      listPasses = true;
    } else if (!arg.empty() && arg[0] == '-') {
      return fail(kBadUsage,
                  "compile: unknown option or missing value '" + arg + "'");
    } else if (model.empty()) {
      model = arg;
    } else {
      return fail(kBadUsage, "compile: more than one model given");
    }
  }
  if (emit == "lathe")
    request.stage = PipelineStage::Lathe;
  else if (emit == "linalg")
    request.stage = PipelineStage::Linalg;
  else if (emit == "llvm-dialect" || emit == "llvm-ir" || emit == "asm")
    request.stage = PipelineStage::LLVMDialect;
  else
    return fail(kBadUsage, "--emit must be one of lathe, linalg, llvm-dialect, "
                           "llvm-ir, asm; got '" +
                               emit + "'");
  auto ctx = createCompilerContext();
  std::vector<std::string> passes =
      pipelinePassNames(*ctx, request.stage, request.pipeline);
  if (listPasses) {
    for (const std::string &name : passes)
      std::printf("%s\n", name.c_str());
    return kOk;
  }
  for (const auto *list : {&request.printIRAfter, &request.printIRBefore})
    for (const std::string &name : *list)
      if (std::find(passes.begin(), passes.end(), name) == passes.end())
        return fail(kBadUsage, "compile: no pass '" + name +
                                   "' in the pipeline for --emit=" + emit +
                                   " (see --list-passes)");
  if (model.empty())
    return fail(kBadUsage, "compile: no model given");
  request.modelPath = model;

  mlir::OwningOpRef<mlir::ModuleOp> module;
  ImportResult imported;
  std::string error;
  if (!compileModel(*ctx, request, module, imported, error))
    return fail(kBadInput, error);

  std::string text;
  if (emit == "llvm-ir") {
    if (!emitLLVMIR(*module, /*optimize=*/true, text, error))
      return fail(kBadInput, model + ": " + error);
  } else if (emit == "asm") {
    if (!emitAssembly(*module, text, error))
      return fail(kBadInput, model + ": " + error);
  } else {
    llvm::raw_string_ostream os(text);
    mlir::OpPrintingFlags flags;
    flags.elideLargeElementsAttrs(16);
    if (printLocations)
      flags.enableDebugInfo();
    module->print(os, flags);
  }
  if (output.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return kOk;
  }
  if (!writeFileAtomic(output, text, error))
    return fail(kBadInput, error);
  return kOk;
}

} // namespace lathe::cli
