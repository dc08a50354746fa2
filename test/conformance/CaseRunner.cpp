// lathe-conformance: reading a case's model and test data, and running the
// case through lathe::Session, in this process or in a forked child.
#include "CaseRunner.h"

#include "Compare.h"

#include "lathe/Session.h"
#include "lathe/Tensor.h"

#include "frontend/OnnxTensor.h"

// onnx_pb.h defines ONNX_API, then includes onnx/onnx-ml.pb.h (ONNX_ML=1);
// onnx-ml.pb.h alone does not compile.
#include "onnx/onnx_pb.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace lathe::conformance {

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

namespace {

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

} // namespace

namespace {

/// Operands that decide the shape of a result (Reshape's shape, Slice's
/// starts, ...). lathe compiles static shapes, so a graph input in such a
/// position is frozen to the case's value, as a user would with --freeze.
const std::map<std::string, std::set<int>> &shapeOperands() {
  static const std::map<std::string, std::set<int>> table = {
      {"Reshape", {1}},
      // Reduction axes (ReduceSum from opset 13, the others from 18), the
      // CumSum axis and TopK's K.
      {"ReduceSum", {1}},
      {"ReduceMean", {1}},
      {"ReduceMax", {1}},
      {"ReduceMin", {1}},
      {"ReduceProd", {1}},
      {"ReduceL1", {1}},
      {"ReduceL2", {1}},
      {"ReduceLogSum", {1}},
      {"ReduceLogSumExp", {1}},
      {"ReduceSumSquare", {1}},
      {"CumSum", {1}},
      {"TopK", {1}},
      {"ConstantOfShape", {0}},
      {"Expand", {1}},
      {"OneHot", {1}},
      {"Pad", {1}},
      {"Range", {0, 1, 2}},
      {"Slice", {1, 2, 3, 4}},
      {"Split", {1}},
      {"Squeeze", {1}},
      {"Tile", {1}},
      {"Unsqueeze", {1}},
      {"MaxUnpool", {2}},
      {"Resize", {1, 2, 3}},
      {"Upsample", {1}},
  };
  return table;
}

bool isShapeOperand(const onnx::NodeProto &node, const std::string &value) {
  auto it = shapeOperands().find(node.op_type());
  if (it == shapeOperands().end())
    return false;
  for (int i : it->second)
    if (i < node.input_size() && node.input(i) == value)
      return true;
  return false;
}

/// Values whose contents decide a result shape: shape operands, and the
/// inputs of every node that computes one (e.g. an expanded function's
/// Cast -> Sub -> Range). Shape and Size read only their input's shape, so
/// the walk stops there. Nodes are in topological order, so one backward
/// pass finds them all.
std::set<std::string> shapeDecidingValues(const onnx::GraphProto &graph) {
  std::set<std::string> values;
  for (int n = graph.node_size() - 1; n >= 0; --n) {
    const onnx::NodeProto &node = graph.node(n);
    for (int i = 0; i < node.input_size(); ++i)
      if (isShapeOperand(node, node.input(i)))
        values.insert(node.input(i));
    if (node.op_type() == "Shape" || node.op_type() == "Size")
      continue;
    bool decides = false;
    for (const std::string &out : node.output())
      decides |= values.count(out) != 0;
    if (decides)
      for (const std::string &in : node.input())
        if (!in.empty())
          values.insert(in);
  }
  return values;
}

} // namespace

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
  std::set<std::string> shapeDeciding = shapeDecidingValues(graph);
  for (const onnx::ValueInfoProto &vi : graph.input()) {
    if (initializers.count(vi.name()))
      continue;
    bool isShape = shapeDeciding.count(vi.name()) != 0;
    info.inputs.push_back({vi.name(), isStaticInput(vi), isShape});
    if (const char *kind = typeKind(vi.type()); kind && info.nonTensor.empty())
      info.nonTensor =
          "graph input '" + vi.name() + "' is " + kind + ", not a tensor";
  }
  for (const onnx::ValueInfoProto &vi : graph.output())
    if (const char *kind = typeKind(vi.type()); kind && info.nonTensor.empty())
      info.nonTensor =
          "graph output '" + vi.name() + "' is " + kind + ", not a tensor";
  info.randomOutputs = findRandomOutputs(graph);
  return true;
}

namespace {

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

/// ONNX 1.12's test data stores bfloat16 tensors as uint16 TensorProtos
/// (test_cast_*BFLOAT16*): where the model says bfloat16, take the bits as
/// such.
void bfloat16FromUint16(lathe::Tensor &t, lathe::DType declared) {
  if (declared == lathe::DType::BF16 && t.dtype == lathe::DType::U16)
    t.dtype = lathe::DType::BF16;
}

int caseOptLevel = 1;

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

    // The inputs by name, for the checks of random outputs.
    std::map<std::string, lathe::Tensor> namedInputs;
    if (!info.randomOutputs.empty())
      for (size_t i = 0; i < inputs.size() && i < info.inputs.size(); ++i)
        namedInputs[info.inputs[i].name] = inputs[i];

    lathe::SessionOptions options;
    options.optLevel = caseOptLevel;
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
    for (size_t i = 0; i < inputs.size(); ++i)
      bfloat16FromUint16(inputs[i], session->inputs()[i].dtype);
    std::vector<lathe::Tensor> outputs;
    if (!session->run(inputs, outputs, &error))
      return fail(where + "run error: " + oneLine(error));
    if (outputs.size() != expected.size())
      return fail(where + "the model produced " +
                  std::to_string(outputs.size()) + " outputs, expected " +
                  std::to_string(expected.size()));
    std::map<std::string, const lathe::Tensor *> values;
    for (auto &kv : namedInputs)
      values[kv.first] = &kv.second;
    for (size_t i = 0; i < outputs.size() && i < session->outputs().size(); ++i)
      values[session->outputs()[i].name] = &outputs[i];
    for (size_t i = 0; i < expected.size(); ++i) {
      bfloat16FromUint16(expected[i], outputs[i].dtype);
      std::string why;
      std::string name = i < session->outputs().size()
                             ? session->outputs()[i].name
                             : outputNames[i];
      auto random = info.randomOutputs.find(name);
      bool same = random != info.randomOutputs.end()
                      ? checkRandomOutput(random->second, outputs[i],
                                          expected[i], values, why)
                      : compareTensors(outputs[i], expected[i], why);
      if (!same) {
        return fail(where + "output " + std::to_string(i) + " '" + name +
                    "': " + why);
      }
    }
  }
  return pass();
}

} // namespace

void setCaseOptLevel(int level) { caseOptLevel = level; }

CaseResult runCaseGuarded(const fs::path &caseDir, const ModelInfo &info) {
  try {
    return runCase(caseDir, info);
  } catch (const std::exception &e) {
    return fail(std::string("exception: ") + oneLine(e.what()));
  } catch (...) {
    return fail("unknown exception");
  }
}

double nowSeconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

namespace {

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

std::string lastLine(const std::string &log) {
  std::string s = trim(log);
  size_t nl = s.find_last_of('\n');
  return nl == std::string::npos ? s : trim(s.substr(nl + 1));
}

} // namespace

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
  } else if (!result.empty() && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
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

} // namespace lathe::conformance
