// lathe inspect MODEL: what the graph passes did to a model (ops by kind
// before and after, parameters, FLOPs, fusion groups) and what the memory
// planner made of it, as text or JSON.
#include "tools/lathe/Cli.h"
#include "tools/lathe/GraphInfo.h"

#include "passes/CostModel.h"
#include "tools/lib/Compiler.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>

namespace lathe::cli {

static const char *kInspectHelp =
    "usage: lathe inspect MODEL [options]\n"
    "\n"
    "Compiles MODEL and reports what the compiler did: ops by kind before and\n"
    "after the graph passes, parameters, FLOPs per op and in total, fusion\n"
    "groups and kernels, arena bytes vs the naive sum of all buffers and the\n"
    "peak of simultaneously live bytes. FLOP rules: passes/CostModel.h.\n"
    "\n"
    "options:\n"
    "  --shape NAME=DIMS   bind the dims of input NAME, e.g. x=1x3x32x32\n"
    "  --memory            list every buffer of the arena plan (offset, size,\n"
    "                      live range, the node that writes it)\n"
    "  --json FILE|-       write the report as one JSON object to FILE (- for\n"
    "                      stdout, instead of the text report)\n"
    "  -O0, --O0           compile the \"after\" graph without optimisation\n";

namespace {

struct GraphStats {
  std::map<std::string, int64_t> ops; // kind -> count, constants left out
  int64_t opCount = 0;
  int64_t constants = 0, folded = 0;
  int64_t paramElements = 0, paramBytes = 0;
  int64_t flops = 0;
};

struct OpRow {
  std::string node, kind, type;
  int64_t flops = 0;
  bool estimated = false;
  std::optional<int64_t> group;
};

struct Buffer {
  std::optional<int64_t> offset, size, first, last;
  std::string node;
  std::optional<bool> inPlace;
};

struct MemoryPlan {
  std::optional<int64_t> arena, naive, peak;
  bool hasBuffers = false;
  std::vector<Buffer> buffers;
};

struct Report {
  std::string model;
  ImportResult imported;
  GraphStats before, after;
  std::vector<OpRow> rows; // the after-graph's ops, in order
  std::vector<FusionGroup> groups;
  std::vector<std::vector<std::string>> groupNodes, groupKinds;
  int64_t kernels = 0;
  MemoryPlan memory;
};

} // namespace

static GraphStats summarize(mlir::func::FuncOp func) {
  GraphStats stats;
  func.walk([&](mlir::Operation *op) {
    if (op == func.getOperation() ||
        op->hasTrait<mlir::OpTrait::IsTerminator>())
      return;
    if (isConstant(op)) {
      ++stats.constants;
      stats.folded += isFolded(op);
      if (!op->use_empty()) {
        stats.paramElements += constantElements(op);
        stats.paramBytes += constantBytes(op);
      }
      return;
    }
    ++stats.ops[op->getName().getStringRef().str()];
    ++stats.opCount;
    stats.flops += estimateFlops(op).flops;
  });
  return stats;
}

static std::optional<int64_t> intAttr(mlir::Operation *op,
                                      llvm::StringRef key) {
  if (auto a = op->getAttrOfType<mlir::IntegerAttr>(key))
    return a.getInt();
  return std::nullopt;
}

static MemoryPlan readMemoryPlan(mlir::ModuleOp module) {
  MemoryPlan plan;
  mlir::Operation *op = module.getOperation();
  plan.arena = intAttr(op, "lathe.arena_bytes");
  plan.naive = intAttr(op, "lathe.naive_bytes");
  plan.peak = intAttr(op, "lathe.peak_bytes");
  auto buffers = op->getAttrOfType<mlir::ArrayAttr>("lathe.buffers");
  if (!buffers)
    return plan;
  plan.hasBuffers = true;
  for (mlir::Attribute a : buffers) {
    auto dict = mlir::dyn_cast<mlir::DictionaryAttr>(a);
    if (!dict)
      continue;
    Buffer b;
    auto get = [&](llvm::StringRef key) -> std::optional<int64_t> {
      if (auto v = dict.getAs<mlir::IntegerAttr>(key))
        return v.getInt();
      return std::nullopt;
    };
    b.offset = get("offset");
    b.size = get("size");
    b.first = get("first");
    b.last = get("last");
    if (auto node = dict.getAs<mlir::StringAttr>("node"))
      b.node = node.str();
    if (auto inPlace = dict.getAs<mlir::BoolAttr>("in_place"))
      b.inPlace = inPlace.getValue();
    plan.buffers.push_back(b);
  }
  return plan;
}

/// printf into a std::string.
template <typename... Args>
static std::string strf(const char *format, Args... args) {
  int n = std::snprintf(nullptr, 0, format, args...);
  std::string out(n > 0 ? n : 0, '\0');
  std::snprintf(out.data(), out.size() + 1, format, args...);
  return out;
}

/// "1,234,567".
static std::string grouped(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return (n < 0 ? "-" : "") + out;
}

/// "3.63 G" (decimal prefixes).
static std::string human(double n) {
  const char *units[] = {"", " k", " M", " G", " T"};
  int u = 0;
  while (n >= 1000 && u < 4) {
    n /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u ? "%.2f%s" : "%.0f%s", n, units[u]);
  return buf;
}

static std::string orNotRecorded(const std::optional<int64_t> &v) {
  return v ? grouped(*v) + " bytes" : "not recorded";
}

static std::string ratio(const std::optional<int64_t> &a,
                         const std::optional<int64_t> &b) {
  if (!a || !b || *b == 0)
    return "";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", double(*a) / double(*b));
  return buf;
}

static std::string optString(const std::optional<int64_t> &v) {
  return v ? std::to_string(*v) : "?";
}

static void printText(const Report &r, bool memory, llvm::raw_ostream &os) {
  os << "model: " << r.model << "\n";
  for (const auto *list : {&r.imported.inputs, &r.imported.outputs}) {
    os << (list == &r.imported.inputs ? "inputs:" : "outputs:");
    for (const ValueInfo &v : *list) {
      std::string dims;
      for (int64_t d : v.shape)
        dims += (dims.empty() ? "" : "x") + std::to_string(d);
      os << " " << v.name << " " << dtypeName(v.dtype) << "[" << dims << "]";
    }
    os << "\n";
  }

  os << "\nops by kind                   before     after\n";
  std::map<std::string, int64_t> kinds = r.before.ops;
  for (const auto &[kind, n] : r.after.ops)
    kinds.try_emplace(kind, 0);
  for (const auto &[kind, n] : kinds) {
    auto it = r.after.ops.find(kind);
    int64_t after = it == r.after.ops.end() ? 0 : it->second;
    os << strf("  %-26s %7lld %9lld\n", kind.c_str(), (long long)n,
               (long long)after);
  }
  os << strf("  %-26s %7lld %9lld\n", "total", (long long)r.before.opCount,
             (long long)r.after.opCount);
  os << strf("  %-26s %7lld %9lld", "constants", (long long)r.before.constants,
             (long long)r.after.constants);
  os << " (" << r.after.folded << " folded)\n";

  os << "\nparameters: " << grouped(r.after.paramElements) << " elements, "
     << grouped(r.after.paramBytes)
     << " bytes (before the passes: " << grouped(r.before.paramElements)
     << " elements, " << grouped(r.before.paramBytes) << " bytes)\n";
  os << "FLOPs: " << grouped(r.after.flops) << " (" << human(r.after.flops)
     << "; before the passes: " << grouped(r.before.flops) << ")\n";

  os << "\nFLOPs per op (after the passes):\n";
  // The node goes last: ONNX node names can be long.
  size_t kindWidth = 2, typeWidth = 6;
  bool anyEstimated = false;
  for (const OpRow &row : r.rows) {
    kindWidth = std::max(kindWidth, row.kind.size());
    typeWidth = std::max(typeWidth, row.type.size());
    anyEstimated |= row.estimated;
  }
  os << strf("  %-*s  %-*s  %16s  %6s  %5s  %s\n", (int)kindWidth, "op",
             (int)typeWidth, "result", "FLOPs", "share", "group", "node");
  for (const OpRow &row : r.rows) {
    double share = r.after.flops ? 100.0 * row.flops / r.after.flops : 0;
    std::string group = row.group ? std::to_string(*row.group) : "-";
    os << strf("  %-*s  %-*s  %15s%s  %5.1f%%  %5s  %s\n", (int)kindWidth,
               row.kind.c_str(), (int)typeWidth, row.type.c_str(),
               grouped(row.flops).c_str(), row.estimated ? "*" : " ", share,
               group.c_str(), (row.node.empty() ? "-" : row.node).c_str());
  }
  os << strf("  %-*s  %15s\n", (int)(kindWidth + typeWidth + 2), "total",
             grouped(r.after.flops).c_str());
  if (anyEstimated)
    os << "  * no rule in passes/CostModel.h: 1 per output element\n";

  os << "\nfusion groups: " << r.groups.size() << "; kernels: " << r.kernels
     << " (groups + ops outside groups)\n";
  for (size_t g = 0; g < r.groups.size(); ++g) {
    os << "  group " << r.groups[g].id << " ("
       << (r.groups[g].kind.empty() ? "?" : r.groups[g].kind) << "):";
    for (size_t i = 0; i < r.groupNodes[g].size(); ++i)
      os << (i ? ", " : " ") << r.groupKinds[g][i] << " '" << r.groupNodes[g][i]
         << "'";
    os << "\n";
  }

  const MemoryPlan &m = r.memory;
  os << "\nmemory:\n";
  os << "  arena            " << orNotRecorded(m.arena) << "\n";
  os << "  naive (sum)      " << orNotRecorded(m.naive);
  if (!ratio(m.arena, m.naive).empty())
    os << "  (arena / naive = " << ratio(m.arena, m.naive) << ")";
  os << "\n  peak live        " << orNotRecorded(m.peak);
  if (!ratio(m.arena, m.peak).empty())
    os << "  (arena / peak = " << ratio(m.arena, m.peak) << ")";
  os << "\n";
  if (!memory)
    return;
  if (!m.hasBuffers) {
    os << "  buffers: not recorded (lathe.buffers)\n";
    return;
  }
  os << strf("  %12s %12s %6s %6s %8s  %s\n", "offset", "size", "first", "last",
             "in place", "node");
  for (const Buffer &b : m.buffers)
    os << strf("  %12s %12s %6s %6s %8s  %s\n",
               (b.offset ? grouped(*b.offset) : "?").c_str(),
               (b.size ? grouped(*b.size) : "?").c_str(),
               optString(b.first).c_str(), optString(b.last).c_str(),
               !b.inPlace   ? "?"
               : *b.inPlace ? "yes"
                            : "no",
               b.node.c_str());
}

static llvm::json::Value optJson(const std::optional<int64_t> &v) {
  return v ? llvm::json::Value(*v) : llvm::json::Value(nullptr);
}

static llvm::json::Value ratioJson(const std::optional<int64_t> &a,
                                   const std::optional<int64_t> &b) {
  if (!a || !b || *b == 0)
    return nullptr;
  return double(*a) / double(*b);
}

static llvm::json::Object statsJson(const GraphStats &s) {
  llvm::json::Object ops;
  for (const auto &[kind, n] : s.ops)
    ops[kind] = n;
  return llvm::json::Object{
      {"ops", std::move(ops)},
      {"op_count", s.opCount},
      {"constants", s.constants},
      {"folded_constants", s.folded},
      {"parameters", llvm::json::Object{{"elements", s.paramElements},
                                        {"bytes", s.paramBytes}}},
      {"flops", s.flops}};
}

static llvm::json::Value toJson(const Report &r) {
  auto values = [](const std::vector<ValueInfo> &list) {
    llvm::json::Array out;
    for (const ValueInfo &v : list)
      out.push_back(llvm::json::Object{{"name", v.name},
                                       {"dtype", dtypeName(v.dtype)},
                                       {"shape", llvm::json::Array(v.shape)}});
    return out;
  };
  llvm::json::Array ops;
  for (const OpRow &row : r.rows) {
    llvm::json::Object o{{"node", row.node},
                         {"op", row.kind},
                         {"type", row.type},
                         {"flops", row.flops},
                         {"fusion_group", optJson(row.group)}};
    if (row.estimated)
      o["estimated"] = true;
    ops.push_back(std::move(o));
  }
  llvm::json::Array groups;
  for (size_t g = 0; g < r.groups.size(); ++g) {
    llvm::json::Array members;
    for (size_t i = 0; i < r.groupNodes[g].size(); ++i)
      members.push_back(llvm::json::Object{{"node", r.groupNodes[g][i]},
                                           {"op", r.groupKinds[g][i]}});
    groups.push_back(llvm::json::Object{{"id", r.groups[g].id},
                                        {"kind", r.groups[g].kind},
                                        {"ops", std::move(members)}});
  }
  const MemoryPlan &m = r.memory;
  llvm::json::Value buffers = nullptr;
  if (m.hasBuffers) {
    llvm::json::Array list;
    for (const Buffer &b : m.buffers)
      list.push_back(llvm::json::Object{
          {"offset", optJson(b.offset)},
          {"size", optJson(b.size)},
          {"first", optJson(b.first)},
          {"last", optJson(b.last)},
          {"node", b.node},
          {"in_place", b.inPlace ? llvm::json::Value(*b.inPlace)
                                 : llvm::json::Value(nullptr)}});
    buffers = std::move(list);
  }
  return llvm::json::Object{
      {"model", r.model},
      {"inputs", values(r.imported.inputs)},
      {"outputs", values(r.imported.outputs)},
      {"before", statsJson(r.before)},
      {"after", statsJson(r.after)},
      {"ops", std::move(ops)},
      {"fusion", llvm::json::Object{{"groups", std::move(groups)},
                                    {"kernels", r.kernels}}},
      {"memory",
       llvm::json::Object{{"arena_bytes", optJson(m.arena)},
                          {"naive_bytes", optJson(m.naive)},
                          {"peak_bytes", optJson(m.peak)},
                          {"arena_over_naive", ratioJson(m.arena, m.naive)},
                          {"arena_over_peak", ratioJson(m.arena, m.peak)},
                          {"buffers", std::move(buffers)}}}};
}

int inspectCommand(int argc, char **argv) {
  std::string model, jsonPath;
  bool memory = false, jsonGiven = false;
  CompileRequest request;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kInspectHelp, stdout);
      return kOk;
    } else if (arg == "--shape" && i + 1 < argc) {
      if (!addShape(argv[++i], request.import.shapes))
        return kBadUsage;
    } else if (arg == "--memory") {
      memory = true;
    } else if (arg == "--json" && i + 1 < argc) {
      jsonPath = argv[++i];
      jsonGiven = true;
    } else if (arg.rfind("--json=", 0) == 0) {
      jsonPath = arg.substr(7);
      jsonGiven = true;
    } else if (arg == "-O0" || arg == "--O0") {
      request.pipeline.optLevel = 0;
    } else if (!arg.empty() && arg[0] == '-') {
      return fail(kBadUsage,
                  "inspect: unknown option or missing value '" + arg + "'");
    } else if (model.empty()) {
      model = arg;
    } else {
      return fail(kBadUsage, "inspect: more than one model given");
    }
  }
  if (model.empty())
    return fail(kBadUsage, "inspect: no model given (usage: lathe inspect "
                           "MODEL [options])");
  if (jsonGiven && jsonPath.empty())
    return fail(kBadUsage, "--json expects a file name or -");
  request.modelPath = model;

  Report report;
  report.model = model;
  auto ctx = createCompilerContext();
  std::string error;

  // Before: the imported graph with no optimisation.
  CompileRequest beforeRequest = request;
  beforeRequest.stage = PipelineStage::Lathe;
  beforeRequest.pipeline.optLevel = 0;
  mlir::OwningOpRef<mlir::ModuleOp> before;
  if (!compileModel(*ctx, beforeRequest, before, report.imported, error))
    return fail(kBadInput, error);
  report.before = summarize(graphFunction(*before));

  // After: every lathe-level pass.
  CompileRequest afterRequest = request;
  afterRequest.stage = PipelineStage::Lathe;
  mlir::OwningOpRef<mlir::ModuleOp> after;
  ImportResult imported;
  if (!compileModel(*ctx, afterRequest, after, imported, error))
    return fail(kBadInput, error);
  mlir::func::FuncOp func = graphFunction(*after);
  report.after = summarize(func);
  for (mlir::Operation *op : computeOps(func)) {
    OpCost cost = estimateFlops(op);
    report.rows.push_back({nodeName(op), op->getName().getStringRef().str(),
                           resultTypes(op), cost.flops, cost.estimated,
                           fusionGroup(op)});
  }
  report.groups = fusionGroups(func);
  int64_t grouped = 0;
  for (const FusionGroup &group : report.groups) {
    std::vector<std::string> nodes, kinds;
    for (mlir::Operation *op : group.ops) {
      nodes.push_back(nodeName(op));
      kinds.push_back(op->getName().getStringRef().str());
      grouped += !isConstant(op);
    }
    report.groupNodes.push_back(std::move(nodes));
    report.groupKinds.push_back(std::move(kinds));
  }
  report.kernels = static_cast<int64_t>(report.groups.size()) +
                   report.after.opCount - grouped;
  after = nullptr;

  // The memory plan, recorded on the module by the arena planner.
  CompileRequest planRequest = request;
  planRequest.stage = PipelineStage::LLVMDialect;
  mlir::OwningOpRef<mlir::ModuleOp> planned;
  ImportResult plannedImport; // the importer appends to a used one
  if (!compileModel(*ctx, planRequest, planned, plannedImport, error))
    return fail(kBadInput, error);
  report.memory = readMemoryPlan(*planned);

  if (jsonGiven) {
    std::string text;
    llvm::raw_string_ostream os(text);
    os << llvm::formatv("{0:2}", toJson(report)) << "\n";
    if (jsonPath == "-") {
      std::fwrite(text.data(), 1, text.size(), stdout);
      return kOk;
    }
    if (!writeFileAtomic(jsonPath, text, error))
      return fail(kBadInput, error);
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  printText(report, memory, os);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return kOk;
}

} // namespace lathe::cli
