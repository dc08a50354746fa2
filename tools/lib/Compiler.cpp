#include "tools/lib/Compiler.h"

#include "codegen/cpu/CpuBackend.h"
#include "ir/Location.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstdio>
#include <unistd.h>

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

std::vector<std::string> pipelinePassNames(MLIRContext &ctx,
                                           PipelineStage stage,
                                           const PipelineOptions &options) {
  PassManager pm(&ctx);
  buildPipeline(pm, stage, options);
  // The textual form is the one complete listing of a nested pipeline:
  // "any(canonicalize{...},func.func(pass-a,pass-b),...)": a name before
  // '(' is the op a nested pipeline runs on, not a pass.
  std::string text;
  llvm::raw_string_ostream os(text);
  pm.printAsTextualPipeline(os);
  std::vector<std::string> names;
  std::string token;
  int braces = 0;
  auto flush = [&] {
    if (!token.empty())
      names.push_back(token);
    token.clear();
  };
  for (char c : text) {
    if (c == '{') {
      flush();
      ++braces;
    } else if (c == '}') {
      --braces;
    } else if (braces > 0) {
      continue;
    } else if (c == '(') {
      token.clear();
    } else if (c == ')' || c == ',' || c == ' ') {
      flush();
    } else {
      token += c;
    }
  }
  flush();
  return names;
}

namespace {

/// Writes the module before the first pass and after every pass into one
/// numbered file each, so a person can diff consecutive steps.
class DumpIRInstrumentation : public PassInstrumentation {
public:
  DumpIRInstrumentation(std::string dir, std::string *error)
      : dir(std::move(dir)), error(error) {}

  void runBeforePass(Pass *pass, Operation *op) override {
    if (!started) {
      started = true;
      dump("input", op);
    }
  }
  void runAfterPass(Pass *pass, Operation *op) override {
    if (!pass->getArgument().empty())
      dump(pass->getArgument().str(), op);
  }
  void runAfterPassFailed(Pass *pass, Operation *op) override {
    if (!pass->getArgument().empty())
      dump(pass->getArgument().str() + "-failed", op);
  }

private:
  void dump(const std::string &name, Operation *op) {
    while (op->getParentOp())
      op = op->getParentOp();
    char number[16];
    std::snprintf(number, sizeof(number), "%02u", counter++);
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, std::string(number) + "-" + name + ".mlir");
    std::string tmp =
        std::string(path.str()) + ".tmp." + std::to_string(getpid());
    {
      std::error_code ec;
      llvm::raw_fd_ostream out(tmp, ec);
      if (ec) {
        if (error->empty())
          *error = "cannot write " + tmp + ": " + ec.message();
        return;
      }
      OpPrintingFlags flags;
      flags.elideLargeElementsAttrs(16);
      op->print(out, flags);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0 && error->empty())
      *error = "cannot write " + std::string(path.str());
  }

  std::string dir;
  std::string *error;
  unsigned counter = 0;
  bool started = false;
};

/// Keeps a copy of the module right after the first run of one pass.
class SnapshotInstrumentation : public PassInstrumentation {
public:
  SnapshotInstrumentation(std::string pass, OwningOpRef<ModuleOp> *snapshot)
      : pass(std::move(pass)), snapshot(snapshot) {}

  void runAfterPass(Pass *p, Operation *op) override {
    if (*snapshot || p->getArgument() != pass)
      return;
    while (op->getParentOp())
      op = op->getParentOp();
    if (auto module = dyn_cast<ModuleOp>(op))
      *snapshot = module.clone();
  }

private:
  std::string pass;
  OwningOpRef<ModuleOp> *snapshot;
};

} // namespace

/// Sets up --print-ir-* and --dump-ir-dir; false (with `error`) on a pass
/// name the pipeline does not have or a directory that cannot be made.
static bool instrument(PassManager &pm, const CompileRequest &request,
                       std::string *dumpError, std::string &error) {
  MLIRContext &ctx = *pm.getContext();
  if (!request.printIRAfter.empty() || !request.printIRBefore.empty() ||
      !request.stopAfter.empty()) {
    std::vector<std::string> names =
        pipelinePassNames(ctx, request.stage, request.pipeline);
    llvm::StringSet<> known;
    for (const std::string &name : names)
      known.insert(name);
    std::vector<std::string> stopAfterList;
    if (!request.stopAfter.empty())
      stopAfterList.push_back(request.stopAfter);
    const std::vector<std::string> &stopAfter = stopAfterList;
    for (const auto *list :
         {&request.printIRAfter, &request.printIRBefore, &stopAfter})
      for (const std::string &name : *list)
        if (!known.contains(name)) {
          std::string all;
          for (const auto &entry : known)
            all += (all.empty() ? "" : ", ") + entry.getKey().str();
          error =
              "no pass '" + name + "' in the pipeline (passes: " + all + ")";
          return false;
        }
  }
  bool printing = request.printIRAfterAll || request.printIRBeforeAll ||
                  !request.printIRAfter.empty() ||
                  !request.printIRBefore.empty();
  if (printing || !request.dumpIRDir.empty())
    ctx.disableMultithreading();
  if (printing) {
    auto matches = [](const std::vector<std::string> &list, Pass *pass) {
      return std::find(list.begin(), list.end(), pass->getArgument().str()) !=
             list.end();
    };
    bool beforeAll = request.printIRBeforeAll,
         afterAll = request.printIRAfterAll;
    std::vector<std::string> before = request.printIRBefore,
                             after = request.printIRAfter;
    pm.enableIRPrinting(
        [=](Pass *pass, Operation *) {
          return beforeAll || matches(before, pass);
        },
        [=](Pass *pass, Operation *) {
          return afterAll || matches(after, pass);
        },
        /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false,
        /*printAfterOnlyOnFailure=*/false, llvm::errs());
  }
  if (!request.dumpIRDir.empty()) {
    if (std::error_code ec =
            llvm::sys::fs::create_directories(request.dumpIRDir)) {
      error = "cannot create " + request.dumpIRDir + ": " + ec.message();
      return false;
    }
    pm.addInstrumentation(
        std::make_unique<DumpIRInstrumentation>(request.dumpIRDir, dumpError));
  }
  return true;
}

/// The DType of a tensor element type, if the runtime has one.
static std::optional<DType> dtypeOf(Type t) {
  if (t.isF32())
    return DType::F32;
  if (t.isF64())
    return DType::F64;
  if (t.isF16())
    return DType::F16;
  if (t.isBF16())
    return DType::BF16;
  if (t.isInteger(1))
    return DType::Bool;
  if (auto i = dyn_cast<IntegerType>(t)) {
    bool u = i.isUnsigned();
    switch (i.getWidth()) {
    case 8:
      return u ? DType::U8 : DType::I8;
    case 16:
      return u ? DType::U16 : DType::I16;
    case 32:
      return u ? DType::U32 : DType::I32;
    case 64:
      return u ? DType::U64 : DType::I64;
    }
  }
  return std::nullopt;
}

/// Rebuilds imported.inputs/outputs from @main's signature and `lathe.name`
/// attributes (after CompileRequest::afterImport changed it), and the
/// module's lathe.num_inputs.
static bool syncSignature(ModuleOp module, ImportResult &imported,
                          std::string &error) {
  auto main = module.lookupSymbol<func::FuncOp>("main");
  auto describe = [&](Type type, StringAttr name, const char *what,
                      unsigned index, std::vector<ValueInfo> &into) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    std::optional<DType> dtype =
        tensor ? dtypeOf(tensor.getElementType()) : std::nullopt;
    if (!tensor || !tensor.hasStaticShape() || !dtype) {
      error = std::string(what) + " " + std::to_string(index) +
              " of the step function is not a static tensor of a runtime type";
      return false;
    }
    into.push_back(
        {name ? name.str() : std::string(what) + std::to_string(index), *dtype,
         std::vector<int64_t>(tensor.getShape().begin(),
                              tensor.getShape().end())});
    return true;
  };
  imported.inputs.clear();
  imported.outputs.clear();
  for (unsigned i = 0; i < main.getNumArguments(); ++i)
    if (!describe(main.getArgumentTypes()[i],
                  main.getArgAttrOfType<StringAttr>(i, "lathe.name"), "input",
                  i, imported.inputs))
      return false;
  for (unsigned i = 0; i < main.getNumResults(); ++i)
    if (!describe(main.getResultTypes()[i],
                  main.getResultAttrOfType<StringAttr>(i, "lathe.name"),
                  "output", i, imported.outputs))
      return false;
  module->setAttr(
      "lathe.num_inputs",
      Builder(module.getContext()).getI64IntegerAttr(main.getNumArguments()));
  return true;
}

bool compileModel(MLIRContext &ctx, const CompileRequest &request,
                  OwningOpRef<ModuleOp> &module, ImportResult &imported,
                  std::string &error, double *importSeconds,
                  double *passSeconds) {
  auto start = std::chrono::steady_clock::now();
  ModuleOp m =
      importOnnxFile(ctx, request.modelPath, request.import, imported, error);
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
  if (request.trainingModeSeed) {
    TrainingModeOptions options;
    options.seed = *request.trainingModeSeed;
    PassManager pm(&ctx);
    pm.addPass(createTrainingMode(options));
    if (failed(pm.run(*module))) {
      error = diagnostic.empty() ? request.modelPath + ": training mode failed"
                                 : diagnostic;
      return false;
    }
  }
  if (request.gradients &&
      !differentiateMain(*module, *request.gradients, request.modelPath,
                         imported, error)) {
    if (error.empty())
      error = diagnostic.empty()
                  ? request.modelPath + ": differentiation failed"
                  : diagnostic;
    return false;
  }
  if (request.afterImport && !request.afterImport(*module, error)) {
    if (error.empty())
      error = diagnostic.empty()
                  ? request.modelPath + ": building the training step failed"
                  : diagnostic;
    return false;
  }
  // The steps above may have changed @main's signature (a step counter,
  // running statistics, gradients, optimizer state): the Session's inputs
  // and outputs follow it.
  if ((request.trainingModeSeed || request.gradients || request.afterImport) &&
      !syncSignature(*module, imported, error)) {
    error = request.modelPath + ": " + error;
    return false;
  }
  PassManager pm(&ctx);
  std::string dumpError;
  if (!instrument(pm, request, &dumpError, error))
    return false;
  OwningOpRef<ModuleOp> snapshot;
  if (!request.stopAfter.empty()) {
    ctx.disableMultithreading();
    pm.addInstrumentation(std::make_unique<SnapshotInstrumentation>(
        request.stopAfter, &snapshot));
  }
  buildPipeline(pm, request.stage, request.pipeline);
  if (request.timePasses)
    pm.enableTiming();
  if (failed(pm.run(*module))) {
    error = diagnostic.empty() ? request.modelPath +
                                     ": compilation failed in the pass pipeline"
                               : diagnostic;
    return false;
  }
  if (!dumpError.empty()) {
    error = dumpError;
    return false;
  }
  if (snapshot)
    module = std::move(snapshot);
  if (passSeconds)
    *passSeconds = secondsSince(start);
  return true;
}

} // namespace lathe
