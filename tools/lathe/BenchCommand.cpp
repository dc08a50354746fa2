// lathe bench MODEL: compile, then time the compiled model warm, through the
// C++ API on fixed buffers (what a user calling Session::runBuffers in a
// loop sees), and report the numbers onnxruntime_perf_test or
// torch.utils.benchmark would give: latency min/median/p90 and throughput.
// Inputs are random as `lathe run` makes them. bench/run_all.py reads the
// --json report (schema in docs/cli.md); keep the two in step.
#include "tools/lathe/BenchProfile.h"
#include "tools/lathe/Cli.h"

#include "lathe/Session.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <optional>
#include <random>
#include <thread>

#include <sched.h>

namespace lathe::cli {

static const char *kBenchHelp =
    "usage: lathe bench MODEL [options]\n"
    "\n"
    "Compiles MODEL for this CPU and times it on random inputs: compile\n"
    "time, then the latency of one run (min, median, p90) and the\n"
    "throughput, after warm-up, on the same buffers every run.\n"
    "\n"
    "options:\n"
    "  --shape NAME=DIMS   bind the dims of input NAME, e.g. x=64x784\n"
    "  --threads N         threads of the compiled code's parallel loops\n"
    "                      (default 0: one per core this process may use)\n"
    "  --warmup W          untimed runs first (default 3)\n"
    "  --iterations K      timed runs, at least (default 20)\n"
    "  --min-seconds S     keep timing until both K runs and S seconds of\n"
    "                      timed runs are done (default 0)\n"
    "  --json FILE|-       also write the numbers as one JSON object to FILE\n"
    "                      (- : to stdout, instead of the text line)\n"
    "  --seed S            seed of the random inputs (default 0)\n"
    "  --profile           also time each compiled kernel (a loop nest: one\n"
    "                      op or a fusion group) over the timed runs and\n"
    "                      print them by time (--json: a \"profile\" field)\n"
    "  -O0                 skip graph optimisation\n";

static bool parseSeconds(const std::string &text, double &out) {
  char *end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end || !std::isfinite(v) || v < 0)
    return false;
  out = v;
  return true;
}

/// Cores this process may run on (its affinity mask, which is what a
/// container or `taskset` limits), the meaning of SessionOptions::threads=0.
static int availableCores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
    return CPU_COUNT(&set);
  return std::max(1u, std::thread::hardware_concurrency());
}

static void fillRandom(Tensor &t, std::mt19937_64 &rng) {
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (t.dtype == DType::F32)
      t.as<float>()[i] = static_cast<float>(uniform(rng));
    else if (t.dtype == DType::F64)
      t.as<double>()[i] = uniform(rng);
    // Integer and boolean inputs stay zero: valid indices for any Gather.
  }
}

namespace {
struct Timing {
  std::vector<double> ms; // sorted
  double totalSeconds = 0;

  /// Nearest rank on the sorted runs, as ONNX Runtime's ort-bench and
  /// numpy's "nearest" method count it, so p90 means the same on both sides.
  double quantile(double q) const {
    size_t i = static_cast<size_t>(std::lround(q * (ms.size() - 1)));
    return ms[std::min(i, ms.size() - 1)];
  }
  double mean() const {
    return std::accumulate(ms.begin(), ms.end(), 0.0) / ms.size();
  }
};
} // namespace

static llvm::json::Array tensorsJson(const std::vector<TensorInfo> &infos) {
  llvm::json::Array out;
  for (const TensorInfo &info : infos)
    out.push_back(llvm::json::Object{{"name", info.name},
                                     {"dtype", dtypeName(info.dtype)},
                                     {"shape", llvm::json::Array(info.shape)}});
  return out;
}

int benchCommand(int argc, char **argv) {
  std::string model, jsonPath;
  bool jsonGiven = false, profile = false;
  SessionOptions options;
  int64_t warmup = 3, iterations = 20, threads = 0, seed = 0;
  double minSeconds = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    // Options with a value take it as the next argument or after '='.
    std::string flag = arg, inlineValue;
    bool hasInline = false;
    if (arg.rfind("--", 0) == 0 && arg.find('=') != std::string::npos) {
      flag = arg.substr(0, arg.find('='));
      inlineValue = arg.substr(arg.find('=') + 1);
      hasInline = true;
    }
    auto value = [&](std::string &out) -> bool {
      if (hasInline) {
        out = inlineValue;
        return true;
      }
      if (i + 1 >= argc) {
        fail(kBadUsage, "bench: " + flag + " needs a value");
        return false;
      }
      out = argv[++i];
      return true;
    };
    auto badValue = [&](const std::string &what, const std::string &v) {
      return fail(kBadUsage,
                  "bench: " + flag + " expects " + what + ", got '" + v + "'");
    };
    std::string v;
    if (arg == "--help" || arg == "-h") {
      std::fputs(kBenchHelp, stdout);
      return kOk;
    } else if (flag == "--shape") {
      if (!value(v) || !addShape(v, options.shapes))
        return kBadUsage;
    } else if (flag == "--warmup" || flag == "--threads" || flag == "--seed") {
      if (!value(v))
        return kBadUsage;
      int64_t &target = flag == "--warmup"    ? warmup
                        : flag == "--threads" ? threads
                                              : seed;
      if (!parseCount(v, target) || (flag == "--threads" && target > 4096))
        return badValue("a non-negative integer", v);
    } else if (flag == "--iterations") {
      if (!value(v))
        return kBadUsage;
      if (!parseCount(v, iterations) || iterations == 0)
        return badValue("a positive integer", v);
    } else if (flag == "--min-seconds") {
      if (!value(v))
        return kBadUsage;
      if (!parseSeconds(v, minSeconds))
        return badValue("a non-negative number of seconds", v);
    } else if (flag == "--json") {
      if (!value(jsonPath))
        return kBadUsage;
      if (jsonPath.empty())
        return fail(kBadUsage, "bench: --json expects a file name or -");
      jsonGiven = true;
    } else if (arg == "--profile") {
      profile = true;
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
  options.threads = static_cast<int>(threads);
  options.profile = profile;

  std::string error;
  auto start = std::chrono::steady_clock::now();
  auto session = Session::compile(model, options, &error);
  if (!session)
    return fail(kBadInput, error);
  double compileSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();

  std::mt19937_64 rng(static_cast<uint64_t>(seed));
  std::vector<Tensor> inputs, outputs;
  std::vector<const void *> inPtrs;
  std::vector<void *> outPtrs;
  for (const TensorInfo &info : session->inputs()) {
    inputs.emplace_back(info.dtype, info.shape);
    fillRandom(inputs.back(), rng);
  }
  for (const TensorInfo &info : session->outputs())
    outputs.emplace_back(info.dtype, info.shape);
  for (Tensor &t : inputs)
    inPtrs.push_back(t.data.data());
  for (Tensor &t : outputs)
    outPtrs.push_back(t.data.data());

  using Clock = std::chrono::steady_clock;
  for (int64_t i = 0; i < warmup; ++i)
    if (!session->runBuffers(inPtrs.data(), outPtrs.data(), &error))
      return fail(kBadInput, error);
  // The profile covers the timed runs only, like the latencies.
  session->resetProfile();
  Timing timing;
  while (static_cast<int64_t>(timing.ms.size()) < iterations ||
         timing.totalSeconds < minSeconds) {
    auto t0 = Clock::now();
    if (!session->runBuffers(inPtrs.data(), outPtrs.data(), &error))
      return fail(kBadInput, error);
    double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    timing.ms.push_back(seconds * 1e3);
    timing.totalSeconds += seconds;
  }
  std::sort(timing.ms.begin(), timing.ms.end());

  // Throughput over the timed runs back to back (total runs / total time),
  // and in items: the leading dim of the first input, the batch of a model
  // that has one.
  int64_t runs = static_cast<int64_t>(timing.ms.size());
  double runsPerSecond = runs / timing.totalSeconds;
  int64_t batch = 1;
  if (!session->inputs().empty() && !session->inputs()[0].shape.empty())
    batch = session->inputs()[0].shape[0];
  int cores = availableCores();
  std::optional<BenchProfile> kernels;
  if (profile)
    kernels.emplace(session->profile(), runs, timing.totalSeconds);

  if (jsonGiven) {
    const CompileStats &stats = session->stats();
    llvm::json::Object report{
        {"engine", "lathe"},
        {"version", lathe_runtime_version()},
        {"model", model},
        {"threads", threads},
        {"cores", cores},
        {"opt_level", options.optLevel},
        {"inputs", tensorsJson(session->inputs())},
        {"outputs", tensorsJson(session->outputs())},
        {"batch", batch},
        {"compile_s", compileSeconds},
        {"import_s", stats.importSeconds},
        {"codegen_s", stats.compileSeconds},
        {"arena_bytes", static_cast<int64_t>(stats.arenaBytes)},
        {"warmup", warmup},
        {"iterations", runs},
        {"min_seconds", minSeconds},
        {"timed_s", timing.totalSeconds},
        {"min_ms", timing.ms.front()},
        {"median_ms", timing.quantile(0.5)},
        {"p90_ms", timing.quantile(0.9)},
        {"max_ms", timing.ms.back()},
        {"mean_ms", timing.mean()},
        {"runs_per_s", runsPerSecond},
        {"items_per_s", runsPerSecond * batch}};
    if (kernels)
      report["profile"] = kernels->toJson();
    std::string text;
    llvm::raw_string_ostream os(text);
    os << llvm::formatv("{0:2}", llvm::json::Value(std::move(report))) << "\n";
    os.flush();
    if (jsonPath == "-") {
      std::fwrite(text.data(), 1, text.size(), stdout);
      return kOk;
    }
    if (!writeFileAtomic(jsonPath, text, error))
      return fail(kBadInput, error);
  }
  std::string threadText =
      threads == 0
          ? "all " + std::to_string(cores) + " cores"
          : std::to_string(threads) + " thread" + (threads == 1 ? "" : "s");
  std::printf("%s: compile %.3f s; %lld runs after %lld warm-up, %s: "
              "min %.4g ms, median %.4g ms, p90 %.4g ms; %.1f runs/s\n",
              model.c_str(), compileSeconds, static_cast<long long>(runs),
              static_cast<long long>(warmup), threadText.c_str(),
              timing.ms.front(), timing.quantile(0.5), timing.quantile(0.9),
              runsPerSecond);
  if (kernels)
    kernels->print();
  return kOk;
}

} // namespace lathe::cli
