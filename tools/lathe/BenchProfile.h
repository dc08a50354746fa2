// `lathe bench --profile`: the per-kernel table and its --json form, from
// a Session compiled with SessionOptions::profile.
#ifndef LATHE_TOOLS_LATHE_BENCHPROFILE_H
#define LATHE_TOOLS_LATHE_BENCHPROFILE_H

#include "lathe/Session.h"

#include "llvm/Support/JSON.h"

#include <cstdint>
#include <vector>

namespace lathe::cli {

/// The kernels' share of `runs` timed runs that took `timedSeconds` in all
/// (the profile reset before them). Percentages are of that time; what no
/// kernel took (the call into the model, the clock reads' bookkeeping) is
/// "outside kernels", so the shares add up to 100.
struct BenchProfile {
  std::vector<KernelProfile> kernels; // by total time, longest first
  int64_t runs = 0;
  double timedSeconds = 0;
  double kernelSeconds = 0;
  double outsideSeconds = 0;

  BenchProfile(std::vector<KernelProfile> kernels, int64_t runs,
               double timedSeconds);
  double percent(double seconds) const;
  void print() const;
  llvm::json::Object toJson() const;
};

} // namespace lathe::cli

#endif // LATHE_TOOLS_LATHE_BENCHPROFILE_H
