// NumPy .npy / .npz reading and writing with no dependency beyond libc.
//
// .npy: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
// .npz: a zip archive of .npy members. Only "stored" members are supported;
// that is what numpy.savez writes, and it keeps a deflate implementation out of
// the runtime. Zip details follow PKWARE's APPNOTE.TXT (including zip64, which
// numpy asks Python's zipfile to emit in every local header).
#include "lathe/Npy.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>

#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
// The data bytes are copied verbatim between files and tensors.
#error "lathe's .npy support assumes a little-endian host"
#endif

namespace lathe {
namespace {

bool fail(std::string &err, std::string message) {
  err = std::move(message);
  return false;
}

bool setError(std::string *error, std::string message) {
  if (error)
    *error = std::move(message);
  return false;
}

//===----------------------------------------------------------------------===//
// Dtypes
//===----------------------------------------------------------------------===//

struct DescrEntry {
  const char *code; // kind + item size, without the byte-order character
  DType dtype;
  const char *written; // what we write, spelled as numpy spells it
};

const DescrEntry kDescrs[] = {
    {"f4", DType::F32, "<f4"}, {"f8", DType::F64, "<f8"},
    {"f2", DType::F16, "<f2"}, {"i1", DType::I8, "|i1"},
    {"i2", DType::I16, "<i2"}, {"i4", DType::I32, "<i4"},
    {"i8", DType::I64, "<i8"}, {"u1", DType::U8, "|u1"},
    {"u2", DType::U16, "<u2"}, {"b1", DType::Bool, "|b1"},
};

const char *descrFor(DType t) {
  for (const DescrEntry &e : kDescrs)
    if (e.dtype == t)
      return e.written;
  return nullptr;
}

bool dtypeFromDescr(const std::string &descr, DType &out, std::string &err) {
  if (descr.size() < 2)
    return fail(err, "unsupported dtype '" + descr + "'");
  // numpy also accepts a bare "f4" without a byte-order character.
  bool hasOrder = std::strchr("<>|=", descr[0]) != nullptr;
  std::string code = hasOrder ? descr.substr(1) : descr;
  for (const DescrEntry &e : kDescrs) {
    if (code != e.code)
      continue;
    // Byte order is meaningless for one-byte types, so '>u1' is still fine.
    if (descr[0] == '>' && dtypeSize(e.dtype) > 1)
      return fail(err, "big-endian dtype '" + descr +
                           "' is not supported; save a little-endian array "
                           "(arr.astype(arr.dtype.newbyteorder('<')))");
    out = e.dtype;
    return true;
  }
  return fail(err, "unsupported dtype '" + descr + "'");
}

/// Element count and byte size of a shape, or false on overflow / bad dims.
bool shapeBytes(const std::vector<int64_t> &shape, size_t elemSize,
                uint64_t &bytes) {
  uint64_t n = elemSize;
  for (int64_t d : shape) {
    if (d < 0)
      return false;
    if (d != 0 && n > UINT64_MAX / static_cast<uint64_t>(d))
      return false;
    n *= static_cast<uint64_t>(d);
  }
  bytes = n;
  return true;
}

bool checkTensor(const Tensor &t, std::string &err) {
  if (!descrFor(t.dtype))
    return fail(err, "unsupported dtype code " +
                         std::to_string(static_cast<int32_t>(t.dtype)));
  uint64_t want;
  if (!shapeBytes(t.shape, dtypeSize(t.dtype), want))
    return fail(err, "invalid shape " + shapeToString(t.shape));
  if (want != t.data.size())
    return fail(err, "tensor of shape " + shapeToString(t.shape) + " " +
                         dtypeName(t.dtype) + " needs " + std::to_string(want) +
                         " bytes but holds " + std::to_string(t.data.size()));
  return true;
}

//===----------------------------------------------------------------------===//
// The .npy header: a Python dict literal
//===----------------------------------------------------------------------===//

struct PyValue {
  enum Kind { Str, Bool, Int, Seq, Dict, None } kind = None;
  std::string str;
  bool boolean = false;
  int64_t integer = 0;
  std::vector<PyValue> items;
};

/// Parses the subset of Python literals that numpy writes in headers. Depth is
/// bounded so a hostile header cannot overflow the stack.
class LiteralParser {
public:
  LiteralParser(const char *begin, const char *limit) : p(begin), end(limit) {}

  /// Parses the whole text as one literal.
  bool parse(PyValue &v) {
    if (!parseValue(v, 0))
      return false;
    skipSpace();
    return p == end || fail("unexpected text after the header dict");
  }

  const std::string &error() const { return err; }

private:
  const char *p;
  const char *end;
  std::string err;

  bool fail(const char *message) {
    if (err.empty())
      err = message;
    return false;
  }
  void skipSpace() {
    while (p != end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
      ++p;
  }
  bool consume(char c) {
    if (p == end || *p != c)
      return false;
    ++p;
    return true;
  }

  bool parseValue(PyValue &v, int depth) {
    if (depth > 16)
      return fail("header nests too deeply");
    skipSpace();
    if (p == end)
      return fail("header ends early");
    char c = *p;
    if (c == '\'' || c == '"')
      return parseString(v);
    if (c == '(' || c == '[' || c == '{')
      return parseSeq(v, c == '(' ? ')' : c == '[' ? ']' : '}', depth);
    if (c == '-' || (c >= '0' && c <= '9'))
      return parseInt(v);
    for (const char *word : {"True", "False", "None"}) {
      size_t n = std::strlen(word);
      if (static_cast<size_t>(end - p) >= n && std::memcmp(p, word, n) == 0) {
        p += n;
        v.kind = word[0] == 'N' ? PyValue::None : PyValue::Bool;
        v.boolean = word[0] == 'T';
        return true;
      }
    }
    return fail("unexpected token in header");
  }

  bool parseString(PyValue &v) {
    char quote = *p++;
    v.kind = PyValue::Str;
    while (p != end && *p != quote) {
      if (*p == '\\' && p + 1 != end)
        ++p;
      v.str += *p++;
    }
    if (!consume(quote))
      return fail("unterminated string in header");
    return true;
  }

  bool parseInt(PyValue &v) {
    bool negative = consume('-');
    if (p == end || *p < '0' || *p > '9')
      return fail("malformed integer in header");
    uint64_t n = 0;
    while (p != end && *p >= '0' && *p <= '9') {
      n = n * 10 + static_cast<uint64_t>(*p++ - '0');
      if (n > static_cast<uint64_t>(INT64_MAX))
        return fail("integer in header is too large");
    }
    consume('L'); // Python 2 wrote longs as "3L"
    v.kind = PyValue::Int;
    v.integer = negative ? -static_cast<int64_t>(n) : static_cast<int64_t>(n);
    return true;
  }

  /// Tuples, lists and dicts; a dict's items alternate key, value.
  bool parseSeq(PyValue &v, char close, int depth) {
    ++p;
    v.kind = close == '}' ? PyValue::Dict : PyValue::Seq;
    for (;;) {
      skipSpace();
      if (consume(close))
        return true;
      PyValue item;
      if (!parseValue(item, depth + 1))
        return false;
      v.items.push_back(std::move(item));
      skipSpace();
      if (v.kind == PyValue::Dict) {
        if (v.items.back().kind != PyValue::Str)
          return fail("header key is not a string");
        if (!consume(':'))
          return fail("expected ':' in header");
        PyValue value;
        if (!parseValue(value, depth + 1))
          return false;
        v.items.push_back(std::move(value));
        skipSpace();
      }
      if (consume(close))
        return true;
      if (!consume(','))
        return fail("expected ',' in header");
    }
  }
};

const uint8_t kNpyMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

uint16_t loadU16(const uint8_t *p) {
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}
uint32_t loadU32(const uint8_t *p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}
uint64_t loadU64(const uint8_t *p) {
  return loadU32(p) | (static_cast<uint64_t>(loadU32(p + 4)) << 32);
}

/// Decodes the header of an in-memory .npy image. On success `dataOffset` is
/// where the array bytes start and they have been checked to fill the rest of
/// the image exactly. Messages do not name the file; callers add that.
bool parseNpyHeader(const uint8_t *bytes, size_t size, DType &dtype,
                    std::vector<int64_t> &shape, size_t &dataOffset,
                    std::string &err) {
  if (size < 10)
    return fail(err, "too short to be a .npy file (" + std::to_string(size) +
                         " bytes)");
  if (std::memcmp(bytes, kNpyMagic, 6) != 0)
    return fail(err, "not a .npy file (bad magic)");
  unsigned major = bytes[6], minor = bytes[7];
  size_t headerLen, headerStart;
  if (major == 1) {
    headerLen = loadU16(bytes + 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12)
      return fail(err, "truncated .npy header");
    headerLen = loadU32(bytes + 8);
    headerStart = 12;
  } else {
    return fail(err, "unsupported .npy format version " +
                         std::to_string(major) + "." + std::to_string(minor));
  }
  if (headerLen > size - headerStart)
    return fail(err, "truncated .npy header");

  const char *text = reinterpret_cast<const char *>(bytes + headerStart);
  PyValue dict;
  LiteralParser parser(text, text + headerLen);
  if (!parser.parse(dict))
    return fail(err, "malformed .npy header: " + parser.error());
  if (dict.kind != PyValue::Dict)
    return fail(err, "malformed .npy header: not a dict");
  const PyValue *descr = nullptr, *fortran = nullptr, *shapeValue = nullptr;
  for (size_t i = 0; i + 1 < dict.items.size(); i += 2) {
    const std::string &key = dict.items[i].str;
    const PyValue *value = &dict.items[i + 1];
    if (key == "descr")
      descr = value;
    else if (key == "fortran_order")
      fortran = value;
    else if (key == "shape")
      shapeValue = value;
  }
  if (!descr || !fortran || !shapeValue)
    return fail(
        err,
        "malformed .npy header: needs 'descr', 'fortran_order' and 'shape'");
  if (descr->kind != PyValue::Str)
    return fail(err, "structured dtypes are not supported");
  if (!dtypeFromDescr(descr->str, dtype, err))
    return false;
  if (fortran->kind != PyValue::Bool)
    return fail(err, "malformed .npy header: 'fortran_order' is not a bool");
  if (fortran->boolean)
    return fail(err, "Fortran-order arrays are not supported; save "
                     "np.ascontiguousarray(arr) instead");
  if (shapeValue->kind != PyValue::Seq)
    return fail(err, "malformed .npy header: 'shape' is not a tuple");
  shape.clear();
  for (const PyValue &d : shapeValue->items) {
    if (d.kind != PyValue::Int || d.integer < 0)
      return fail(err, "malformed .npy header: bad dimension in 'shape'");
    shape.push_back(d.integer);
  }
  uint64_t want;
  if (!shapeBytes(shape, dtypeSize(dtype), want))
    return fail(err, "shape " + shapeToString(shape) + " is too large");
  dataOffset = headerStart + headerLen;
  uint64_t have = size - dataOffset;
  if (have != want)
    return fail(
        err, (have < want ? "truncated data: " : "unexpected trailing data: ") +
                 std::string("shape ") + shapeToString(shape) + " " +
                 dtypeName(dtype) + " needs " + std::to_string(want) +
                 " bytes, file has " + std::to_string(have));
  return true;
}

/// Takes ownership of `bytes` so the array data is moved, not copied: .npz
/// training sets can be large.
bool parseNpyOwned(std::vector<uint8_t> &&bytes, Tensor &out,
                   std::string &err) {
  Tensor t;
  size_t offset;
  if (!parseNpyHeader(bytes.data(), bytes.size(), t.dtype, t.shape, offset,
                      err))
    return false;
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(offset));
  t.data = std::move(bytes);
  out = std::move(t);
  return true;
}

/// The magic, version, and padded header dict that precede the array data.
std::vector<uint8_t> npyHeader(const Tensor &t) {
  std::string dict = "{'descr': '";
  dict += descrFor(t.dtype);
  dict += "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < t.shape.size(); ++i) {
    if (i)
      dict += ", ";
    dict += std::to_string(t.shape[i]);
  }
  if (t.shape.size() == 1)
    dict += ','; // a one-tuple needs its comma in Python
  dict += "), }";

  // numpy pads with spaces so the data starts 64-byte aligned and ends the
  // header with a newline; version 2 only when the length needs 32 bits.
  size_t preamble = 10;
  if (dict.size() + 1 + 63 > 0xFFFF)
    preamble = 12;
  size_t total = (preamble + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - preamble - dict.size() - 1, ' ');
  dict += '\n';

  std::vector<uint8_t> out(kNpyMagic, kNpyMagic + 6);
  size_t len = dict.size();
  out.push_back(preamble == 10 ? 1 : 2);
  out.push_back(0);
  for (size_t i = 0; i < preamble - 8; ++i)
    out.push_back(static_cast<uint8_t>(len >> (8 * i)));
  out.insert(out.end(), dict.begin(), dict.end());
  return out;
}

//===----------------------------------------------------------------------===//
// Files
//===----------------------------------------------------------------------===//

std::string errnoText() { return std::strerror(errno); }

struct FileCloser {
  void operator()(FILE *f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<FILE, FileCloser>;

/// Opens a regular file for reading. Directories and devices are refused up
/// front: their reported sizes are meaningless and would drive allocations.
bool openForRead(const std::string &path, FilePtr &f, uint64_t &size,
                 std::string *error) {
  f.reset(std::fopen(path.c_str(), "rb"));
  if (!f)
    return setError(error, path + ": cannot open: " + errnoText());
  struct stat st;
  if (fstat(fileno(f.get()), &st) != 0)
    return setError(error, path + ": cannot stat: " + errnoText());
  if (!S_ISREG(st.st_mode))
    return setError(error, path + ": not a regular file");
  size = static_cast<uint64_t>(st.st_size);
  return true;
}

bool readAt(FILE *f, uint64_t offset, size_t n, uint8_t *dst) {
  if (fseeko(f, static_cast<off_t>(offset), SEEK_SET) != 0)
    return false;
  return std::fread(dst, 1, n, f) == n;
}

/// Writes PATH.tmp.<pid> and renames it over PATH on commit, so a reader (or a
/// crash mid-write, e.g. during a checkpoint) never sees a half-written file.
class AtomicFile {
public:
  explicit AtomicFile(std::string path)
      : path(std::move(path)),
        tmpPath(this->path + ".tmp." + std::to_string(getpid())) {}
  ~AtomicFile() {
    if (f) {
      std::fclose(f);
      std::remove(tmpPath.c_str());
    }
  }

  bool open(std::string *error) {
    f = std::fopen(tmpPath.c_str(), "wb");
    if (!f)
      return setError(error, path + ": cannot create '" + tmpPath +
                                 "': " + errnoText());
    return true;
  }

  void write(const void *data, size_t n) {
    if (ok && n && std::fwrite(data, 1, n, f) != n)
      ok = false;
    written += n;
  }
  uint64_t offset() const { return written; }

  bool commit(std::string *error) {
    bool good = ok && std::fflush(f) == 0 && fsync(fileno(f)) == 0;
    std::string why = errnoText();
    good = (std::fclose(f) == 0) && good;
    f = nullptr;
    if (good && std::rename(tmpPath.c_str(), path.c_str()) == 0)
      return true;
    if (good)
      why = errnoText();
    std::remove(tmpPath.c_str());
    return setError(error, path + ": write failed: " + why);
  }

private:
  std::string path;
  std::string tmpPath;
  FILE *f = nullptr;
  bool ok = true;
  uint64_t written = 0;
};

//===----------------------------------------------------------------------===//
// Zip
//===----------------------------------------------------------------------===//

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

constexpr uint32_t kLocalSig = 0x04034b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint32_t k32Max = 0xFFFFFFFFu;
constexpr uint16_t k16Max = 0xFFFF;

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

struct CentralEntry {
  std::string name;     // "x.npy"
  uint64_t size;        // stored, so compressed == uncompressed
  uint64_t localOffset; // of the local header
  uint32_t crc;
  uint16_t flags;
  uint32_t method;
};

/// Reads the central directory. Sizes and offsets come from it rather than
/// from local headers, which may defer them to a data descriptor.
bool readCentralDirectory(FILE *f, uint64_t fileSize,
                          std::vector<CentralEntry> &entries,
                          std::string &err) {
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
    CentralEntry e;
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

bool readZipEntry(FILE *f, uint64_t fileSize, const CentralEntry &e,
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

} // namespace

//===----------------------------------------------------------------------===//
// Public API
//===----------------------------------------------------------------------===//

bool parseNpy(const std::vector<uint8_t> &bytes, Tensor &out,
              std::string *error) {
  std::string err;
  if (!parseNpyOwned(std::vector<uint8_t>(bytes), out, err))
    return setError(error, err);
  return true;
}

bool readNpy(const std::string &path, Tensor &out, std::string *error) {
  FilePtr f;
  uint64_t size;
  if (!openForRead(path, f, size, error))
    return false;
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  if (!readAt(f.get(), 0, bytes.size(), bytes.data()))
    return setError(error, path + ": read error");
  std::string err;
  if (!parseNpyOwned(std::move(bytes), out, err))
    return setError(error, path + ": " + err);
  return true;
}

std::vector<uint8_t> serializeNpy(const Tensor &t) {
  std::string err;
  if (!checkTensor(t, err))
    return {};
  std::vector<uint8_t> out = npyHeader(t);
  out.insert(out.end(), t.data.begin(), t.data.end());
  return out;
}

bool writeNpy(const std::string &path, const Tensor &t, std::string *error) {
  std::string err;
  if (!checkTensor(t, err))
    return setError(error, path + ": " + err);
  AtomicFile file(path);
  if (!file.open(error))
    return false;
  std::vector<uint8_t> header = npyHeader(t);
  file.write(header.data(), header.size());
  file.write(t.data.data(), t.data.size());
  return file.commit(error);
}

bool readNpz(const std::string &path,
             std::vector<std::pair<std::string, Tensor>> &out,
             std::string *error) {
  FilePtr f;
  uint64_t size;
  if (!openForRead(path, f, size, error))
    return false;
  std::vector<CentralEntry> entries;
  std::string err;
  if (!readCentralDirectory(f.get(), size, entries, err))
    return setError(error, path + ": " + err);

  std::vector<std::pair<std::string, Tensor>> arrays;
  for (const CentralEntry &e : entries) {
    if (!e.name.empty() && e.name.back() == '/')
      continue; // a directory, not an array
    std::vector<uint8_t> bytes;
    if (!readZipEntry(f.get(), size, e, bytes, err))
      return setError(error, path + ": " + err);
    Tensor t;
    if (!parseNpyOwned(std::move(bytes), t, err))
      return setError(error, path + ": entry '" + e.name + "': " + err);
    std::string name = e.name;
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0)
      name.resize(name.size() - 4);
    arrays.emplace_back(std::move(name), std::move(t));
  }
  out = std::move(arrays);
  return true;
}

bool writeNpz(const std::string &path,
              const std::vector<std::pair<std::string, Tensor>> &arrays,
              std::string *error) {
  std::set<std::string> seen;
  for (const auto &[name, t] : arrays) {
    std::string err;
    if (name.empty() || name.size() > 0xFFFF - 4)
      return setError(error, path + ": invalid array name '" + name + "'");
    if (!seen.insert(name).second)
      return setError(error, path + ": duplicate array name '" + name + "'");
    if (!checkTensor(t, err))
      return setError(error, path + ": array '" + name + "': " + err);
  }

  AtomicFile file(path);
  if (!file.open(error))
    return false;
  // A fixed timestamp (1980-01-01) keeps archives byte-reproducible.
  const uint16_t dosTime = 0, dosDate = (1 << 5) | 1;
  std::vector<CentralEntry> entries;
  for (const auto &[name, t] : arrays) {
    CentralEntry e;
    e.name = name + ".npy";
    std::vector<uint8_t> header = npyHeader(t);
    e.size = header.size() + t.data.size();
    e.crc = crc32Update(crc32Update(0, header.data(), header.size()),
                        t.data.data(), t.data.size());
    e.localOffset = file.offset();
    e.method = 0;
    e.flags = 0;
    for (char c : e.name)
      if (static_cast<unsigned char>(c) >= 0x80)
        e.flags = 1 << 11; // names are UTF-8

    bool zip64 = e.size >= k32Max;
    Bytes local;
    local.u32(kLocalSig).u16(zip64 ? 45 : 20).u16(e.flags).u16(0);
    local.u16(dosTime).u16(dosDate).u32(e.crc);
    local.u32(zip64 ? k32Max : e.size).u32(zip64 ? k32Max : e.size);
    local.u16(e.name.size()).u16(zip64 ? 20 : 0).append(e.name);
    if (zip64)
      local.u16(1).u16(16).u64(e.size).u64(e.size);
    file.write(local.b.data(), local.b.size());
    file.write(header.data(), header.size());
    file.write(t.data.data(), t.data.size());
    entries.push_back(std::move(e));
  }

  uint64_t cdOffset = file.offset();
  Bytes cd;
  for (const CentralEntry &e : entries) {
    bool bigSize = e.size >= k32Max, bigOffset = e.localOffset >= k32Max;
    Bytes extra;
    if (bigSize)
      extra.u64(e.size).u64(e.size);
    if (bigOffset)
      extra.u64(e.localOffset);
    bool zip64 = !extra.b.empty();
    // Made by Unix (3) so that unzip restores rw-r--r-- permissions.
    cd.u32(kCentralSig).u16((3 << 8) | 45).u16(zip64 ? 45 : 20);
    cd.u16(e.flags).u16(0).u16(dosTime).u16(dosDate).u32(e.crc);
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
  file.write(cd.b.data(), cd.b.size());
  return file.commit(error);
}

} // namespace lathe
