// lathe: one CLI with subcommands (run, compile). Exit codes: 0 ok, 1 bad
// input or model, 2 bad usage.
#include "tools/lathe/Cli.h"

#include "codegen/cpu/CpuBackend.h"
#include "lathe/runtime.h"

#include "llvm/Config/llvm-config.h"

#ifdef LATHE_HAVE_CONFORMANCE
#include "Conformance.h"
#endif

namespace lathe {
const std::vector<std::string> &supportedOnnxOps(); // frontend/Importer.h
} // namespace lathe

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace lathe::cli {

int fail(int code, const std::string &message) {
  std::string line = message.substr(0, message.find('\n'));
  std::fprintf(stderr, "lathe: error: %s\n", line.c_str());
  return code;
}

bool parseCount(const std::string &text, int64_t &out) {
  char *end = nullptr;
  errno = 0;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end || v < 0 || errno == ERANGE ||
      !std::isdigit(static_cast<unsigned char>(text[0])))
    return false;
  out = v;
  return true;
}

bool parseThreads(const char *command, const std::string &text, int &out) {
  int64_t n = 0;
  if (!parseCount(text, n) || n > 4096) {
    fail(kBadUsage, std::string(command) +
                        ": --threads expects an integer from 0 (every core) "
                        "to 4096, got '" +
                        text + "'");
    return false;
  }
  out = static_cast<int>(n);
  return true;
}

bool parseDims(const std::string &text, std::vector<int64_t> &dims) {
  dims.clear();
  if (text.empty() || text == "scalar")
    return true;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t next = text.find('x', pos);
    std::string part = text.substr(
        pos, next == std::string::npos ? std::string::npos : next - pos);
    if (part.empty() ||
        part.find_first_not_of("0123456789") != std::string::npos ||
        part.size() > 12)
      return false;
    dims.push_back(std::stoll(part));
    if (next == std::string::npos)
      break;
    pos = next + 1;
  }
  return true;
}

bool splitAssignment(const std::string &arg, std::string &name,
                     std::string &value) {
  size_t eq = arg.find('=');
  if (eq == std::string::npos || eq == 0)
    return false;
  name = arg.substr(0, eq);
  value = arg.substr(eq + 1);
  return true;
}

bool addShape(const std::string &arg,
              std::map<std::string, std::vector<int64_t>> &shapes) {
  std::string name, dims;
  std::vector<int64_t> parsed;
  if (!splitAssignment(arg, name, dims) || !parseDims(dims, parsed)) {
    fail(kBadUsage,
         "--shape expects NAME=DIMS such as x=1x3x32x32, got '" + arg + "'");
    return false;
  }
  shapes[name] = parsed;
  return true;
}

} // namespace lathe::cli

using namespace lathe::cli;

static void printUsage(FILE *out) {
  std::fprintf(
      out, "usage: lathe <command> [options]\n"
           "\n"
           "lathe compiles ONNX models through MLIR and LLVM and runs them.\n"
           "\n"
           "commands:\n"
           "  run MODEL      compile MODEL for this CPU and run it\n"
           "  compile MODEL  compile MODEL and print or write its IR\n"
           "  inspect MODEL  ops before/after the graph passes, parameters, "
           "FLOPs,\n"
           "                 fusion groups, memory plan\n"
           "  graph MODEL    draw the lathe-level graph (Graphviz dot, svg, "
           "png)\n"
           "  bench MODEL    time MODEL warm (min/median/p90 latency)\n"
           "  train SPEC     train a model as a training spec (.pbtxt) "
           "says\n"
           "  conformance [DIR]  run ONNX's backend test cases and "
           "compare\n"
           "  ops            list the ONNX operators lathe imports "
           "(docs/ops.md has the detail)\n"
           "\n"
           "options:\n"
           "  --version      print the version and exit\n"
           "  --help         print this help (`lathe <command> --help` for "
           "a command's)\n");
}

static void printVersion() {
  lathe::CpuTarget host = lathe::hostCpuTarget();
  std::printf("lathe %s\n", lathe_runtime_version());
  std::printf("  LLVM/MLIR %s\n", LLVM_VERSION_STRING);
  std::printf("  targets: cpu (host: %s %s)\n", host.triple.c_str(),
              host.cpu.c_str());
  std::printf("  cuda: not built (the CUDA backend does not exist yet)\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    printUsage(stderr);
    return kBadUsage;
  }
  std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    printUsage(stdout);
    return kOk;
  }
  if (command == "--version" || command == "version") {
    printVersion();
    return kOk;
  }
  if (command == "run")
    return runCommand(argc - 1, argv + 1);
  if (command == "compile")
    return compileCommand(argc - 1, argv + 1);
  if (command == "inspect")
    return inspectCommand(argc - 1, argv + 1);
  if (command == "graph")
    return graphCommand(argc - 1, argv + 1);
  if (command == "train")
    return trainCommand(argc - 1, argv + 1);
  if (command == "bench")
    return benchCommand(argc - 1, argv + 1);
  if (command == "ops") {
    if (argc > 2) {
      if (std::strcmp(argv[2], "--help") == 0) {
        std::printf("usage: lathe ops\n\nLists the ONNX operators (default "
                    "domain) that lathe imports, one per line.\n");
        return kOk;
      }
      return fail(kBadUsage, "lathe ops takes no arguments");
    }
    for (const std::string &op : lathe::supportedOnnxOps())
      std::printf("%s\n", op.c_str());
    return kOk;
  }
  if (command == "conformance") {
#ifdef LATHE_HAVE_CONFORMANCE
    return lathe::conformance::conformanceMain(argc, argv, 2,
                                               "lathe conformance");
#else
    return fail(kBadUsage, "this lathe was built without the conformance "
                           "runner (LATHE_BUILD_TESTS=OFF)");
#endif
  }
  return fail(kBadUsage,
              "unknown command '" + command + "' (try `lathe --help`)");
}
