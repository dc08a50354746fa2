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

#include "lathe/Session.h"
#include "lathe/Tensor.h"

#include "frontend/OnnxTensor.h"

// onnx_pb.h defines ONNX_API, then includes onnx/onnx-ml.pb.h (ONNX_ML=1);
// onnx-ml.pb.h alone does not compile.
#include "onnx/onnx_pb.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <poll.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace lathe {
// Declared by frontend/Importer.h; declared here so that the runner does not
// depend on the importer's (MLIR) header.
const std::vector<std::string> &supportedOnnxOps();
} // namespace lathe

namespace fs = std::filesystem;

namespace {

constexpr double kRtol = 1e-3;
constexpr double kAtol = 1e-7;
constexpr const char *kDefaultData = "/usr/share/libonnx-testdata/data/node";

struct Options {
  std::string dataDir = kDefaultData;
  std::string expectFile;
  std::string filter;
  bool verbose = false;
  bool fork = true;
  int timeoutSeconds = 300; // per case; 0 = none
};

struct CaseResult {
  bool passed = false;
  std::string reason; // one line, when !passed
  std::string log;    // the child's stdout/stderr (forked runs only)
};

CaseResult pass() { return {true, "", ""}; }
CaseResult fail(std::string reason) { return {false, std::move(reason), ""}; }

/// Replaces newlines and tabs so that a reason stays on one line.
std::string oneLine(std::string s) {
  for (char &c : s)
    if (c == '\n' || c == '\r' || c == '\t')
      c = ' ';
  while (!s.empty() && s.back() == ' ')
    s.pop_back();
  return s;
}

std::string trim(const std::string &s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos)
    return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string formatDouble(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

//===----------------------------------------------------------------------===//
// The model: which ops it uses and which of its inputs need shapes bound.
//===----------------------------------------------------------------------===//

struct GraphInput {
  std::string name;
  bool isStatic = true; // every dim has a value
  /// Feeds a Reshape's shape: lathe compiles static shapes, so the runner
  /// freezes it to the test's value (as `lathe run --freeze` does).
  bool isShape = false;
};

struct ModelInfo {
  std::set<std::string> ops; // "Relu", or "domain.Op" outside the default domain
  std::vector<GraphInput> inputs; // graph inputs that are not initializers
  /// "input 'x' is a sequence" for graph inputs/outputs that are not tensors
  /// (their .pb files are SequenceProto/OptionalProto, not TensorProto).
  std::string nonTensor;
};

const char *typeKind(const onnx::TypeProto &type) {
  switch (type.value_case()) {
  case onnx::TypeProto::kTensorType:
    return nullptr;
  case onnx::TypeProto::kSequenceType:
    return "a sequence";
  case onnx::TypeProto::kMapType:
    return "a map";
  case onnx::TypeProto::kOptionalType:
    return "an optional";
  case onnx::TypeProto::kSparseTensorType:
    return "a sparse tensor";
  default:
    return nullptr; // no type given: assume a tensor
  }
}

void collectOps(const onnx::GraphProto &graph, std::set<std::string> &ops) {
  for (const onnx::NodeProto &node : graph.node()) {
    const std::string &domain = node.domain();
    if (domain.empty() || domain == "ai.onnx")
      ops.insert(node.op_type());
    else
      ops.insert(domain + "." + node.op_type());
    // Bodies of If/Loop/Scan are part of what lathe has to import.
    for (const onnx::AttributeProto &attr : node.attribute()) {
      if (attr.has_g())
        collectOps(attr.g(), ops);
      for (const onnx::GraphProto &g : attr.graphs())
        collectOps(g, ops);
    }
  }
}

bool isStaticInput(const onnx::ValueInfoProto &vi) {
  if (!vi.has_type() || !vi.type().has_tensor_type())
    return true; // nothing a shape could bind
  const onnx::TypeProto_Tensor &tt = vi.type().tensor_type();
  if (!tt.has_shape())
    return false;
  for (const onnx::TensorShapeProto_Dimension &d : tt.shape().dim())
    if (!d.has_dim_value())
      return false;
  return true;
}

bool readModelInfo(const fs::path &modelPath, ModelInfo &info,
                   std::string &error) {
  std::ifstream in(modelPath, std::ios::binary);
  if (!in) {
    error = modelPath.string() + ": cannot open";
    return false;
  }
  onnx::ModelProto model;
  if (!model.ParseFromIstream(&in)) {
    error = modelPath.string() + ": not a valid ONNX ModelProto";
    return false;
  }
  const onnx::GraphProto &graph = model.graph();
  collectOps(graph, info.ops);
  std::set<std::string> initializers;
  for (const onnx::TensorProto &t : graph.initializer())
    initializers.insert(t.name());
  for (const onnx::SparseTensorProto &t : graph.sparse_initializer())
    initializers.insert(t.values().name());
  for (const onnx::ValueInfoProto &vi : graph.input()) {
    if (initializers.count(vi.name()))
      continue;
    bool isShape = false;
    for (const onnx::NodeProto &node : graph.node())
      isShape |= node.op_type() == "Reshape" && node.input_size() > 1 &&
                 node.input(1) == vi.name();
    info.inputs.push_back({vi.name(), isStaticInput(vi), isShape});
    if (const char *kind = typeKind(vi.type()); kind && info.nonTensor.empty())
      info.nonTensor = "graph input '" + vi.name() + "' is " + kind +
                       ", not a tensor";
  }
  for (const onnx::ValueInfoProto &vi : graph.output())
    if (const char *kind = typeKind(vi.type()); kind && info.nonTensor.empty())
      info.nonTensor = "graph output '" + vi.name() + "' is " + kind +
                       ", not a tensor";
  return true;
}

//===----------------------------------------------------------------------===//
// Comparing tensors.
//===----------------------------------------------------------------------===//

double halfToDouble(uint16_t h) {
  int sign = h >> 15;
  int exponent = (h >> 10) & 0x1f;
  int mantissa = h & 0x3ff;
  double v;
  if (exponent == 0)
    v = std::ldexp(static_cast<double>(mantissa), -24); // zero or subnormal
  else if (exponent == 31)
    v = mantissa ? std::nan("") : HUGE_VAL;
  else
    v = std::ldexp(static_cast<double>(mantissa + 1024), exponent - 25);
  return sign ? -v : v;
}

/// Compares element values read through `get(tensor, i)` as doubles.
template <typename Get>
bool compareFloats(const lathe::Tensor &actual, const lathe::Tensor &expected,
                   Get get, std::string &why) {
  int64_t n = expected.numel();
  int64_t firstBad = -1, bad = 0;
  double firstActual = 0, firstExpected = 0, maxAbs = 0;
  for (int64_t i = 0; i < n; ++i) {
    double a = get(actual, i), e = get(expected, i);
    bool ok;
    if (std::isnan(e) || std::isnan(a)) {
      ok = std::isnan(e) && std::isnan(a);
    } else if (std::isinf(e) || std::isinf(a)) {
      ok = a == e;
    } else {
      double diff = std::fabs(a - e);
      maxAbs = std::max(maxAbs, diff);
      ok = diff <= kAtol + kRtol * std::fabs(e);
    }
    if (!ok) {
      if (firstBad < 0) {
        firstBad = i;
        firstActual = a;
        firstExpected = e;
      }
      ++bad;
    }
  }
  if (bad == 0)
    return true;
  why = "element " + std::to_string(firstBad) + " of " + std::to_string(n) +
        ": got " + formatDouble(firstActual) + ", expected " +
        formatDouble(firstExpected) + " (" + std::to_string(bad) +
        " mismatched, max abs error " + formatDouble(maxAbs) + ", rtol " +
        formatDouble(kRtol) + ", atol " + formatDouble(kAtol) + ")";
  return false;
}

template <typename T>
bool compareExact(const lathe::Tensor &actual, const lathe::Tensor &expected,
                  std::string &why) {
  int64_t n = expected.numel();
  const T *a = actual.as<T>();
  const T *e = expected.as<T>();
  int64_t firstBad = -1, bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (a[i] != e[i]) {
      if (firstBad < 0)
        firstBad = i;
      ++bad;
    }
  }
  if (bad == 0)
    return true;
  why = "element " + std::to_string(firstBad) + " of " + std::to_string(n) +
        ": got " + std::to_string(static_cast<long long>(a[firstBad])) +
        ", expected " + std::to_string(static_cast<long long>(e[firstBad])) +
        " (" + std::to_string(bad) + " mismatched)";
  return false;
}

bool compareBools(const lathe::Tensor &actual, const lathe::Tensor &expected,
                  std::string &why) {
  int64_t n = expected.numel();
  const uint8_t *a = actual.as<uint8_t>();
  const uint8_t *e = expected.as<uint8_t>();
  int64_t firstBad = -1, bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    if ((a[i] != 0) != (e[i] != 0)) {
      if (firstBad < 0)
        firstBad = i;
      ++bad;
    }
  }
  if (bad == 0)
    return true;
  why = "element " + std::to_string(firstBad) + " of " + std::to_string(n) +
        ": got " + (a[firstBad] ? "true" : "false") + ", expected " +
        (e[firstBad] ? "true" : "false") + " (" + std::to_string(bad) +
        " mismatched)";
  return false;
}

bool compareTensors(const lathe::Tensor &actual, const lathe::Tensor &expected,
                    std::string &why) {
  using lathe::DType;
  if (actual.dtype != expected.dtype) {
    why = std::string("dtype ") + lathe::dtypeName(actual.dtype) +
          ", expected " + lathe::dtypeName(expected.dtype);
    return false;
  }
  if (actual.shape != expected.shape) {
    why = "shape " + lathe::shapeToString(actual.shape) + ", expected " +
          lathe::shapeToString(expected.shape);
    return false;
  }
  size_t bytes = static_cast<size_t>(expected.numel()) *
                 lathe::dtypeSize(expected.dtype);
  if (actual.data.size() != bytes || expected.data.size() != bytes) {
    why = "holds " + std::to_string(actual.data.size()) + " bytes, expected " +
          std::to_string(bytes);
    return false;
  }
  switch (expected.dtype) {
  case DType::F32:
    return compareFloats(
        actual, expected,
        [](const lathe::Tensor &t, int64_t i) {
          return static_cast<double>(t.as<float>()[i]);
        },
        why);
  case DType::F64:
    return compareFloats(
        actual, expected,
        [](const lathe::Tensor &t, int64_t i) { return t.as<double>()[i]; },
        why);
  case DType::F16:
    return compareFloats(
        actual, expected,
        [](const lathe::Tensor &t, int64_t i) {
          return halfToDouble(t.as<uint16_t>()[i]);
        },
        why);
  case DType::U8:
    return compareExact<uint8_t>(actual, expected, why);
  case DType::I8:
    return compareExact<int8_t>(actual, expected, why);
  case DType::U16:
    return compareExact<uint16_t>(actual, expected, why);
  case DType::I16:
    return compareExact<int16_t>(actual, expected, why);
  case DType::I32:
    return compareExact<int32_t>(actual, expected, why);
  case DType::I64:
    return compareExact<int64_t>(actual, expected, why);
  case DType::Bool:
    return compareBools(actual, expected, why);
  }
  why = "unknown dtype " + std::to_string(static_cast<int>(expected.dtype));
  return false;
}

//===----------------------------------------------------------------------===//
// Running one case.
//===----------------------------------------------------------------------===//

/// Files PREFIX<N>.pb in `dir`, by N; fails unless N runs 0, 1, 2, ...
bool numberedFiles(const fs::path &dir, const std::string &prefix,
                   std::vector<fs::path> &files, std::string &error) {
  std::map<long, fs::path> byIndex;
  for (const fs::directory_entry &entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name.size() <= prefix.size() + 3 ||
        name.compare(0, prefix.size(), prefix) != 0 ||
        name.compare(name.size() - 3, 3, ".pb") != 0)
      continue;
    std::string digits =
        name.substr(prefix.size(), name.size() - prefix.size() - 3);
    if (digits.empty() ||
        digits.find_first_not_of("0123456789") != std::string::npos)
      continue;
    byIndex[std::stol(digits)] = entry.path();
  }
  long expect = 0;
  for (auto &kv : byIndex) {
    if (kv.first != expect) {
      error = dir.filename().string() + ": " + prefix + std::to_string(expect) +
              ".pb is missing";
      return false;
    }
    files.push_back(kv.second);
    ++expect;
  }
  return true;
}

bool readTensors(const std::vector<fs::path> &files,
                 std::vector<lathe::Tensor> &tensors,
                 std::vector<std::string> &names, std::string &error) {
  for (const fs::path &file : files) {
    lathe::Tensor t;
    std::string name;
    if (!lathe::readTensorProtoFile(file.string(), t, name, error))
      return false;
    tensors.push_back(std::move(t));
    names.push_back(name);
  }
  return true;
}

/// test_data_set_* directories of a case, by their number.
std::vector<fs::path> dataSets(const fs::path &caseDir) {
  std::vector<std::pair<long, fs::path>> sets;
  const std::string prefix = "test_data_set_";
  for (const fs::directory_entry &entry : fs::directory_iterator(caseDir)) {
    std::string name = entry.path().filename().string();
    if (!entry.is_directory() || name.compare(0, prefix.size(), prefix) != 0)
      continue;
    std::string digits = name.substr(prefix.size());
    long index = (!digits.empty() &&
                  digits.find_first_not_of("0123456789") == std::string::npos)
                     ? std::stol(digits)
                     : -1;
    sets.emplace_back(index, entry.path());
  }
  std::sort(sets.begin(), sets.end());
  std::vector<fs::path> out;
  for (auto &s : sets)
    out.push_back(s.second);
  return out;
}

CaseResult runCase(const fs::path &caseDir, const ModelInfo &info) {
  const std::string modelPath = (caseDir / "model.onnx").string();
  if (!info.nonTensor.empty())
    return fail(info.nonTensor + " (lathe handles tensors only)");
  std::vector<fs::path> sets = dataSets(caseDir);
  if (sets.empty())
    return fail("no test_data_set_* directory");

  std::unique_ptr<lathe::Session> session;
  std::map<std::string, std::vector<int64_t>> boundShapes;
  for (const fs::path &set : sets) {
    // Prefix reasons with the data set only where there is a choice.
    std::string where =
        sets.size() > 1 ? set.filename().string() + ": " : std::string();
    std::string error;
    std::vector<fs::path> inputFiles, outputFiles;
    if (!numberedFiles(set, "input_", inputFiles, error) ||
        !numberedFiles(set, "output_", outputFiles, error))
      return fail(error);
    std::vector<lathe::Tensor> inputs, expected;
    std::vector<std::string> inputNames, outputNames;
    if (!readTensors(inputFiles, inputs, inputNames, error) ||
        !readTensors(outputFiles, expected, outputNames, error))
      return fail("reading test data: " + error);

    lathe::SessionOptions options;
    std::vector<lathe::Tensor> runInputs;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (i < info.inputs.size() && info.inputs[i].isShape) {
        options.constantInputs[info.inputs[i].name] = inputs[i];
        continue;
      }
      if (i < info.inputs.size() && !info.inputs[i].isStatic)
        options.shapes[info.inputs[i].name] = inputs[i].shape;
      runInputs.push_back(std::move(inputs[i]));
    }
    inputs = std::move(runInputs);
    if (!session || options.shapes != boundShapes ||
        !options.constantInputs.empty()) {
      session = lathe::Session::compile(modelPath, options, &error);
      if (!session)
        return fail("compile error: " + oneLine(error));
      boundShapes = options.shapes;
    }

    if (session->inputs().size() != inputs.size())
      return fail(where + "the compiled model has " +
                  std::to_string(session->inputs().size()) +
                  " inputs, the test data " + std::to_string(inputs.size()));
    std::vector<lathe::Tensor> outputs;
    if (!session->run(inputs, outputs, &error))
      return fail(where + "run error: " + oneLine(error));
    if (outputs.size() != expected.size())
      return fail(where + "the model produced " +
                  std::to_string(outputs.size()) + " outputs, expected " +
                  std::to_string(expected.size()));
    for (size_t i = 0; i < expected.size(); ++i) {
      std::string why;
      if (!compareTensors(outputs[i], expected[i], why)) {
        std::string name = i < session->outputs().size()
                               ? session->outputs()[i].name
                               : outputNames[i];
        return fail(where + "output " + std::to_string(i) + " '" + name +
                    "': " + why);
      }
    }
  }
  return pass();
}

CaseResult runCaseGuarded(const fs::path &caseDir, const ModelInfo &info) {
  try {
    return runCase(caseDir, info);
  } catch (const std::exception &e) {
    return fail(std::string("exception: ") + oneLine(e.what()));
  } catch (...) {
    return fail("unknown exception");
  }
}

bool writeAll(int fd, const std::string &data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

double nowSeconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

std::string lastLine(const std::string &log) {
  std::string s = trim(log);
  size_t nl = s.find_last_of('\n');
  return nl == std::string::npos ? s : trim(s.substr(nl + 1));
}

/// Runs the case in a child process: a crash, an abort or a hang becomes a
/// failure of this case. The child writes 'P' or 'F' + reason to a pipe; its
/// stdout and stderr are captured into CaseResult::log.
CaseResult runCaseForked(const fs::path &caseDir, const ModelInfo &info,
                         int timeoutSeconds) {
  int resultPipe[2], logPipe[2];
  if (::pipe(resultPipe) != 0)
    return fail(std::string("pipe: ") + std::strerror(errno));
  if (::pipe(logPipe) != 0) {
    ::close(resultPipe[0]);
    ::close(resultPipe[1]);
    return fail(std::string("pipe: ") + std::strerror(errno));
  }
  std::fflush(stdout);
  std::fflush(stderr);
  std::cout.flush();
  std::cerr.flush();
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    for (int fd : {resultPipe[0], resultPipe[1], logPipe[0], logPipe[1]})
      ::close(fd);
    return fail(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Die with the runner (e.g. when ctest's timeout kills it).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)
      ::_exit(4);
    ::close(resultPipe[0]);
    ::close(logPipe[0]);
    ::dup2(logPipe[1], STDOUT_FILENO);
    ::dup2(logPipe[1], STDERR_FILENO);
    ::close(logPipe[1]);
    CaseResult r = runCaseGuarded(caseDir, info);
    std::string msg = (r.passed ? "P" : "F") + r.reason;
    std::fflush(stdout);
    std::fflush(stderr);
    std::cout.flush();
    std::cerr.flush();
    bool ok = writeAll(resultPipe[1], msg);
    ::close(resultPipe[1]);
    // Skip static destructors (LLVM, MLIR, the JIT): the parent has the result.
    ::_exit(ok ? 0 : 3);
  }
  ::close(resultPipe[1]);
  ::close(logPipe[1]);

  std::string result, log;
  const size_t kMaxLog = 1 << 16; // keep the tail
  bool timedOut = false;
  double deadline = timeoutSeconds > 0 ? nowSeconds() + timeoutSeconds : 0;
  pollfd fds[2] = {{resultPipe[0], POLLIN, 0}, {logPipe[0], POLLIN, 0}};
  int open = 2;
  char buf[4096];
  while (open > 0) {
    int waitMs = -1;
    if (timeoutSeconds > 0) {
      double left = deadline - nowSeconds();
      if (left <= 0) {
        timedOut = true;
        break;
      }
      waitMs = static_cast<int>(left * 1000) + 1;
    }
    int n = ::poll(fds, 2, waitMs);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open;
        continue;
      }
      std::string &into = i == 0 ? result : log;
      into.append(buf, static_cast<size_t>(got));
      if (i == 1 && log.size() > 2 * kMaxLog)
        log.erase(0, log.size() - kMaxLog);
    }
  }
  if (timedOut)
    ::kill(pid, SIGKILL);
  for (pollfd &p : fds)
    if (p.fd >= 0)
      ::close(p.fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (log.size() > kMaxLog)
    log.erase(0, log.size() - kMaxLog);

  CaseResult r;
  std::string tail = lastLine(log);
  std::string tailNote = tail.empty() ? "" : ": " + oneLine(tail);
  if (timedOut) {
    r = fail("timed out after " + std::to_string(timeoutSeconds) + " s");
  } else if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char *sigName = ::strsignal(sig);
    r = fail("crashed with signal " + std::to_string(sig) + " (" +
             (sigName ? sigName : "?") + ")" + tailNote);
  } else if (!result.empty() && WIFEXITED(status) &&
             WEXITSTATUS(status) == 0) {
    r.passed = result[0] == 'P';
    r.reason = result.substr(1);
  } else {
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r = fail("exited with code " + std::to_string(code) +
             " before reporting a result" + tailNote);
  }
  r.log = std::move(log);
  return r;
}

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
