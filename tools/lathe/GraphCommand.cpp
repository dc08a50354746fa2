// lathe graph MODEL -o FILE: the lathe-level graph as a Graphviz picture, so
// a person can look at what the graph passes did instead of reading IR.
#include "tools/lathe/Cli.h"
#include "tools/lathe/GraphInfo.h"

#include "tools/lib/Compiler.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace lathe::cli {

static const char *kGraphHelp =
    "usage: lathe graph MODEL -o FILE.dot|FILE.svg|FILE.png [options]\n"
    "\n"
    "Draws the lathe-level graph of MODEL with Graphviz: one node per op (op,\n"
    "ONNX node, result type), graph inputs and outputs, constants small and\n"
    "grey (dashed: made by compile-time folding), fusion groups as boxes.\n"
    ".svg and .png are rendered by Graphviz's `dot`, which must be on PATH.\n"
    "\n"
    "options:\n"
    "  -o FILE             where to write (.dot, .svg or .png)\n"
    "  --after=PASS        the graph right after lathe-level pass PASS (its\n"
    "                      first run; `lathe compile --list-passes` names "
    "them)\n"
    "  --before-passes     the graph as imported, before any pass\n"
    "  --shape NAME=DIMS   bind the dims of input NAME, e.g. x=1x3x32x32\n"
    "  --constants=MODE    nodes (every constant a node), notes (constants\n"
    "                      with one use written on their user) or auto\n"
    "                      (notes when the graph has more than 40 ops;\n"
    "                      the default)\n"
    "  -O0                 skip graph optimisation\n";

namespace {

/// Escapes text for a Graphviz HTML-like label.
std::string html(const std::string &text) {
  std::string out;
  for (char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

/// Escapes text for a quoted Graphviz string.
std::string quoted(const std::string &text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string shortKind(mlir::Operation *op) {
  return op->getName().stripDialect().str();
}

std::string argumentName(mlir::func::FuncOp func, unsigned i, bool result) {
  auto name = result
                  ? func.getResultAttrOfType<mlir::StringAttr>(i, "lathe.name")
                  : func.getArgAttrOfType<mlir::StringAttr>(i, "lathe.name");
  if (name)
    return name.str();
  return (result ? "output " : "input ") + std::to_string(i);
}

/// A constant drawn as a line on its only user instead of as a node.
bool drawnAsNote(mlir::Operation *op, bool notes) {
  return notes && isConstant(op) && op->hasOneUse();
}

std::string writeDot(mlir::func::FuncOp func, const std::string &title,
                     bool notes) {
  std::ostringstream os;
  os << "digraph lathe {\n"
     << "  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=12, "
        "labelloc=t, label="
     << quoted(title) << "];\n"
     << "  node [fontname=\"Helvetica\", fontsize=10];\n"
     << "  edge [color=\"#555555\", arrowsize=0.6];\n";

  llvm::DenseMap<mlir::Operation *, std::string> ids;
  unsigned next = 0;
  for (mlir::Operation &op : func.getBody().front())
    ids[&op] = "n" + std::to_string(next++);
  auto source = [&](mlir::Value v) -> std::string {
    if (auto arg = mlir::dyn_cast<mlir::BlockArgument>(v))
      return "in" + std::to_string(arg.getArgNumber());
    return ids.lookup(v.getDefiningOp());
  };

  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    os << "  in" << i
       << " [shape=invhouse, style=filled, fillcolor=\"#cfe3ff\", label=<<b>"
       << html(argumentName(func, i, false)) << "</b><br/>"
       << html(typeString(func.getArgument(i).getType())) << ">];\n";

  for (mlir::Operation &op : func.getBody().front()) {
    if (op.hasTrait<mlir::OpTrait::IsTerminator>()) {
      for (unsigned i = 0; i < op.getNumOperands(); ++i) {
        os << "  out" << i
           << " [shape=house, style=filled, fillcolor=\"#d3f2d3\", label=<<b>"
           << html(argumentName(func, i, true)) << "</b><br/>"
           << html(typeString(op.getOperand(i).getType())) << ">];\n";
      }
      continue;
    }
    if (drawnAsNote(&op, notes))
      continue;
    std::string node = nodeName(&op);
    if (isConstant(&op)) {
      bool folded = isFolded(&op);
      os << "  " << ids[&op] << " [shape=box, fontsize=8, height=0.2, "
         << (folded ? "style=\"filled,dashed\", fillcolor=\"#f7f7f7\", "
                      "color=\"#c8c8c8\", fontcolor=\"#b0b0b0\""
                    : "style=filled, fillcolor=\"#eeeeee\", "
                      "color=\"#bbbbbb\", fontcolor=\"#808080\"")
         << ", label=<" << (folded ? "folded " : "")
         << html(typeString(op.getResult(0).getType()))
         << (node.empty() ? "" : "<br/>" + html(node)) << ">];\n";
      continue;
    }
    os << "  " << ids[&op]
       << " [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", "
          "label=<<b>"
       << html(shortKind(&op)) << "</b>";
    if (!node.empty())
      os << "<br/>" << html(node);
    os << "<br/>" << html(resultTypes(&op));
    // Constants drawn as notes, identical ones once with a count.
    std::vector<std::pair<std::string, int>> noteCounts;
    for (mlir::Value operand : op.getOperands()) {
      mlir::Operation *def = operand.getDefiningOp();
      if (!def || !drawnAsNote(def, notes))
        continue;
      std::string line = std::string(isFolded(def) ? "folded " : "") +
                         "const " + typeString(operand.getType());
      auto it = std::find_if(noteCounts.begin(), noteCounts.end(),
                             [&](const auto &e) { return e.first == line; });
      if (it == noteCounts.end())
        noteCounts.push_back({line, 1});
      else
        ++it->second;
    }
    std::string noteLines;
    for (const auto &[line, count] : noteCounts)
      noteLines += "<br/>" + html(line) +
                   (count > 1 ? " x" + std::to_string(count) : "");
    if (!noteLines.empty())
      os << "<font point-size=\"8\" color=\"#909090\">" << noteLines
         << "</font>";
    os << ">];\n";
  }

  for (mlir::Operation &op : func.getBody().front()) {
    bool terminator = op.hasTrait<mlir::OpTrait::IsTerminator>();
    for (unsigned i = 0; i < op.getNumOperands(); ++i) {
      mlir::Value v = op.getOperand(i);
      mlir::Operation *def = v.getDefiningOp();
      if (def && drawnAsNote(def, notes))
        continue;
      std::string from = source(v);
      if (from.empty())
        continue;
      std::string to = terminator ? "out" + std::to_string(i) : ids[&op];
      os << "  " << from << " -> " << to;
      if (def && isConstant(def))
        os << " [color=\"#c0c0c0\", style=dashed]";
      os << ";\n";
    }
  }

  for (const FusionGroup &group : fusionGroups(func)) {
    os << "  subgraph cluster_" << group.id << " {\n"
       << "    label="
       << quoted("group " + std::to_string(group.id) +
                 (group.kind.empty() ? "" : " (" + group.kind + ")"))
       << "; fontsize=9; fontcolor=\"#b05a00\"; style=\"rounded,dashed\"; "
          "color=\"#e08000\";\n";
    for (mlir::Operation *op : group.ops)
      if (ids.count(op) && !drawnAsNote(op, notes))
        os << "    " << ids[op] << ";\n";
    os << "  }\n";
  }
  os << "}\n";
  return os.str();
}

std::string extensionOf(const std::string &path) {
  return llvm::sys::path::extension(path).lower();
}

/// Renders `dot` text into `output` (format from its extension) through a
/// temporary file, so `output` is either complete or untouched.
bool render(const std::string &dotProgram, const std::string &dotText,
            const std::string &output, std::string &error) {
  std::string format = extensionOf(output).substr(1);
  std::string base = output + ".tmp." + std::to_string(getpid());
  std::string dotFile = base + ".dot", imageFile = base + "." + format,
              errFile = base + ".err";
  auto cleanup = [&] {
    for (const std::string &f : {dotFile, imageFile, errFile})
      std::remove(f.c_str());
  };
  {
    std::ofstream out(dotFile, std::ios::binary);
    out << dotText;
    if (!out) {
      cleanup();
      error = output + ": cannot write a temporary file next to it";
      return false;
    }
  }
  std::string typeFlag = "-T" + format;
  llvm::SmallVector<llvm::StringRef, 6> args = {dotProgram, typeFlag, dotFile,
                                                "-o", imageFile};
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, std::nullopt,
                                                llvm::StringRef(errFile)};
  std::string execError;
  int rc = llvm::sys::ExecuteAndWait(dotProgram, args, std::nullopt, redirects,
                                     /*SecondsToWait=*/120, 0, &execError);
  if (rc != 0) {
    std::ifstream err(errFile);
    std::string line;
    std::getline(err, line);
    cleanup();
    error = output + ": graphviz's dot failed" +
            (line.empty() ? execError.empty() ? "" : ": " + execError
                          : ": " + line);
    return false;
  }
  if (std::rename(imageFile.c_str(), output.c_str()) != 0) {
    cleanup();
    error = output + ": cannot rename the temporary file into place";
    return false;
  }
  cleanup();
  return true;
}

} // namespace

int graphCommand(int argc, char **argv) {
  std::string model, output, after, constants = "auto";
  bool beforePasses = false;
  CompileRequest request;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kGraphHelp, stdout);
      return kOk;
    } else if ((arg == "-o" || arg == "--output") && i + 1 < argc) {
      output = argv[++i];
    } else if (arg.rfind("--after=", 0) == 0) {
      after = arg.substr(8);
      if (after.empty())
        return fail(kBadUsage, "--after expects a pass name, e.g. "
                               "--after=canonicalize");
    } else if (arg == "--after" && i + 1 < argc) {
      after = argv[++i];
    } else if (arg == "--before-passes") {
      beforePasses = true;
    } else if (arg == "--shape" && i + 1 < argc) {
      if (!addShape(argv[++i], request.import.shapes))
        return kBadUsage;
    } else if (arg.rfind("--constants=", 0) == 0) {
      constants = arg.substr(12);
      if (constants != "auto" && constants != "nodes" && constants != "notes")
        return fail(kBadUsage, "--constants must be auto, nodes or notes, "
                               "got '" +
                                   constants + "'");
    } else if (arg == "-O0" || arg == "--O0") {
      request.pipeline.optLevel = 0;
    } else if (!arg.empty() && arg[0] == '-') {
      return fail(kBadUsage,
                  "graph: unknown option or missing value '" + arg + "'");
    } else if (model.empty()) {
      model = arg;
    } else {
      return fail(kBadUsage, "graph: more than one model given");
    }
  }
  if (model.empty())
    return fail(kBadUsage, "graph: no model given (usage: lathe graph MODEL "
                           "-o FILE.dot|.svg|.png)");
  if (output.empty())
    return fail(kBadUsage, "graph: no output given (-o FILE.dot, FILE.svg or "
                           "FILE.png)");
  std::string ext = extensionOf(output);
  if (ext != ".dot" && ext != ".gv" && ext != ".svg" && ext != ".png")
    return fail(kBadUsage, "graph: -o must end in .dot, .gv, .svg or .png, "
                           "got '" +
                               output + "'");
  if (beforePasses && !after.empty())
    return fail(kBadUsage, "graph: --after and --before-passes exclude each "
                           "other");

  request.modelPath = model;
  request.stage = PipelineStage::Lathe;
  std::string title = llvm::sys::path::filename(model).str();
  if (beforePasses) {
    request.pipeline.optLevel = 0;
    title += ", as imported";
  } else if (!after.empty()) {
    request.stopAfter = after;
    title += ", after " + after;
  } else {
    title += request.pipeline.optLevel == 0 ? ", -O0"
                                            : ", after the lathe-level passes";
  }

  auto ctx = createCompilerContext();
  if (!after.empty()) {
    std::vector<std::string> passes =
        pipelinePassNames(*ctx, request.stage, request.pipeline);
    if (std::find(passes.begin(), passes.end(), after) == passes.end()) {
      std::string all;
      for (const std::string &name : passes)
        if (("," + all + ",").find("," + name + ",") == std::string::npos)
          all += (all.empty() ? "" : ",") + name;
      return fail(kBadUsage,
                  "graph: no pass '" + after +
                      "' in the lathe-level pipeline (passes: " + all + ")");
    }
  }
  mlir::OwningOpRef<mlir::ModuleOp> module;
  ImportResult imported;
  std::string error;
  if (!compileModel(*ctx, request, module, imported, error))
    return fail(kBadInput, error);
  mlir::func::FuncOp func = graphFunction(*module);
  if (!func)
    return fail(kBadInput, model + ": the compiled module has no function");

  bool notes = constants == "notes" ||
               (constants == "auto" && computeOps(func).size() > 40);
  std::string dotText = writeDot(func, title, notes);

  if (ext == ".dot" || ext == ".gv") {
    if (!writeFileAtomic(output, dotText, error))
      return fail(kBadInput, error);
    return kOk;
  }
  llvm::ErrorOr<std::string> dot = llvm::sys::findProgramByName("dot");
  if (!dot) {
    llvm::SmallString<256> dotPath(output);
    llvm::sys::path::replace_extension(dotPath, ".dot");
    if (!writeFileAtomic(std::string(dotPath), dotText, error))
      return fail(kBadInput, error);
    return fail(kBadInput, "graphviz is needed to write " + output +
                               " (`dot` is not on PATH; install the graphviz "
                               "package); wrote " +
                               std::string(dotPath) + " instead");
  }
  if (!render(*dot, dotText, output, error))
    return fail(kBadInput, error);
  return kOk;
}

} // namespace lathe::cli
