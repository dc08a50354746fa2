// The conformance runner: ONNX's backend test cases through lathe.
//
//   lathe conformance [DIR...] [--filter REGEX] [--json FILE] [--expect FILE]
//                     [--write-expectations FILE] [--verbose]
//                     [--timeout SECONDS] [--no-fork]
//
// DIR is a directory of case directories (each holding model.onnx and
// test_data_set_*), or one case directory. Without DIR, the four suites of
// Debian's libonnx-testdata run: node, pytorch-converted, pytorch-operator and
// simple. A case is named "<suite>/<case>" (the suite is the name of its
// directory); the expectations file may leave out "node/".
//
// Outcomes:
//   pass         every output has ONNX's dtype, shape and values (Compare.cpp)
//   fail         wrong numbers (with the max abs/rel error), a run error, a
//                crash or a hang (each case runs in a forked child)
//   unsupported  lathe refuses the model: an op it does not import, a
//                non-tensor value, or an attribute value it rejects; the
//                first reason is shown
// The expectations file lists every case that does not pass, one per line,
// "name  reason". The run fails (exit 1) when a listed case passes (remove
// it: the list only shrinks) or an unlisted one does not (a regression).
// --write-expectations writes the file for the current state, keeping the
// reasons of cases already listed.

#include "Conformance.h"
#include "CaseRunner.h"
#include "Compare.h"

#include "onnx/onnx_pb.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace lathe {
// Declared by frontend/Importer.h; declared here so that the runner does not
// depend on the importer's (MLIR) header.
const std::vector<std::string> &supportedOnnxOps();
} // namespace lathe

namespace lathe::conformance {
namespace {

constexpr const char *kTestData = "/usr/share/libonnx-testdata/data";
const char *const kDefaultSuites[] = {"node", "pytorch-converted",
                                      "pytorch-operator", "simple"};

struct Options {
  std::vector<std::string> dirs;
  std::string expectFile, writeExpectFile, jsonFile, filter;
  bool verbose = false;
  bool fork = true;
  int timeoutSeconds = 300; // per case; 0 = none
};

enum class Outcome { Pass, Fail, Unsupported };

const char *outcomeName(Outcome o) {
  switch (o) {
  case Outcome::Pass:
    return "pass";
  case Outcome::Fail:
    return "fail";
  case Outcome::Unsupported:
    return "unsupported";
  }
  return "?";
}

struct Case {
  std::string suite, name; // "node", "test_relu"
  fs::path dir;
  std::string id() const { return suite + "/" + name; }
};

struct Result {
  Case c;
  Outcome outcome = Outcome::Fail;
  std::string reason;
  std::vector<std::string> ops;
  std::vector<std::string> dtypes; // of the graph's inputs and outputs
  double seconds = 0;
  bool listed = false;
};

//===----------------------------------------------------------------------===//
// Expectations file
//===----------------------------------------------------------------------===//

struct Expectation {
  std::string reason;
  int line = 0;
  bool seen = false;
};

std::string canonicalId(const std::string &name) {
  return name.find('/') == std::string::npos ? "node/" + name : name;
}

bool readExpectations(const std::string &path,
                      std::map<std::string, Expectation> &out,
                      std::vector<std::string> &errors) {
  std::ifstream in(path);
  if (!in)
    return false;
  std::string text;
  int lineNo = 0;
  while (std::getline(in, text)) {
    ++lineNo;
    std::string line = trim(text);
    if (line.empty() || line[0] == '#')
      continue;
    size_t sp = line.find_first_of(" \t");
    std::string id = canonicalId(line.substr(0, sp));
    std::string reason = sp == std::string::npos ? "" : trim(line.substr(sp));
    std::string at = path + ":" + std::to_string(lineNo) + ": ";
    if (reason.empty())
      errors.push_back(at + id + ": no reason given (every entry needs one)");
    auto it = out.find(id);
    if (it != out.end()) {
      errors.push_back(at + id + ": listed again (first on line " +
                       std::to_string(it->second.line) + ")");
      continue;
    }
    out[id] = {reason, lineNo, false};
  }
  return true;
}

bool writeExpectations(const std::string &path,
                       const std::vector<Result> &results,
                       const std::map<std::string, Expectation> &old) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << "# Cases of ONNX's backend tests that lathe does not pass, with "
           "the reason.\n"
           "# Checked by `lathe conformance --expect` (ctest: conformance): "
           "a listed case\n"
           "# that passes, or an unlisted one that does not, fails the run. "
           "Names without\n"
           "# a suite are node/ cases. Regenerate with "
           "--write-expectations (reasons of\n"
           "# listed cases are kept; edit new ones to say why).\n";
    std::string suite;
    for (const Result &r : results) {
      if (r.outcome == Outcome::Pass)
        continue;
      if (r.c.suite != suite) {
        suite = r.c.suite;
        out << "\n# " << suite << "\n";
      }
      auto it = old.find(r.c.id());
      std::string reason =
          it != old.end()
              ? it->second.reason
              : std::string(outcomeName(r.outcome)) + ": " + r.reason;
      std::string name = suite == "node" ? r.c.name : r.c.id();
      out << name << std::string(name.size() < 48 ? 48 - name.size() : 1, ' ')
          << oneLine(reason) << "\n";
    }
    if (!out)
      return false;
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  return !ec;
}

//===----------------------------------------------------------------------===//
// JSON
//===----------------------------------------------------------------------===//

std::string jsonString(const std::string &s) {
  std::string out = "\"";
  for (unsigned char ch : s) {
    switch (ch) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (ch < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", ch);
        out += buf;
      } else {
        out += static_cast<char>(ch);
      }
    }
  }
  return out + "\"";
}

bool writeJson(const std::string &path, const std::vector<Result> &results) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << "{\"cases\": [\n";
    for (size_t i = 0; i < results.size(); ++i) {
      const Result &r = results[i];
      out << "  {\"suite\": " << jsonString(r.c.suite)
          << ", \"name\": " << jsonString(r.c.name)
          << ", \"status\": " << jsonString(outcomeName(r.outcome))
          << ", \"reason\": " << jsonString(r.reason)
          << ", \"expected_failure\": " << (r.listed ? "true" : "false")
          << ", \"seconds\": " << formatDouble(r.seconds) << ", \"ops\": [";
      for (size_t j = 0; j < r.ops.size(); ++j)
        out << (j ? ", " : "") << jsonString(r.ops[j]);
      out << "], \"dtypes\": [";
      for (size_t j = 0; j < r.dtypes.size(); ++j)
        out << (j ? ", " : "") << jsonString(r.dtypes[j]);
      out << "]}" << (i + 1 < results.size() ? ",\n" : "\n");
    }
    out << "]}\n";
    if (!out)
      return false;
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  return !ec;
}

//===----------------------------------------------------------------------===//
// Command line
//===----------------------------------------------------------------------===//

void usage(std::ostream &os, const char *prog) {
  os << "usage: " << prog
     << " [DIR...] [--filter REGEX] [--json FILE] [--expect FILE]\n"
        "       [--write-expectations FILE] [--verbose] [--timeout SECONDS] "
        "[--no-fork] [--O0]\n"
        "\n"
        "Runs ONNX's backend test cases through lathe and compares the "
        "outputs with ONNX's.\n"
        "  DIR                  a directory of cases, or one case (default: "
     << kTestData
     << "/{node,pytorch-converted,pytorch-operator,simple})\n"
        "  --filter REGEX       run only cases whose suite/name matches\n"
        "  --json FILE          write every case's outcome, reason and ops\n"
        "  --expect FILE        cases known not to pass: lines 'name  reason'\n"
        "  --write-expectations FILE  write the cases that do not pass "
        "(keeps known reasons)\n"
        "  --verbose            list every case, with the compiler's output "
        "on failures\n"
        "  --timeout SECONDS    per-case time limit (default 300, 0 = none)\n"
        "  --no-fork            run cases in this process (for debugging)\n"
        "  --O0                 compile without graph optimisation\n";
}

int parseArgs(int argc, char **argv, int first, const char *prog,
              Options &opts) {
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string &into) {
      if (i + 1 >= argc) {
        std::cerr << prog << ": error: " << arg << " needs a value\n";
        return false;
      }
      into = argv[++i];
      return true;
    };
    if (arg == "--data") { // kept for scripts written for the old runner
      std::string d;
      if (!value(d))
        return 2;
      opts.dirs.push_back(d);
    } else if (arg == "--expect") {
      if (!value(opts.expectFile))
        return 2;
    } else if (arg == "--write-expectations") {
      if (!value(opts.writeExpectFile))
        return 2;
    } else if (arg == "--json") {
      if (!value(opts.jsonFile))
        return 2;
    } else if (arg == "--filter") {
      if (!value(opts.filter))
        return 2;
    } else if (arg == "--timeout") {
      std::string v;
      if (!value(v))
        return 2;
      char *end = nullptr;
      long t = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end || t < 0 || t > 86400) {
        std::cerr << prog << ": error: bad --timeout '" << v << "'\n";
        return 2;
      }
      opts.timeoutSeconds = static_cast<int>(t);
    } else if (arg == "--verbose" || arg == "-v") {
      opts.verbose = true;
    } else if (arg == "--no-fork") {
      opts.fork = false;
    } else if (arg == "--O0" || arg == "-O0") {
      setCaseOptLevel(0);
    } else if (arg == "--help" || arg == "-h") {
      usage(std::cout, prog);
      return 0;
    } else if (!arg.empty() && arg[0] == '-') {
      std::cerr << prog << ": error: unknown option '" << arg
                << "' (try --help)\n";
      return 2;
    } else {
      opts.dirs.push_back(arg);
    }
  }
  return -1;
}

std::string joined(const std::vector<std::string> &items) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i)
    s += (i ? ", " : "") + items[i];
  return s;
}

bool isCaseDir(const fs::path &p) {
  std::error_code ec;
  return fs::is_directory(p, ec) && fs::is_regular_file(p / "model.onnx", ec);
}

/// The cases under `dir` (or `dir` itself), sorted by name.
bool collectCases(const fs::path &dir, std::vector<Case> &cases,
                  std::string &error) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    error = dir.string() + ": not a directory";
    return false;
  }
  fs::path clean = dir.lexically_normal();
  if (clean.filename().empty())
    clean = clean.parent_path();
  if (isCaseDir(clean)) {
    cases.push_back({clean.parent_path().filename().string(),
                     clean.filename().string(), clean});
    return true;
  }
  std::vector<Case> found;
  for (const fs::directory_entry &entry : fs::directory_iterator(clean, ec))
    if (isCaseDir(entry.path()))
      found.push_back({clean.filename().string(),
                       entry.path().filename().string(), entry.path()});
  if (ec) {
    error = dir.string() + ": " + ec.message();
    return false;
  }
  if (found.empty()) {
    error = dir.string() + ": no case directories (with model.onnx) in it";
    return false;
  }
  std::sort(found.begin(), found.end(),
            [](const Case &a, const Case &b) { return a.name < b.name; });
  cases.insert(cases.end(), found.begin(), found.end());
  return true;
}

/// Compile errors that are lathe refusing the model (a clean diagnostic from
/// the importer) rather than a compiler defect.
bool isRefusal(const std::string &reason) {
  if (reason.rfind("compile error: ", 0) != 0)
    return false;
  for (const char *marker :
       {"not supported", "unsupported", "not implemented", "must be a constant",
        "must be a compile-time constant", "lathe handles tensors only",
        "is not in [", "does not support"})
    if (reason.find(marker) != std::string::npos)
      return true;
  return false;
}

/// Element types of the graph's tensor inputs and outputs ("FLOAT", ...).
std::vector<std::string> graphDtypes(const fs::path &modelPath) {
  std::set<std::string> names;
  onnx::ModelProto model;
  std::ifstream in(modelPath, std::ios::binary);
  if (!in || !model.ParseFromIstream(&in))
    return {};
  auto add = [&](const onnx::ValueInfoProto &vi) {
    if (vi.type().has_tensor_type())
      names.insert(onnx::TensorProto_DataType_Name(
          static_cast<onnx::TensorProto_DataType>(
              vi.type().tensor_type().elem_type())));
  };
  for (const onnx::ValueInfoProto &vi : model.graph().input())
    add(vi);
  for (const onnx::ValueInfoProto &vi : model.graph().output())
    add(vi);
  return {names.begin(), names.end()};
}

Result runOne(const Case &c, const std::set<std::string> &supported,
              const Options &opts) {
  Result r;
  r.c = c;
  ModelInfo info;
  std::string error;
  bool parsed = false;
  try {
    parsed = readModelInfo(c.dir / "model.onnx", info, error);
  } catch (const std::exception &e) {
    error = std::string("reading model.onnx: ") + e.what();
  }
  if (!parsed) {
    r.outcome = Outcome::Unsupported;
    r.reason = oneLine(error);
    return r;
  }
  r.ops.assign(info.ops.begin(), info.ops.end());
  r.dtypes = graphDtypes(c.dir / "model.onnx");
  if (std::count(r.dtypes.begin(), r.dtypes.end(), "STRING")) {
    r.outcome = Outcome::Unsupported;
    r.reason = "string tensors (lathe compiles numeric tensors only)";
    return r;
  }
  std::vector<std::string> missing;
  for (const std::string &op : info.ops)
    if (!supported.count(op))
      missing.push_back(op);
  if (!missing.empty()) {
    r.outcome = Outcome::Unsupported;
    r.reason = "ops not implemented: " + joined(missing);
    return r;
  }
  if (!info.nonTensor.empty()) {
    r.outcome = Outcome::Unsupported;
    r.reason = info.nonTensor + " (lathe handles tensors only)";
    return r;
  }
  double start = nowSeconds();
  CaseResult cr = opts.fork ? runCaseForked(c.dir, info, opts.timeoutSeconds)
                            : runCaseGuarded(c.dir, info);
  r.seconds = std::round((nowSeconds() - start) * 100) / 100;
  if (cr.passed) {
    r.outcome = Outcome::Pass;
  } else {
    r.outcome = isRefusal(cr.reason) ? Outcome::Unsupported : Outcome::Fail;
    r.reason = cr.reason;
    if (opts.verbose && !trim(cr.log).empty()) {
      std::istringstream lines(cr.log);
      std::string l;
      while (std::getline(lines, l))
        r.reason += "\n    | " + l;
    }
  }
  return r;
}

struct Tally {
  int pass = 0, fail = 0, unsupported = 0;
  void add(Outcome o) {
    (o == Outcome::Pass ? pass : o == Outcome::Fail ? fail : unsupported)++;
  }
};

} // namespace

int conformanceMain(int argc, char **argv, int first, const char *prog) {
  GOOGLE_PROTOBUF_VERIFY_VERSION;
  Options opts;
  int rc = parseArgs(argc, argv, first, prog, opts);
  if (rc >= 0)
    return rc;
  if (opts.dirs.empty())
    for (const char *suite : kDefaultSuites)
      opts.dirs.push_back(std::string(kTestData) + "/" + suite);

  std::vector<Case> cases;
  for (const std::string &dir : opts.dirs) {
    std::string error;
    if (!collectCases(dir, cases, error)) {
      std::cerr << prog << ": error: " << error << "\n";
      return 2;
    }
  }
  std::regex filter;
  if (!opts.filter.empty()) {
    try {
      filter = std::regex(opts.filter);
    } catch (const std::regex_error &e) {
      std::cerr << prog << ": error: bad --filter regex '" << opts.filter
                << "': " << e.what() << "\n";
      return 2;
    }
  }

  std::vector<std::string> errors; // lines that make the run fail
  std::map<std::string, Expectation> expectations;
  if (!opts.expectFile.empty() &&
      !readExpectations(opts.expectFile, expectations, errors)) {
    std::cerr << prog << ": error: " << opts.expectFile << ": cannot read\n";
    return 2;
  }
  for (const std::string &e : errors)
    std::cout << e << "\n";

  const std::vector<std::string> &supportedList = lathe::supportedOnnxOps();
  std::set<std::string> supported(supportedList.begin(), supportedList.end());

  std::vector<Result> results;
  std::map<std::string, Tally> bySuite;
  std::vector<std::string> suiteOrder;
  std::set<std::string> suitesRunWhole;
  for (const Case &c : cases) {
    if (!bySuite.count(c.suite)) {
      bySuite[c.suite] = {};
      suiteOrder.push_back(c.suite);
    }
    if (!opts.filter.empty() && !std::regex_search(c.id(), filter))
      continue;
    Result r = runOne(c, supported, opts);
    auto listed = expectations.find(c.id());
    r.listed = listed != expectations.end();
    if (r.listed)
      listed->second.seen = true;
    bySuite[c.suite].add(r.outcome);

    std::string tag = r.outcome == Outcome::Pass          ? "PASS"
                      : r.outcome == Outcome::Unsupported ? "UNSUPPORTED"
                                                          : "FAIL";
    std::string line = tag + " " + c.id();
    if (r.outcome == Outcome::Pass)
      line += " (" + formatDouble(r.seconds) + " s)";
    else
      line += ": " + r.reason;
    if (r.outcome == Outcome::Pass && r.listed) {
      std::string e = c.id() + ": passes now: remove it from " +
                      opts.expectFile + " (line " +
                      std::to_string(listed->second.line) + ")";
      std::cout << e << "\n";
      errors.push_back(e);
    } else if (r.outcome != Outcome::Pass && !r.listed &&
               !opts.expectFile.empty()) {
      std::cout << line << "\n";
      errors.push_back(c.id() + ": " + outcomeName(r.outcome) +
                       " and not listed in " + opts.expectFile);
    } else if (opts.verbose ||
               (opts.expectFile.empty() && r.outcome == Outcome::Fail)) {
      std::cout << line;
      if (r.listed && opts.verbose)
        std::cout << " [listed: " << listed->second.reason << "]";
      std::cout << "\n";
    }
    std::cout.flush();
    results.push_back(std::move(r));
  }

  // Entries naming no case are stale (only checked on unfiltered runs).
  if (opts.filter.empty()) {
    std::set<std::string> suites(suiteOrder.begin(), suiteOrder.end());
    for (const auto &kv : expectations) {
      std::string suite = kv.first.substr(0, kv.first.find('/'));
      if (!kv.second.seen && suites.count(suite)) {
        std::string e = opts.expectFile + ":" + std::to_string(kv.second.line) +
                        ": " + kv.first + ": not a case: remove it";
        std::cout << e << "\n";
        errors.push_back(e);
      }
    }
  }

  Tally total;
  for (const std::string &suite : suiteOrder) {
    const Tally &t = bySuite[suite];
    total.pass += t.pass;
    total.fail += t.fail;
    total.unsupported += t.unsupported;
    std::cout << suite << ": " << t.pass << " passed, " << t.fail << " failed, "
              << t.unsupported << " unsupported\n";
  }
  if (!opts.jsonFile.empty() && !writeJson(opts.jsonFile, results)) {
    std::cerr << prog << ": error: cannot write " << opts.jsonFile << "\n";
    return 1;
  }
  if (!opts.writeExpectFile.empty()) {
    if (!opts.filter.empty()) {
      std::cerr << prog
                << ": error: --write-expectations needs an unfiltered run\n";
      return 2;
    }
    if (!writeExpectations(opts.writeExpectFile, results, expectations)) {
      std::cerr << prog << ": error: cannot write " << opts.writeExpectFile
                << "\n";
      return 1;
    }
  }
  std::cout << total.pass << " passed, " << total.fail << " failed, "
            << total.unsupported << " unsupported";
  if (!opts.expectFile.empty())
    std::cout << "; " << errors.size() << " not as expected in "
              << opts.expectFile;
  if (!opts.filter.empty())
    std::cout << " [filter '" << opts.filter << "']";
  std::cout << "\n";
  if (!opts.expectFile.empty())
    return errors.empty() ? 0 : 1;
  return total.fail == 0 ? 0 : 1;
}

} // namespace lathe::conformance
