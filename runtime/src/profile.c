/* lathe runtime: the clock of per-kernel profiles.
 *
 * Code compiled with a profile (lathe-instrument-kernels, `lathe bench
 * --profile`) reads this clock before and after each kernel call. The
 * monotonic clock, not the process CPU clock: a kernel run on the thread
 * pool is timed by its wall time on the calling thread. Through the vDSO
 * a read costs 20-30 ns on x86-64 Linux, no system call. */
#define _POSIX_C_SOURCE 199309L
#include "lathe/runtime.h"

#include <time.h>

int64_t lathe_profile_clock(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
}
