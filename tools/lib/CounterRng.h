// A counter-based random number generator for training: every random number
// is a pure function of (seed, stream, index, counter), so any one of them
// can be recomputed without replaying a sequence. This is what makes a
// resumed run bit-identical to an uninterrupted one: the only "RNG state" a
// checkpoint needs is the seed and the epoch/step counters.
//
// The function is SplitMix64 (Steele, Lea, Flood 2014) at position `counter`
// of the stream whose starting state is derived from the key (seed, stream,
// index) by the same mixer; SplitMix64 is itself counter-based (its state
// advances by a constant), which is what makes random access free.
#ifndef LATHE_TOOLS_COUNTERRNG_H
#define LATHE_TOOLS_COUNTERRNG_H

#include <cstdint>

namespace lathe {

/// Streams of the training driver; the compiled step keys its own
/// randomness (dropout) by (seed, step, op) with streams of its own.
enum RngStream : uint64_t {
  kRngValidationSplit = 1,
  kRngShuffle = 2, // index: the epoch
  kRngInit = 3,    // index: the parameter's position in the model
};

/// SplitMix64's output function (a bijection on 64-bit words).
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline uint64_t counterRandom(uint64_t seed, uint64_t stream, uint64_t index,
                              uint64_t counter) {
  const uint64_t golden = 0x9E3779B97F4A7C15ull;
  uint64_t key = mix64(mix64(mix64(seed) ^ stream) ^ index);
  return mix64(key + (counter + 1) * golden);
}

/// Uniform in [0, 1) with 53 random bits.
inline double toUnitDouble(uint64_t r) {
  return static_cast<double>(r >> 11) * 0x1.0p-53;
}

/// Uniform in [0, n) by Lemire's multiply-shift (bias below n / 2^64, far
/// under anything a data set can show).
inline uint64_t toBounded(uint64_t r, uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(r) * n) >> 64);
}

} // namespace lathe

#endif // LATHE_TOOLS_COUNTERRNG_H
