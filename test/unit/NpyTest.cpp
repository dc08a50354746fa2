// Tests of .npy/.npz reading and writing (lathe/Npy.h), including files written
// by real NumPy (test/unit/data, regenerated with the commands in
// data/README.md).
#include "lathe/Npy.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <unistd.h>

using lathe::DType;
using lathe::Tensor;
using NamedArrays = std::vector<std::pair<std::string, Tensor>>;

namespace {

std::string dataPath(const std::string &name) {
  return std::string(LATHE_TEST_DATA_DIR) + "/" + name;
}

std::vector<uint8_t> readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void writeBytes(const std::string &path, const std::vector<uint8_t> &bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char *>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

/// A fresh directory per test, removed afterwards.
class NpyFileTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/lathe-npy-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir = tmpl;
  }
  void TearDown() override {
    for (const std::string &f : listDir())
      std::remove((dir + "/" + f).c_str());
    rmdir(dir.c_str());
  }
  std::string path(const std::string &name) const { return dir + "/" + name; }
  std::vector<std::string> listDir() const {
    std::vector<std::string> names;
    if (DIR *d = opendir(dir.c_str())) {
      while (dirent *e = readdir(d))
        if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, ".."))
          names.push_back(e->d_name);
      closedir(d);
    }
    return names;
  }

  std::string dir;
};

/// Deterministic but dtype-agnostic contents: every byte pattern is a valid
/// value for every dtype (bool aside, which the round trip still preserves).
Tensor patterned(DType dtype, std::vector<int64_t> shape, uint8_t seed = 1) {
  Tensor t(dtype, std::move(shape));
  for (size_t i = 0; i < t.data.size(); ++i)
    t.data[i] = static_cast<uint8_t>(seed + i * 37);
  return t;
}

void expectSame(const Tensor &a, const Tensor &b) {
  EXPECT_EQ(a.dtype, b.dtype);
  EXPECT_EQ(a.shape, b.shape);
  EXPECT_EQ(a.data, b.data);
}

/// An .npy image with a hand-written header dict, padded as numpy pads it.
std::vector<uint8_t> makeNpy(const std::string &dict,
                             const std::vector<uint8_t> &data, int major = 1) {
  std::string header = dict;
  size_t preamble = major == 1 ? 10 : 12;
  while ((preamble + header.size() + 1) % 64)
    header += ' ';
  header += '\n';
  std::vector<uint8_t> out = {
      0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  for (size_t i = 0; i < preamble - 8; ++i)
    out.push_back(static_cast<uint8_t>(header.size() >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::string parseError(const std::vector<uint8_t> &bytes) {
  Tensor t;
  std::string err;
  EXPECT_FALSE(lathe::parseNpy(bytes, t, &err));
  EXPECT_EQ(err.find('\n'), std::string::npos) << "multi-line: " << err;
  return err;
}

const DType kAllDTypes[] = {DType::F32, DType::F64, DType::F16, DType::I8,
                            DType::I16, DType::I32, DType::I64, DType::U8,
                            DType::U16, DType::U32, DType::U64, DType::Bool};

//===----------------------------------------------------------------------===//
// Round trips
//===----------------------------------------------------------------------===//

class DTypeRoundTrip : public ::testing::TestWithParam<DType> {};

TEST_P(DTypeRoundTrip, InMemory) {
  for (const std::vector<int64_t> &shape :
       {std::vector<int64_t>{2, 3}, {}, {5}, {2, 0, 3}, {1, 2, 3, 4, 5}}) {
    Tensor t = patterned(GetParam(), shape);
    if (t.dtype == DType::Bool)
      for (uint8_t &b : t.data)
        b &= 1;
    std::vector<uint8_t> bytes = lathe::serializeNpy(t);
    ASSERT_FALSE(bytes.empty());
    // numpy aligns the data to 64 bytes; mmap users rely on it.
    EXPECT_EQ((bytes.size() - t.data.size()) % 64, 0u);
    Tensor back;
    std::string err;
    ASSERT_TRUE(lathe::parseNpy(bytes, back, &err)) << err;
    expectSame(t, back);
  }
}

INSTANTIATE_TEST_SUITE_P(AllDTypes, DTypeRoundTrip,
                         ::testing::ValuesIn(kAllDTypes),
                         [](const ::testing::TestParamInfo<DType> &info) {
                           return std::string(lathe::dtypeName(info.param));
                         });

TEST_F(NpyFileTest, FileRoundTripEveryDType) {
  for (DType dtype : kAllDTypes) {
    Tensor t = patterned(dtype, {3, 2}, static_cast<uint8_t>(dtype));
    std::string p = path(std::string(lathe::dtypeName(dtype)) + ".npy");
    std::string err;
    ASSERT_TRUE(lathe::writeNpy(p, t, &err)) << err;
    Tensor back;
    ASSERT_TRUE(lathe::readNpy(p, back, &err)) << err;
    expectSame(t, back);
  }
}

TEST(NpyHeader, LooksLikeNumpys) {
  Tensor t(DType::F32, {4});
  std::vector<uint8_t> bytes = lathe::serializeNpy(t);
  std::string text(bytes.begin(), bytes.end());
  EXPECT_EQ(text.substr(1, 5), "NUMPY");
  EXPECT_EQ(bytes[6], 1);
  EXPECT_NE(text.find("{'descr': '<f4', 'fortran_order': False, "
                      "'shape': (4,), }"),
            std::string::npos);
  EXPECT_EQ(bytes[bytes.size() - t.bytes() - 1], '\n');

  std::string scalar = [] {
    std::vector<uint8_t> b = lathe::serializeNpy(Tensor(DType::Bool, {}));
    return std::string(b.begin(), b.end());
  }();
  EXPECT_NE(scalar.find("'descr': '|b1'"), std::string::npos);
  EXPECT_NE(scalar.find("'shape': ()"), std::string::npos);
}

TEST(NpyHeader, LongHeaderUsesVersion2) {
  // 25000 dimensions of 1 ("1, " each) overflow a 16-bit header length.
  Tensor t(DType::U8, std::vector<int64_t>(25000, 1));
  std::vector<uint8_t> bytes = lathe::serializeNpy(t);
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(bytes[6], 2);
  Tensor back;
  std::string err;
  ASSERT_TRUE(lathe::parseNpy(bytes, back, &err)) << err;
  expectSame(t, back);
}

TEST_F(NpyFileTest, InconsistentTensorIsRefused) {
  Tensor t(DType::F32, {2, 3});
  t.data.pop_back();
  EXPECT_TRUE(lathe::serializeNpy(t).empty());
  std::string err;
  EXPECT_FALSE(lathe::writeNpy(path("bad.npy"), t, &err));
  EXPECT_NE(err.find(path("bad.npy")), std::string::npos) << err;
  EXPECT_NE(err.find("2x3"), std::string::npos) << err;
  EXPECT_TRUE(listDir().empty());
}

TEST_F(NpyFileTest, WritesAreAtomic) {
  std::string p = path("a.npy");
  std::string err;
  ASSERT_TRUE(lathe::writeNpy(p, patterned(DType::I32, {4}), &err)) << err;
  // Overwrite with a different array; only the final file may remain.
  Tensor second = patterned(DType::F64, {2}, 9);
  ASSERT_TRUE(lathe::writeNpy(p, second, &err)) << err;
  EXPECT_EQ(listDir(), std::vector<std::string>{"a.npy"});
  Tensor back;
  ASSERT_TRUE(lathe::readNpy(p, back, &err)) << err;
  expectSame(second, back);

  ASSERT_TRUE(lathe::writeNpz(path("b.npz"), {{"x", second}}, &err)) << err;
  EXPECT_EQ(listDir().size(), 2u);
}

TEST_F(NpyFileTest, WriteIntoMissingDirectoryFails) {
  std::string p = path("no/such/dir/a.npy");
  std::string err;
  EXPECT_FALSE(lathe::writeNpy(p, patterned(DType::I32, {4}), &err));
  EXPECT_EQ(err.rfind(p + ":", 0), 0u) << err;
  EXPECT_FALSE(lathe::writeNpz(path("no/x.npz"), {}, &err));
  EXPECT_EQ(err.rfind(path("no/x.npz") + ":", 0), 0u) << err;
}

TEST_F(NpyFileTest, NpzRoundTrip) {
  NamedArrays arrays = {
      {"weights", patterned(DType::F32, {3, 4})},
      {"bias", patterned(DType::F64, {4}, 3)},
      {"step", patterned(DType::I64, {}, 5)},
      {"empty", patterned(DType::I16, {0, 7})},
      {"mask", Tensor(DType::Bool, {2, 2})},
      {"a.b-c", patterned(DType::U8, {9}, 7)},
  };
  std::string p = path("ckpt.npz");
  std::string err;
  ASSERT_TRUE(lathe::writeNpz(p, arrays, &err)) << err;
  NamedArrays back;
  ASSERT_TRUE(lathe::readNpz(p, back, &err)) << err;
  ASSERT_EQ(back.size(), arrays.size());
  for (size_t i = 0; i < arrays.size(); ++i) {
    EXPECT_EQ(back[i].first, arrays[i].first);
    expectSame(arrays[i].second, back[i].second);
  }
}

TEST_F(NpyFileTest, EmptyNpz) {
  std::string err;
  ASSERT_TRUE(lathe::writeNpz(path("e.npz"), {}, &err)) << err;
  NamedArrays back = {{"stale", Tensor()}};
  ASSERT_TRUE(lathe::readNpz(path("e.npz"), back, &err)) << err;
  EXPECT_TRUE(back.empty());
}

TEST_F(NpyFileTest, NpzWriteErrors) {
  std::string err;
  Tensor t = patterned(DType::F32, {2});
  EXPECT_FALSE(lathe::writeNpz(path("d.npz"), {{"x", t}, {"x", t}}, &err));
  EXPECT_NE(err.find("duplicate"), std::string::npos) << err;
  EXPECT_FALSE(lathe::writeNpz(path("d.npz"), {{"", t}}, &err));
  Tensor bad = t;
  bad.data.push_back(0);
  EXPECT_FALSE(lathe::writeNpz(path("d.npz"), {{"x", t}, {"y", bad}}, &err));
  EXPECT_NE(err.find("'y'"), std::string::npos) << err;
  EXPECT_TRUE(listDir().empty());
}

//===----------------------------------------------------------------------===//
// Files written by NumPy 1.24 (see data/README.md)
//===----------------------------------------------------------------------===//

TEST(NumpyFixtures, Float32Matrix) {
  Tensor t;
  std::string err;
  ASSERT_TRUE(lathe::readNpy(dataPath("f32_2x3.npy"), t, &err)) << err;
  EXPECT_EQ(t.dtype, DType::F32);
  EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 3}));
  const float want[] = {1.5f, -2.0f, 3.25f, 0.0f, 1e-3f, -7.5f};
  ASSERT_EQ(t.numel(), 6);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(t.as<float>()[i], want[i]);
}

TEST(NumpyFixtures, Int64) {
  Tensor t;
  std::string err;
  ASSERT_TRUE(lathe::readNpy(dataPath("i64.npy"), t, &err)) << err;
  EXPECT_EQ(t.dtype, DType::I64);
  EXPECT_EQ(t.shape, (std::vector<int64_t>{5}));
  const int64_t want[] = {1, -2, 3, int64_t(1) << 40, -(int64_t(1) << 62)};
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(t.as<int64_t>()[i], want[i]);
}

TEST(NumpyFixtures, Bool) {
  Tensor t;
  std::string err;
  ASSERT_TRUE(lathe::readNpy(dataPath("bool.npy"), t, &err)) << err;
  EXPECT_EQ(t.dtype, DType::Bool);
  EXPECT_EQ(t.data, (std::vector<uint8_t>{1, 0, 1, 1}));
}

TEST(NumpyFixtures, Scalar) {
  Tensor t;
  std::string err;
  ASSERT_TRUE(lathe::readNpy(dataPath("scalar.npy"), t, &err)) << err;
  EXPECT_EQ(t.dtype, DType::F64);
  EXPECT_TRUE(t.shape.empty());
  EXPECT_EQ(t.numel(), 1);
  EXPECT_EQ(t.as<double>()[0], 2.5);
}

TEST(NumpyFixtures, Uint8AndFloat16) {
  Tensor u, h;
  std::string err;
  ASSERT_TRUE(lathe::readNpy(dataPath("u8.npy"), u, &err)) << err;
  EXPECT_EQ(u.dtype, DType::U8);
  EXPECT_EQ(u.data, (std::vector<uint8_t>{0, 1, 255}));
  ASSERT_TRUE(lathe::readNpy(dataPath("f16.npy"), h, &err)) << err;
  EXPECT_EQ(h.dtype, DType::F16);
  // 1.0, -0.5 and 65504 (the largest half) as IEEE binary16 bits.
  const uint16_t want[] = {0x3C00, 0xB800, 0x7BFF};
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(h.as<uint16_t>()[i], want[i]);
}

TEST(NumpyFixtures, SavezArchive) {
  NamedArrays arrays;
  std::string err;
  ASSERT_TRUE(lathe::readNpz(dataPath("two.npz"), arrays, &err)) << err;
  ASSERT_EQ(arrays.size(), 2u);
  EXPECT_EQ(arrays[0].first, "x");
  EXPECT_EQ(arrays[0].second.dtype, DType::F32);
  EXPECT_EQ(arrays[0].second.shape, (std::vector<int64_t>{2, 3}));
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(arrays[0].second.as<float>()[i], static_cast<float>(i));
  EXPECT_EQ(arrays[1].first, "labels");
  EXPECT_EQ(arrays[1].second.dtype, DType::I64);
  EXPECT_EQ(arrays[1].second.as<int64_t>()[0], 3);
  EXPECT_EQ(arrays[1].second.as<int64_t>()[1], 1);
}

TEST(NumpyFixtures, SavezCompressedIsRefused) {
  NamedArrays arrays;
  std::string err;
  std::string p = dataPath("compressed.npz");
  EXPECT_FALSE(lathe::readNpz(p, arrays, &err));
  EXPECT_EQ(err, p + ": entry 'x.npy' is deflate-compressed; save with "
                     "numpy.savez, not savez_compressed");
}

TEST(NumpyFixtures, NpyIsNotNpzAndViceVersa) {
  NamedArrays arrays;
  Tensor t;
  std::string err;
  EXPECT_FALSE(lathe::readNpz(dataPath("f32_2x3.npy"), arrays, &err));
  EXPECT_NE(err.find("not a zip archive"), std::string::npos) << err;
  EXPECT_FALSE(lathe::readNpy(dataPath("two.npz"), t, &err));
  EXPECT_NE(err.find("not a .npy file"), std::string::npos) << err;
}

//===----------------------------------------------------------------------===//
// Header variants and refusals
//===----------------------------------------------------------------------===//

TEST(NpyParse, AcceptedSpellings) {
  struct Case {
    const char *dict;
    DType dtype;
    std::vector<int64_t> shape;
  };
  const Case cases[] = {
      {"{'descr': '<u1', 'fortran_order': False, 'shape': (2,), }",
       DType::U8,
       {2}},
      {"{'descr': '<i1', 'fortran_order': False, 'shape': (2,), }",
       DType::I8,
       {2}},
      {"{'descr': '>u1', 'fortran_order': False, 'shape': (2,), }",
       DType::U8,
       {2}},
      {"{'descr': '|i1', 'fortran_order': False, 'shape': (1, 2)}",
       DType::I8,
       {1, 2}},
      // Key order, quotes and Python 2 longs vary between writers.
      {"{\"shape\": (2L,), \"fortran_order\": False, \"descr\": \"|b1\"}",
       DType::Bool,
       {2}},
      {"{'descr':'<i2','fortran_order':False,'shape':(1,)}", DType::I16, {1}},
      {"{'descr': '<f2', 'fortran_order': False, 'shape': [1], }",
       DType::F16,
       {1}},
  };
  for (const Case &c : cases) {
    std::vector<uint8_t> data(2, 1);
    Tensor t;
    std::string err;
    EXPECT_TRUE(lathe::parseNpy(makeNpy(c.dict, data), t, &err))
        << c.dict << ": " << err;
    EXPECT_EQ(t.dtype, c.dtype) << c.dict;
    EXPECT_EQ(t.shape, c.shape) << c.dict;
  }
}

TEST(NpyParse, Version2And3Headers) {
  const char *dict =
      "{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }";
  std::vector<uint8_t> data = {7, 0, 0, 0};
  for (int major : {2, 3}) {
    Tensor t;
    std::string err;
    ASSERT_TRUE(lathe::parseNpy(makeNpy(dict, data, major), t, &err)) << err;
    EXPECT_EQ(t.as<int32_t>()[0], 7);
  }
  std::vector<uint8_t> v4 = makeNpy(dict, data, 1);
  v4[6] = 4;
  EXPECT_NE(parseError(v4).find("version 4.0"), std::string::npos);
}

TEST(NpyParse, Refusals) {
  auto npy = [](const std::string &descr, const std::string &rest,
                size_t dataBytes) {
    return makeNpy("{'descr': " + descr + ", " + rest + "}",
                   std::vector<uint8_t>(dataBytes, 0));
  };
  const std::string c23 = "'fortran_order': False, 'shape': (2, 3)";
  EXPECT_NE(
      parseError(npy("'<f4'", "'fortran_order': True, 'shape': (2, 3)", 24))
          .find("Fortran"),
      std::string::npos);
  EXPECT_NE(parseError(npy("'>f4'", c23, 24)).find("big-endian"),
            std::string::npos);
  EXPECT_NE(parseError(npy("'>i8'", c23, 48)).find("big-endian"),
            std::string::npos);
  EXPECT_NE(parseError(npy("'<c8'", c23, 48)).find("unsupported dtype '<c8'"),
            std::string::npos);
  EXPECT_NE(parseError(npy("'<c16'", c23, 96)).find("unsupported dtype"),
            std::string::npos);
  EXPECT_NE(parseError(npy("'<U3'", c23, 72)).find("unsupported dtype"),
            std::string::npos);
  EXPECT_NE(parseError(npy("'|O'", c23, 48)).find("unsupported dtype"),
            std::string::npos);
  EXPECT_NE(parseError(npy("[('a', '<f4')]", c23, 24)).find("structured"),
            std::string::npos);
  EXPECT_NE(parseError(npy("'<f4'", "'shape': (2, 3)", 24)).find("needs"),
            std::string::npos);
  EXPECT_NE(parseError(npy("'<f4'", "'fortran_order': 0, 'shape': (2, 3)", 24))
                .find("fortran_order"),
            std::string::npos);
  EXPECT_NE(
      parseError(npy("'<f4'", "'fortran_order': False, 'shape': (-2, 3)", 24))
          .find("dimension"),
      std::string::npos);
  EXPECT_NE(parseError(npy("'<f4'", "'fortran_order': False, 'shape': 6", 24))
                .find("shape"),
            std::string::npos);
  // Shapes whose byte size overflows must not allocate.
  EXPECT_NE(parseError(npy("'<f8'",
                           "'fortran_order': False, 'shape': "
                           "(4611686018427387904, 8)",
                           0))
                .find("too large"),
            std::string::npos);
  EXPECT_NE(parseError(npy("'<f4'", c23, 23)).find("truncated data"),
            std::string::npos);
  EXPECT_NE(parseError(npy("'<f4'", c23, 25)).find("trailing"),
            std::string::npos);
}

TEST(NpyParse, MalformedHeaders) {
  const char *bad[] = {
      "",
      "[]",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)",
      "{'descr': '<f4' 'fortran_order': False}",
      "{'descr: '<f4', 'fortran_order': False, 'shape': ()}",
      "{1: '<f4'}",
      "{'descr': '<f4', 'fortran_order': Maybe, 'shape': ()}",
      "{'shape': (99999999999999999999,)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': ()} extra",
      "{'descr': '<f4', 'fortran_order': False, 'shape': ((((((((((((((((((((",
  };
  for (const char *dict : bad)
    EXPECT_NE(parseError(makeNpy(dict, {})).find("malformed"),
              std::string::npos)
        << dict;
}

//===----------------------------------------------------------------------===//
// Damaged files
//===----------------------------------------------------------------------===//

TEST_F(NpyFileTest, EveryTruncationOfAnNpyFails) {
  for (const char *fixture : {"f32_2x3.npy", "scalar.npy", "bool.npy"}) {
    std::vector<uint8_t> full = readBytes(dataPath(fixture));
    ASSERT_FALSE(full.empty()) << fixture;
    std::string p = path("cut.npy");
    for (size_t n = 0; n < full.size(); ++n) {
      writeBytes(p, std::vector<uint8_t>(full.begin(), full.begin() + n));
      Tensor t;
      std::string err;
      EXPECT_FALSE(lathe::readNpy(p, t, &err)) << fixture << " cut at " << n;
      EXPECT_EQ(err.rfind(p + ": ", 0), 0u) << err;
      EXPECT_EQ(err.find('\n'), std::string::npos) << err;
    }
  }
}

TEST_F(NpyFileTest, EveryTruncationOfAnNpzFails) {
  for (const char *fixture : {"two.npz", "compressed.npz"}) {
    std::vector<uint8_t> full = readBytes(dataPath(fixture));
    ASSERT_FALSE(full.empty()) << fixture;
    std::string p = path("cut.npz");
    for (size_t n = 0; n < full.size(); ++n) {
      writeBytes(p, std::vector<uint8_t>(full.begin(), full.begin() + n));
      NamedArrays arrays;
      std::string err;
      EXPECT_FALSE(lathe::readNpz(p, arrays, &err))
          << fixture << " cut at " << n;
      EXPECT_EQ(err.rfind(p + ": ", 0), 0u) << err;
      EXPECT_EQ(err.find('\n'), std::string::npos) << err;
    }
  }
}

TEST_F(NpyFileTest, CorruptNpzDataFailsTheCrc) {
  std::vector<uint8_t> bytes = readBytes(dataPath("two.npz"));
  // The last data byte of the second member sits right before the central
  // directory; flip a byte inside the first member's array data instead.
  size_t x = std::string(bytes.begin(), bytes.end()).find("NUMPY");
  ASSERT_NE(x, std::string::npos);
  bytes[x + 0x80] ^= 0x40;
  std::string p = path("crc.npz");
  writeBytes(p, bytes);
  NamedArrays arrays;
  std::string err;
  EXPECT_FALSE(lathe::readNpz(p, arrays, &err));
  EXPECT_NE(err.find("CRC"), std::string::npos) << err;
}

TEST_F(NpyFileTest, GarbageFails) {
  std::mt19937 rng(1234);
  std::string p = path("garbage");
  for (size_t n : {0u, 1u, 9u, 10u, 64u, 1000u}) {
    std::vector<uint8_t> bytes(n);
    for (uint8_t &b : bytes)
      b = static_cast<uint8_t>(rng());
    writeBytes(p, bytes);
    Tensor t;
    NamedArrays arrays;
    std::string err;
    EXPECT_FALSE(lathe::readNpy(p, t, &err));
    EXPECT_EQ(err.rfind(p + ": ", 0), 0u) << err;
    EXPECT_FALSE(lathe::readNpz(p, arrays, &err));
    EXPECT_EQ(err.rfind(p + ": ", 0), 0u) << err;
  }
  // The magic followed by garbage must fail in the header, not crash.
  std::vector<uint8_t> bytes = {0x93, 'N', 'U', 'M',  'P',
                                'Y',  1,   0,   0xFF, 0xFF};
  bytes.resize(300, '{');
  EXPECT_FALSE(parseError(bytes).empty());
}

TEST_F(NpyFileTest, MissingFileAndDirectory) {
  Tensor t;
  NamedArrays arrays;
  std::string err;
  std::string missing = path("missing.npy");
  EXPECT_FALSE(lathe::readNpy(missing, t, &err));
  EXPECT_EQ(err.rfind(missing + ": cannot open", 0), 0u) << err;
  EXPECT_FALSE(lathe::readNpz(missing, arrays, &err));
  EXPECT_EQ(err.rfind(missing + ": cannot open", 0), 0u) << err;
  EXPECT_FALSE(lathe::readNpy(dir, t, &err));
  EXPECT_NE(err.find("not a regular file"), std::string::npos) << err;
  EXPECT_FALSE(lathe::readNpz(dir, arrays, &err));
  // A null error pointer is allowed.
  EXPECT_FALSE(lathe::readNpy(missing, t, nullptr));
}

//===----------------------------------------------------------------------===//
// Zip64 central directory (written by zip tools for archives over 4 GiB; built
// by hand here since such a file is too big for a test)
//===----------------------------------------------------------------------===//

struct Le {
  std::vector<uint8_t> b;
  Le &n(uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i)
      b.push_back(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
  Le &s(const std::string &str) {
    b.insert(b.end(), str.begin(), str.end());
    return *this;
  }
  Le &raw(const std::vector<uint8_t> &v) {
    b.insert(b.end(), v.begin(), v.end());
    return *this;
  }
};

TEST_F(NpyFileTest, Zip64CentralDirectory) {
  Tensor t = patterned(DType::I32, {3});
  std::vector<uint8_t> member = lathe::serializeNpy(t);
  // The CRC of the member, taken from an archive lathe wrote itself, so this
  // test does not depend on a second CRC implementation.
  std::string err;
  ASSERT_TRUE(lathe::writeNpz(path("ref.npz"), {{"w", t}}, &err)) << err;
  std::vector<uint8_t> ref = readBytes(path("ref.npz"));
  uint32_t crc = ref[14] | ref[15] << 8 | ref[16] << 16 |
                 static_cast<uint32_t>(ref[17]) << 24;

  const uint64_t size = member.size(), k32 = 0xFFFFFFFF;
  Le zip;
  zip.n(0x04034b50, 4).n(45, 2).n(0, 2).n(0, 2).n(0, 4).n(crc, 4);
  zip.n(k32, 4).n(k32, 4).n(5, 2).n(20, 2).s("w.npy");
  zip.n(1, 2).n(16, 2).n(size, 8).n(size, 8).raw(member);
  uint64_t cdOffset = zip.b.size();
  zip.n(0x02014b50, 4).n(45, 2).n(45, 2).n(0, 2).n(0, 2).n(0, 4).n(crc, 4);
  zip.n(k32, 4).n(k32, 4).n(5, 2).n(28, 2).n(0, 2).n(0, 2).n(0, 2).n(0, 4);
  zip.n(k32, 4).s("w.npy");
  zip.n(1, 2).n(24, 2).n(size, 8).n(size, 8).n(0, 8);
  uint64_t cdSize = zip.b.size() - cdOffset, z64 = zip.b.size();
  zip.n(0x06064b50, 4).n(44, 8).n(45, 2).n(45, 2).n(0, 4).n(0, 4);
  zip.n(1, 8).n(1, 8).n(cdSize, 8).n(cdOffset, 8);
  zip.n(0x07064b50, 4).n(0, 4).n(z64, 8).n(1, 4);
  zip.n(0x06054b50, 4).n(0, 2).n(0, 2).n(0xFFFF, 2).n(0xFFFF, 2);
  zip.n(k32, 4).n(k32, 4).n(0, 2);

  std::string p = path("zip64.npz");
  writeBytes(p, zip.b);
  NamedArrays arrays;
  ASSERT_TRUE(lathe::readNpz(p, arrays, &err)) << err;
  ASSERT_EQ(arrays.size(), 1u);
  EXPECT_EQ(arrays[0].first, "w");
  expectSame(t, arrays[0].second);
}

} // namespace
