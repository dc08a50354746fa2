#include "tools/lathe/BenchProfile.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace lathe::cli {

static double seconds(const KernelProfile &k) { return k.nanoseconds * 1e-9; }

/// Giga float ops per second over all calls; negative when the kernel's
/// FLOPs are not known (a trip count that is not static) or it took no time.
static double gflopsPerSecond(const KernelProfile &k) {
  if (k.flops < 0 || k.nanoseconds <= 0)
    return -1;
  return static_cast<double>(k.flops) * k.calls / k.nanoseconds;
}

static std::string join(const std::vector<std::string> &parts) {
  std::string out;
  for (const std::string &p : parts)
    out += (out.empty() ? "" : ", ") + p;
  return out;
}

BenchProfile::BenchProfile(std::vector<KernelProfile> kernelsIn, int64_t runsIn,
                           double timedSecondsIn)
    : kernels(std::move(kernelsIn)), runs(runsIn),
      timedSeconds(timedSecondsIn) {
  std::stable_sort(kernels.begin(), kernels.end(),
                   [](const KernelProfile &a, const KernelProfile &b) {
                     return a.nanoseconds > b.nanoseconds;
                   });
  for (const KernelProfile &k : kernels)
    kernelSeconds += seconds(k);
  // The clock reads bracket each kernel inside the timed runs, so the
  // kernels take no longer than the runs, up to the two clocks' rounding;
  // the larger of the two is 100%.
  outsideSeconds = std::max(0.0, timedSeconds - kernelSeconds);
}

double BenchProfile::percent(double s) const {
  double total = std::max(timedSeconds, kernelSeconds);
  return total > 0 ? 100.0 * s / total : 0;
}

void BenchProfile::print() const {
  std::printf("profile: %zu kernels over %lld timed runs (the times above "
              "include two clock reads per kernel call, ~30 ns each)\n",
              kernels.size(), static_cast<long long>(runs));
  std::printf("%6s %10s %10s %6s %8s  %-16s %s\n", "%run", "ms/run", "total ms",
              "calls", "GFLOP/s", "kernel", "ops [fusion]: nodes");
  for (const KernelProfile &k : kernels) {
    double s = seconds(k);
    double rate = gflopsPerSecond(k);
    char rateText[32] = "-";
    if (rate >= 0)
      std::snprintf(rateText, sizeof(rateText), "%.2f", rate);
    std::string what = k.ops;
    if (!k.fusion.empty())
      what += " [" + k.fusion + "]";
    if (!k.nodes.empty())
      what += ": " + join(k.nodes);
    std::printf("%6.2f %10.4f %10.3f %6lld %8s  %-16s %s\n", percent(s),
                runs ? s * 1e3 / runs : 0.0, s * 1e3,
                static_cast<long long>(k.calls), rateText, k.kernel.c_str(),
                what.c_str());
  }
  std::printf("%6.2f %10.4f %10.3f %6s %8s  (outside kernels)\n",
              percent(outsideSeconds), runs ? outsideSeconds * 1e3 / runs : 0.0,
              outsideSeconds * 1e3, "", "");
}

llvm::json::Object BenchProfile::toJson() const {
  llvm::json::Array list;
  for (const KernelProfile &k : kernels) {
    double s = seconds(k);
    double rate = gflopsPerSecond(k);
    list.push_back(llvm::json::Object{
        {"kernel", k.kernel},
        {"nodes", llvm::json::Array(k.nodes)},
        {"ops", k.ops},
        {"fusion", k.fusion},
        {"calls", k.calls},
        {"total_ms", s * 1e3},
        {"ms_per_run", runs ? s * 1e3 / runs : 0.0},
        {"percent", percent(s)},
        {"flops", k.flops >= 0 ? llvm::json::Value(k.flops) : nullptr},
        {"gflops_per_s", rate >= 0 ? llvm::json::Value(rate) : nullptr}});
  }
  return llvm::json::Object{
      {"runs", runs},
      {"outside_kernels_ms", outsideSeconds * 1e3},
      {"outside_kernels_percent", percent(outsideSeconds)},
      {"kernels", std::move(list)}};
}

} // namespace lathe::cli
