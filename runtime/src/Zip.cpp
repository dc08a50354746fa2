// The zip container under .npz files: CRC-32, the central directory (zip64
// included) and stored members, read and written. See Zip.h.
#include "Zip.h"

#include <algorithm>

#include <sys/types.h>

namespace lathe::zip {
namespace {

bool fail(std::string &err, std::string message) {
  err = std::move(message);
  return false;
}

constexpr uint32_t kLocalSig = 0x04034b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint32_t k32Max = 0xFFFFFFFFu;
constexpr uint16_t k16Max = 0xFFFF;

// A fixed timestamp (1980-01-01) keeps archives byte-reproducible.
constexpr uint16_t kDosTime = 0, kDosDate = (1 << 5) | 1;

/// Little-endian record builder for the writer.
struct Bytes {
  std::vector<uint8_t> b;
  Bytes &u16(uint64_t v) { return put(v, 2); }
  Bytes &u32(uint64_t v) { return put(v, 4); }
  Bytes &u64(uint64_t v) { return put(v, 8); }
  template <typename Range> Bytes &append(const Range &r) {
    b.insert(b.end(), r.begin(), r.end());
    return *this;
  }
  Bytes &put(uint64_t v, int n) {
    for (int i = 0; i < n; ++i)
      b.push_back(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
};

} // namespace

bool readAt(FILE *f, uint64_t offset, size_t n, uint8_t *dst) {
  if (fseeko(f, static_cast<off_t>(offset), SEEK_SET) != 0)
    return false;
  return std::fread(dst, 1, n, f) == n;
}

uint32_t crc32Update(uint32_t crc, const uint8_t *p, size_t n) {
  static const auto table = [] {
    std::vector<uint32_t> t(256);
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (size_t i = 0; i < n; ++i)
    crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

bool readCentralDirectory(FILE *f, uint64_t fileSize,
                          std::vector<Entry> &entries, std::string &err) {
  // The end record is 22 bytes plus a comment of at most 64 KiB.
  size_t tailLen =
      static_cast<size_t>(std::min<uint64_t>(fileSize, 22 + 0xFFFF));
  std::vector<uint8_t> tail(tailLen);
  if (!readAt(f, fileSize - tailLen, tailLen, tail.data()))
    return fail(err, "read error");
  size_t endPos = SIZE_MAX;
  for (size_t i = tailLen >= 22 ? tailLen - 22 + 1 : 0; i-- > 0;)
    if (loadU32(&tail[i]) == kEndSig) {
      endPos = i;
      break;
    }
  if (endPos == SIZE_MAX)
    return fail(err, "not a zip archive (no end-of-central-directory record)");
  const uint8_t *end = &tail[endPos];
  uint64_t count = loadU16(end + 10);
  uint64_t cdSize = loadU32(end + 12);
  uint64_t cdOffset = loadU32(end + 16);
  bool multiDisk = loadU16(end + 4) != 0 || loadU16(end + 6) != 0 ||
                   loadU16(end + 8) != loadU16(end + 10);

  uint64_t endAbs = fileSize - tailLen + endPos;
  if (endAbs >= 20) {
    uint8_t loc[20];
    if (readAt(f, endAbs - 20, 20, loc) && loadU32(loc) == kZip64LocatorSig) {
      uint64_t z64Pos = loadU64(loc + 8);
      uint8_t rec[56];
      if (fileSize < 56 || z64Pos > fileSize - 56 ||
          !readAt(f, z64Pos, 56, rec) || loadU32(rec) != kZip64EndSig)
        return fail(err, "corrupt zip64 end-of-central-directory record");
      multiDisk = multiDisk || loadU32(rec + 16) != 0 ||
                  loadU32(rec + 20) != 0 ||
                  loadU64(rec + 24) != loadU64(rec + 32);
      count = loadU64(rec + 32);
      cdSize = loadU64(rec + 40);
      cdOffset = loadU64(rec + 48);
    }
  }
  if (multiDisk)
    return fail(err, "multi-disk zip archives are not supported");
  if (cdOffset > fileSize || cdSize > fileSize - cdOffset ||
      count > cdSize / 46)
    return fail(err, "corrupt zip central directory (truncated file?)");
  std::vector<uint8_t> cd(static_cast<size_t>(cdSize));
  if (!readAt(f, cdOffset, cd.size(), cd.data()))
    return fail(err, "read error");

  size_t pos = 0;
  for (uint64_t i = 0; i < count; ++i) {
    if (cd.size() - pos < 46 || loadU32(&cd[pos]) != kCentralSig)
      return fail(err, "corrupt zip central directory");
    const uint8_t *h = &cd[pos];
    Entry e;
    e.flags = loadU16(h + 8);
    e.method = loadU16(h + 10);
    e.crc = loadU32(h + 16);
    uint64_t csize = loadU32(h + 20);
    uint64_t usize = loadU32(h + 24);
    size_t nameLen = loadU16(h + 28), extraLen = loadU16(h + 30),
           commentLen = loadU16(h + 32);
    e.localOffset = loadU32(h + 42);
    if (cd.size() - pos - 46 < nameLen + extraLen + commentLen)
      return fail(err, "corrupt zip central directory");
    e.name.assign(reinterpret_cast<const char *>(h + 46), nameLen);

    // Zip64 extra field: 64-bit values for exactly the fields saturated above,
    // in this order.
    const uint8_t *x = h + 46 + nameLen, *xEnd = x + extraLen;
    while (xEnd - x >= 4) {
      uint16_t id = loadU16(x), len = loadU16(x + 2);
      const uint8_t *data = x + 4;
      if (len > xEnd - data)
        break;
      if (id == 0x0001) {
        const uint8_t *v = data, *vEnd = data + len;
        for (uint64_t *field : {&usize, &csize, &e.localOffset}) {
          if (*field != k32Max)
            continue;
          if (vEnd - v < 8)
            return fail(err, "corrupt zip64 extra field for '" + e.name + "'");
          *field = loadU64(v);
          v += 8;
        }
      }
      x = data + len;
    }
    if (e.method == 0 && csize != usize)
      return fail(err,
                  "corrupt zip entry '" + e.name + "' (stored sizes differ)");
    e.size = csize;
    entries.push_back(std::move(e));
    pos += 46 + nameLen + extraLen + commentLen;
  }
  return true;
}

bool readEntry(FILE *f, uint64_t fileSize, const Entry &e,
               std::vector<uint8_t> &out, std::string &err) {
  const std::string what = "entry '" + e.name + "'";
  if (e.flags & 1)
    return fail(err, what + " is encrypted");
  if (e.method == 8)
    return fail(err, what + " is deflate-compressed; save with numpy.savez, "
                            "not savez_compressed");
  if (e.method != 0)
    return fail(err, what + " uses unsupported zip compression method " +
                         std::to_string(e.method));
  uint8_t local[30];
  if (e.localOffset > fileSize || fileSize - e.localOffset < 30 ||
      !readAt(f, e.localOffset, 30, local) || loadU32(local) != kLocalSig)
    return fail(err, what + ": corrupt local header");
  uint64_t dataPos =
      e.localOffset + 30 + loadU16(local + 26) + loadU16(local + 28);
  // Bounding by the file size first keeps garbage from causing a huge
  // allocation.
  if (dataPos > fileSize || e.size > fileSize - dataPos)
    return fail(err, what + " is truncated");
  out.resize(static_cast<size_t>(e.size));
  if (!readAt(f, dataPos, out.size(), out.data()))
    return fail(err, what + ": read error");
  if (crc32Update(0, out.data(), out.size()) != e.crc)
    return fail(err, what + " is corrupt (CRC-32 mismatch)");
  return true;
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

Entry storedEntry(std::string name, uint64_t size, uint32_t crc,
                  uint64_t localOffset) {
  Entry e;
  e.name = std::move(name);
  e.size = size;
  e.crc = crc;
  e.localOffset = localOffset;
  e.method = 0;
  e.flags = 0;
  for (char c : e.name)
    if (static_cast<unsigned char>(c) >= 0x80)
      e.flags = 1 << 11; // names are UTF-8
  return e;
}

std::vector<uint8_t> localHeader(const Entry &e) {
  bool zip64 = e.size >= k32Max;
  Bytes local;
  local.u32(kLocalSig).u16(zip64 ? 45 : 20).u16(e.flags).u16(0);
  local.u16(kDosTime).u16(kDosDate).u32(e.crc);
  local.u32(zip64 ? k32Max : e.size).u32(zip64 ? k32Max : e.size);
  local.u16(e.name.size()).u16(zip64 ? 20 : 0).append(e.name);
  if (zip64)
    local.u16(1).u16(16).u64(e.size).u64(e.size);
  return std::move(local.b);
}

std::vector<uint8_t> centralDirectory(const std::vector<Entry> &entries,
                                      uint64_t cdOffset) {
  Bytes cd;
  for (const Entry &e : entries) {
    bool bigSize = e.size >= k32Max, bigOffset = e.localOffset >= k32Max;
    Bytes extra;
    if (bigSize)
      extra.u64(e.size).u64(e.size);
    if (bigOffset)
      extra.u64(e.localOffset);
    bool zip64 = !extra.b.empty();
    // Made by Unix (3) so that unzip restores rw-r--r-- permissions.
    cd.u32(kCentralSig).u16((3 << 8) | 45).u16(zip64 ? 45 : 20);
    cd.u16(e.flags).u16(0).u16(kDosTime).u16(kDosDate).u32(e.crc);
    cd.u32(bigSize ? k32Max : e.size).u32(bigSize ? k32Max : e.size);
    cd.u16(e.name.size()).u16(zip64 ? 4 + extra.b.size() : 0).u16(0);
    cd.u16(0).u16(0).u32(0644u << 16);
    cd.u32(bigOffset ? k32Max : e.localOffset).append(e.name);
    if (zip64)
      cd.u16(1).u16(extra.b.size()).append(extra.b);
  }
  uint64_t cdSize = cd.b.size();
  uint64_t count = entries.size();
  if (count >= k16Max || cdOffset >= k32Max || cdSize >= k32Max) {
    uint64_t z64Pos = cdOffset + cdSize;
    cd.u32(kZip64EndSig).u64(44).u16((3 << 8) | 45).u16(45).u32(0).u32(0);
    cd.u64(count).u64(count).u64(cdSize).u64(cdOffset);
    cd.u32(kZip64LocatorSig).u32(0).u64(z64Pos).u32(1);
    count = k16Max;
    cdSize = std::min<uint64_t>(cdSize, k32Max);
    cdOffset = std::min<uint64_t>(cdOffset, k32Max);
  }
  cd.u32(kEndSig).u16(0).u16(0).u16(count).u16(count);
  cd.u32(cdSize).u32(cdOffset).u16(0);
  return std::move(cd.b);
}

} // namespace lathe::zip
