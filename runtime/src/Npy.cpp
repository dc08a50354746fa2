// NumPy .npy / .npz reading and writing with no dependency beyond libc.
//
// .npy: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
// .npz: a zip archive of .npy members; the zip container is in Zip.cpp.
#include "lathe/Npy.h"

#include "Zip.h"

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

using zip::loadU16;
using zip::loadU32;
using zip::readAt;

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
    {"u2", DType::U16, "<u2"}, {"u4", DType::U32, "<u4"},
    {"u8", DType::U64, "<u8"}, {"b1", DType::Bool, "|b1"},
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
  std::vector<zip::Entry> entries;
  std::string err;
  if (!zip::readCentralDirectory(f.get(), size, entries, err))
    return setError(error, path + ": " + err);

  std::vector<std::pair<std::string, Tensor>> arrays;
  for (const zip::Entry &e : entries) {
    if (!e.name.empty() && e.name.back() == '/')
      continue; // a directory, not an array
    std::vector<uint8_t> bytes;
    if (!zip::readEntry(f.get(), size, e, bytes, err))
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
  std::vector<zip::Entry> entries;
  for (const auto &[name, t] : arrays) {
    std::vector<uint8_t> header = npyHeader(t);
    uint32_t crc =
        zip::crc32Update(zip::crc32Update(0, header.data(), header.size()),
                         t.data.data(), t.data.size());
    zip::Entry e = zip::storedEntry(
        name + ".npy", header.size() + t.data.size(), crc, file.offset());
    std::vector<uint8_t> local = zip::localHeader(e);
    file.write(local.data(), local.size());
    file.write(header.data(), header.size());
    file.write(t.data.data(), t.data.size());
    entries.push_back(std::move(e));
  }

  std::vector<uint8_t> cd = zip::centralDirectory(entries, file.offset());
  file.write(cd.data(), cd.size());
  return file.commit(error);
}

} // namespace lathe
