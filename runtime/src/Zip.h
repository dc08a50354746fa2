// Internal to the runtime: the zip container under .npz files, with no
// dependency beyond libc.
//
// Only "stored" members are supported; that is what numpy.savez writes, and it
// keeps a deflate implementation out of the runtime. Zip details follow
// PKWARE's APPNOTE.TXT (including zip64, which numpy asks Python's zipfile to
// emit in every local header).
#ifndef LATHE_RUNTIME_ZIP_H
#define LATHE_RUNTIME_ZIP_H

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace lathe::zip {

inline uint16_t loadU16(const uint8_t *p) {
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}
inline uint32_t loadU32(const uint8_t *p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}
inline uint64_t loadU64(const uint8_t *p) {
  return loadU32(p) | (static_cast<uint64_t>(loadU32(p + 4)) << 32);
}

/// Reads exactly `n` bytes at `offset`.
bool readAt(FILE *f, uint64_t offset, size_t n, uint8_t *dst);

/// CRC-32 (as zip uses it) of `p[0, n)` continued from `crc`; start from 0.
uint32_t crc32Update(uint32_t crc, const uint8_t *p, size_t n);

/// One member as the central directory describes it.
struct Entry {
  std::string name;     // "x.npy"
  uint64_t size;        // stored, so compressed == uncompressed
  uint64_t localOffset; // of the local header
  uint32_t crc;
  uint16_t flags;
  uint32_t method;
};

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

/// Reads the central directory. Sizes and offsets come from it rather than
/// from local headers, which may defer them to a data descriptor.
bool readCentralDirectory(FILE *f, uint64_t fileSize,
                          std::vector<Entry> &entries, std::string &err);

/// Reads the bytes of a stored member and checks its CRC-32. Messages name the
/// entry but not the file; callers add that.
bool readEntry(FILE *f, uint64_t fileSize, const Entry &e,
               std::vector<uint8_t> &out, std::string &err);

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

/// Describes a stored member whose local header will start at `localOffset`.
Entry storedEntry(std::string name, uint64_t size, uint32_t crc,
                  uint64_t localOffset);

/// The local header of `e`, to be followed by its `e.size` data bytes.
std::vector<uint8_t> localHeader(const Entry &e);

/// The central directory and end records (zip64 ones where needed) for
/// `entries`, to be written at `cdOffset`, the end of the last member's data.
std::vector<uint8_t> centralDirectory(const std::vector<Entry> &entries,
                                      uint64_t cdOffset);

} // namespace lathe::zip

#endif // LATHE_RUNTIME_ZIP_H
