// lathe bench MODEL: compile, then time the compiled model warm, through the
// C++ API on fixed buffers (what a user calling Session::runBuffers in a
// loop sees). Random inputs in [-1, 1) as `lathe run` makes them.
#include "tools/lathe/Cli.h"

#include "lathe/Session.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>

namespace lathe::cli {

static const char *kBenchHelp =
    "usage: lathe bench MODEL [options]\n"
    "\n"
    "Compiles MODEL for this CPU and times it on random inputs: compile\n"
    "time, then the latency of one run (min, median, p90) after warm-up.\n"
    "\n"
    "options:\n"
    "  --shape NAME=DIMS   bind the dims of input NAME, e.g. x=64x784\n"
    "  --warmup W          untimed runs first (default 3)\n"
    "  --iterations K      timed runs (default 20)\n"
    "  -O0                 skip graph optimisation\n";

static bool parseCount(const char *text, int64_t &out) {
  char *end = nullptr;
  long long v = std::strtoll(text, &end, 10);
  if (!*text || *end || v < 0)
    return false;
  out = v;
  return true;
}

int benchCommand(int argc, char **argv) {
  std::string model;
  SessionOptions options;
  int64_t warmup = 3, iterations = 20;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char *flag) -> const char * {
      if (i + 1 >= argc) {
        fail(kBadUsage, std::string(flag) + " needs a value");
        return nullptr;
      }
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kBenchHelp, stdout);
      return kOk;
    } else if (arg == "--shape") {
      const char *v = value("--shape");
      if (!v || !addShape(v, options.shapes))
        return kBadUsage;
    } else if (arg == "--warmup" || arg == "--iterations") {
      const char *v = value(arg.c_str());
      int64_t &target = arg == "--warmup" ? warmup : iterations;
      if (!v)
        return kBadUsage;
      if (!parseCount(v, target) || (arg == "--iterations" && target == 0))
        return fail(kBadUsage, arg + " expects a positive integer, got '" +
                                   std::string(v) + "'");
    } else if (arg == "-O0" || arg == "--O0") {
      options.optLevel = 0;
    } else if (!arg.empty() && arg[0] == '-') {
      return fail(kBadUsage, "bench: unknown option '" + arg + "'");
    } else if (model.empty()) {
      model = arg;
    } else {
      return fail(kBadUsage, "bench: more than one model given");
    }
  }
  if (model.empty())
    return fail(kBadUsage, "bench: no model given (lathe bench --help)");

  std::string error;
  auto start = std::chrono::steady_clock::now();
  auto session = Session::compile(model, options, &error);
  if (!session)
    return fail(kBadInput, error);
  double compileSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();

  std::mt19937_64 rng(0);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::vector<Tensor> inputs, outputs;
  std::vector<const void *> inPtrs;
  std::vector<void *> outPtrs;
  for (const TensorInfo &info : session->inputs()) {
    Tensor t(info.dtype, info.shape);
    for (int64_t i = 0; i < t.numel(); ++i) {
      if (t.dtype == DType::F32)
        t.as<float>()[i] = static_cast<float>(uniform(rng));
      else if (t.dtype == DType::F64)
        t.as<double>()[i] = uniform(rng);
    }
    inputs.push_back(std::move(t));
  }
  for (const TensorInfo &info : session->outputs())
    outputs.emplace_back(info.dtype, info.shape);
  for (Tensor &t : inputs)
    inPtrs.push_back(t.data.data());
  for (Tensor &t : outputs)
    outPtrs.push_back(t.data.data());

  std::vector<double> ms;
  for (int64_t i = 0; i < warmup + iterations; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    if (!session->runBuffers(inPtrs.data(), outPtrs.data(), &error))
      return fail(kBadInput, error);
    double t = std::chrono::duration<double, std::milli>(
                   std::chrono::steady_clock::now() - t0)
                   .count();
    if (i >= warmup)
      ms.push_back(t);
  }
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[std::min<size_t>(ms.size() - 1,
                               static_cast<size_t>(q * ms.size()))];
  };
  std::printf("%s: compile %.3f s, %lld runs after %lld warm-up: "
              "min %.4f ms, median %.4f ms, p90 %.4f ms\n",
              model.c_str(), compileSeconds, static_cast<long long>(iterations),
              static_cast<long long>(warmup), ms.front(), at(0.5), at(0.9));
  return kOk;
}

} // namespace lathe::cli
