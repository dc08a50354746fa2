// lathe-conformance: runs ONNX's own backend node tests (libonnx-testdata)
// through lathe::Session and compares the outputs with ONNX's.
//
//   lathe-conformance [--data DIR] [--expect FILE] [--filter SUBSTRING]
//                     [--verbose] [--timeout SECONDS] [--no-fork]
//
// Every case directory (sorted by name) that holds model.onnx is one case.
// A case whose graph uses an op that lathe does not import (supportedOnnxOps(),
// default domain only) is "unsupported" and is not run. The others are
// compiled and run on every test_data_set_*; the outputs must have the same
// dtype and shape as ONNX's and equal values (floats: |a-e| <= atol + rtol*|e|,
// rtol 1e-3, atol 1e-7; NaN matches NaN, inf matches the same inf; integers and
// bools exactly).
//
// The expectations file lists the cases known to fail, one per line:
//   test_name   reason text
// A listed case that fails is an expected failure; one that passes, one that is
// not run (unsupported), or one that names no case directory is an error; an
// unlisted case that fails is an error. Exit 0 iff there is no error.
//
// Each case runs in a forked child (unless --no-fork) so that a crash, an abort
// or a hang in the compiler is reported as that case's failure and the run goes
// on.

#include "CaseRunner.h"
#include "Compare.h"

// For GOOGLE_PROTOBUF_VERIFY_VERSION.
#include "onnx/onnx_pb.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
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

using namespace lathe::conformance;

namespace {

constexpr const char *kDefaultData = "/usr/share/libonnx-testdata/data/node";

struct Options {
  std::string dataDir = kDefaultData;
  std::string expectFile;
  std::string filter;
  bool verbose = false;
  bool fork = true;
  int timeoutSeconds = 300; // per case; 0 = none
};

//===----------------------------------------------------------------------===//
// The expectations file.
//===----------------------------------------------------------------------===//

struct Expectation {
  std::string reason;
  int line = 0;
};

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
    std::string name = line.substr(0, sp);
    std::string reason = sp == std::string::npos ? "" : trim(line.substr(sp));
    std::string at = path + ":" + std::to_string(lineNo) + ": ";
    if (reason.empty())
      errors.push_back(at + name + ": no reason given (every entry needs one)");
    auto it = out.find(name);
    if (it != out.end()) {
      errors.push_back(at + name + ": listed again (first on line " +
                       std::to_string(it->second.line) + ")");
      continue;
    }
    out[name] = {reason, lineNo};
  }
  return true;
}

//===----------------------------------------------------------------------===//
// main
//===----------------------------------------------------------------------===//

void usage(std::ostream &os) {
  os << "usage: lathe-conformance [--data DIR] [--expect FILE] "
        "[--filter SUBSTRING] [--verbose]\n"
        "                         [--timeout SECONDS] [--no-fork]\n"
        "\n"
        "Runs ONNX's backend node tests through lathe and compares the outputs.\n"
        "  --data DIR          case directories (default "
     << kDefaultData
     << ")\n"
        "  --expect FILE       known failures: lines 'test_name  reason'\n"
        "  --filter SUBSTRING  run only cases whose name contains SUBSTRING\n"
        "  --verbose           also list passes, expected failures and "
        "unsupported cases\n"
        "  --timeout SECONDS   per-case time limit (default 300, 0 = none)\n"
        "  --no-fork           run cases in this process (for debugging)\n";
}

int parseArgs(int argc, char **argv, Options &opts) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string &into) {
      if (i + 1 >= argc) {
        std::cerr << "lathe-conformance: error: " << arg
                  << " needs a value\n";
        return false;
      }
      into = argv[++i];
      return true;
    };
    if (arg == "--data") {
      if (!value(opts.dataDir))
        return 2;
    } else if (arg == "--expect") {
      if (!value(opts.expectFile))
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
        std::cerr << "lathe-conformance: error: bad --timeout '" << v << "'\n";
        return 2;
      }
      opts.timeoutSeconds = static_cast<int>(t);
    } else if (arg == "--verbose" || arg == "-v") {
      opts.verbose = true;
    } else if (arg == "--no-fork") {
      opts.fork = false;
    } else if (arg == "--help" || arg == "-h") {
      usage(std::cout);
      return 0;
    } else {
      std::cerr << "lathe-conformance: error: unknown argument '" << arg
                << "'\n";
      usage(std::cerr);
      return 2;
    }
  }
  return -1;
}

std::string joined(const std::vector<std::string> &items,
                   const char *sep = ", ") {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i)
      s += sep;
    s += items[i];
  }
  return s;
}

} // namespace

int main(int argc, char **argv) {
  GOOGLE_PROTOBUF_VERIFY_VERSION;
  Options opts;
  int rc = parseArgs(argc, argv, opts);
  if (rc >= 0)
    return rc;

  std::error_code ec;
  if (!fs::is_directory(opts.dataDir, ec)) {
    std::cerr << "lathe-conformance: error: " << opts.dataDir
              << ": not a directory\n";
    return 2;
  }

  // Case directories, sorted by name.
  std::vector<std::string> cases;
  for (const fs::directory_entry &entry :
       fs::directory_iterator(opts.dataDir, ec)) {
    std::error_code ec2;
    if (entry.is_directory(ec2) &&
        fs::is_regular_file(entry.path() / "model.onnx", ec2))
      cases.push_back(entry.path().filename().string());
  }
  if (ec) {
    std::cerr << "lathe-conformance: error: " << opts.dataDir << ": "
              << ec.message() << "\n";
    return 2;
  }
  std::sort(cases.begin(), cases.end());
  std::set<std::string> caseSet(cases.begin(), cases.end());

  std::vector<std::string> errors; // lines that make the run fail
  std::map<std::string, Expectation> expectations;
  if (!opts.expectFile.empty()) {
    if (!readExpectations(opts.expectFile, expectations, errors)) {
      std::cerr << "lathe-conformance: error: " << opts.expectFile
                << ": cannot read\n";
      return 2;
    }
    std::vector<std::pair<int, std::string>> notCases; // in file order
    for (const auto &kv : expectations)
      if (!caseSet.count(kv.first))
        notCases.emplace_back(kv.second.line,
                              opts.expectFile + ":" +
                                  std::to_string(kv.second.line) + ": " +
                                  kv.first + ": not a case in " + opts.dataDir);
    std::sort(notCases.begin(), notCases.end());
    for (auto &nc : notCases)
      errors.push_back(nc.second);
  }
  for (const std::string &e : errors)
    std::cout << e << "\n";
  size_t fileErrors = errors.size();

  const std::vector<std::string> &supportedList = lathe::supportedOnnxOps();
  std::set<std::string> supported(supportedList.begin(), supportedList.end());

  int passed = 0, failed = 0, expectedFailures = 0, unsupported = 0,
      unexpectedPasses = 0, staleEntries = 0;
  for (const std::string &name : cases) {
    if (!opts.filter.empty() && name.find(opts.filter) == std::string::npos)
      continue;
    fs::path caseDir = fs::path(opts.dataDir) / name;
    auto listed = expectations.find(name);
    bool isListed = listed != expectations.end();

    ModelInfo info;
    std::string error;
    CaseResult result;
    bool parsed = false;
    try {
      parsed = readModelInfo(caseDir / "model.onnx", info, error);
    } catch (const std::exception &e) {
      error = std::string("reading model.onnx: ") + e.what();
    }
    if (!parsed) {
      result = fail(oneLine(error));
    } else {
      std::vector<std::string> missing;
      for (const std::string &op : info.ops)
        if (!supported.count(op))
          missing.push_back(op);
      if (!missing.empty()) {
        ++unsupported;
        if (opts.verbose)
          std::cout << "UNSUPPORTED " << name << ": " << joined(missing)
                    << "\n";
        if (isListed) {
          ++staleEntries;
          std::string line = opts.expectFile + ":" +
                             std::to_string(listed->second.line) + ": " +
                             name + ": listed but not run (ops not " +
                             "implemented: " + joined(missing) +
                             "): remove it from " + opts.expectFile;
          std::cout << line << "\n";
          errors.push_back(line);
        }
        continue;
      }
      double start = nowSeconds();
      result = opts.fork ? runCaseForked(caseDir, info, opts.timeoutSeconds)
                         : runCaseGuarded(caseDir, info);
      if (opts.verbose && result.passed)
        std::cout << "PASS " << name << " ("
                  << formatDouble(std::round((nowSeconds() - start) * 100) /
                                  100)
                  << " s)\n";
    }

    if (result.passed) {
      if (isListed) {
        ++unexpectedPasses;
        std::string line = name + ": unexpected pass: remove it from " +
                           opts.expectFile + " (line " +
                           std::to_string(listed->second.line) + ")";
        std::cout << line << "\n";
        errors.push_back(line);
      } else {
        ++passed;
      }
    } else if (isListed) {
      ++expectedFailures;
      if (opts.verbose)
        std::cout << "XFAIL " << name << ": " << result.reason
                  << " [listed: " << listed->second.reason << "]\n";
    } else {
      ++failed;
      std::string line = "FAIL " + name + ": " + result.reason;
      std::cout << line << "\n";
      errors.push_back(line);
    }
    if (opts.verbose && !result.passed && !trim(result.log).empty()) {
      std::istringstream lines(result.log);
      std::string l;
      while (std::getline(lines, l))
        std::cout << "    | " << l << "\n";
    }
    std::cout.flush();
  }

  std::cout << "conformance: " << passed << " passed, " << failed
            << " failed, " << expectedFailures << " expected failures";
  if (!opts.expectFile.empty())
    std::cout << " (listed in " << opts.expectFile << ")";
  std::cout << ", " << unsupported << " unsupported (ops not implemented)";
  if (unexpectedPasses)
    std::cout << ", " << unexpectedPasses << " unexpected passes";
  if (staleEntries + fileErrors)
    std::cout << ", " << (staleEntries + fileErrors) << " bad entries in "
              << opts.expectFile;
  if (!opts.filter.empty())
    std::cout << " [filter '" << opts.filter << "']";
  std::cout << "\n";
  return errors.empty() ? 0 : 1;
}
