// Tests of the runtime C ABI (lathe/runtime.h) and the Tensor helpers.
#include "lathe/runtime.h"
#include "lathe/Tensor.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace {

// What the hand-written entries below saw, so tests can check the runtime
// passed the right pointers.
void *gSeenArena = nullptr;
int gCalls = 0;

constexpr int64_t kN = 8;

} // namespace

// Hand-written stand-ins for compiled models, with C linkage like the real
// ones: y = (x + 1) * 2, with x + 1 staged through the arena as generated code
// stages its intermediates.
extern "C" {
static void addOneTimesTwo(void *arena, void *const *inputs,
                           void *const *outputs) {
  ++gCalls;
  gSeenArena = arena;
  const float *x = static_cast<const float *>(inputs[0]);
  float *tmp = static_cast<float *>(arena);
  float *y = static_cast<float *>(outputs[0]);
  for (int64_t i = 0; i < kN; ++i)
    tmp[i] = x[i] + 1.0f;
  for (int64_t i = 0; i < kN; ++i)
    y[i] = tmp[i] * 2.0f;
}

static void recordOnly(void *arena, void *const *, void *const *) {
  ++gCalls;
  gSeenArena = arena;
}
}

namespace {

const int64_t kShape[] = {2, 4};
const lathe_tensor_desc kIn[] = {{"x", LATHE_DTYPE_FLOAT, 2, kShape}};
const lathe_tensor_desc kOut[] = {{"y", LATHE_DTYPE_FLOAT, 2, kShape}};

lathe_model_desc makeModel() {
  lathe_model_desc m{};
  m.abi_version = LATHE_ABI_VERSION;
  m.name = "add_one_times_two";
  m.num_inputs = 1;
  m.num_outputs = 1;
  m.inputs = kIn;
  m.outputs = kOut;
  m.arena_bytes = kN * sizeof(float);
  m.naive_bytes = kN * sizeof(float);
  m.param_bytes = 0;
  m.entry = addOneTimesTwo;
  return m;
}

class RunTest : public ::testing::Test {
protected:
  void SetUp() override {
    gCalls = 0;
    gSeenArena = nullptr;
    for (int i = 0; i < kN; ++i)
      x[i] = static_cast<float>(i);
  }

  lathe_status run(const lathe_model_desc *m, void *arena = nullptr) {
    void *ins[] = {x};
    void *outs[] = {y};
    return lathe_run(m, arena, ins, outs, err, sizeof(err));
  }

  float x[kN];
  float y[kN] = {};
  char err[256] = "stale";
};

bool isAligned(const void *p) {
  return reinterpret_cast<uintptr_t>(p) % LATHE_ARENA_ALIGNMENT == 0;
}

TEST(DType, SizesAndNames) {
  EXPECT_EQ(lathe_dtype_size(LATHE_DTYPE_FLOAT), 4u);
  EXPECT_EQ(lathe_dtype_size(LATHE_DTYPE_UINT8), 1u);
  EXPECT_EQ(lathe_dtype_size(LATHE_DTYPE_INT8), 1u);
  EXPECT_EQ(lathe_dtype_size(LATHE_DTYPE_UINT16), 2u);
  EXPECT_EQ(lathe_dtype_size(LATHE_DTYPE_INT16), 2u);
  EXPECT_EQ(lathe_dtype_size(LATHE_DTYPE_INT32), 4u);
  EXPECT_EQ(lathe_dtype_size(LATHE_DTYPE_INT64), 8u);
  EXPECT_EQ(lathe_dtype_size(LATHE_DTYPE_BOOL), 1u);
  EXPECT_EQ(lathe_dtype_size(LATHE_DTYPE_FLOAT16), 2u);
  EXPECT_EQ(lathe_dtype_size(LATHE_DTYPE_DOUBLE), 8u);
  EXPECT_EQ(lathe_dtype_size(0), 0u);
  EXPECT_EQ(lathe_dtype_size(8), 0u); // ONNX STRING: not a runtime dtype
  EXPECT_EQ(lathe_dtype_size(-1), 0u);

  EXPECT_STREQ(lathe_dtype_name(LATHE_DTYPE_FLOAT), "float32");
  EXPECT_STREQ(lathe_dtype_name(LATHE_DTYPE_DOUBLE), "float64");
  EXPECT_STREQ(lathe_dtype_name(LATHE_DTYPE_FLOAT16), "float16");
  EXPECT_STREQ(lathe_dtype_name(LATHE_DTYPE_INT64), "int64");
  EXPECT_STREQ(lathe_dtype_name(LATHE_DTYPE_UINT8), "uint8");
  EXPECT_STREQ(lathe_dtype_name(LATHE_DTYPE_BOOL), "bool");
  EXPECT_STREQ(lathe_dtype_name(1234), "unknown");

  EXPECT_EQ(lathe::dtypeSize(lathe::DType::I16), 2u);
  EXPECT_STREQ(lathe::dtypeName(lathe::DType::U16), "uint16");
}

TEST(TensorBytes, Shapes) {
  const int64_t shape[] = {2, 3, 4};
  lathe_tensor_desc t{"t", LATHE_DTYPE_INT64, 3, shape};
  EXPECT_EQ(lathe_tensor_bytes(&t), 2u * 3 * 4 * 8);
  t.rank = 0; // scalar: one element
  EXPECT_EQ(lathe_tensor_bytes(&t), 8u);
  const int64_t empty[] = {5, 0};
  lathe_tensor_desc e{"e", LATHE_DTYPE_FLOAT, 2, empty};
  EXPECT_EQ(lathe_tensor_bytes(&e), 0u);
  EXPECT_EQ(lathe_tensor_bytes(nullptr), 0u);
  const int64_t negative[] = {-1, 4};
  lathe_tensor_desc n{"n", LATHE_DTYPE_FLOAT, 2, negative};
  EXPECT_EQ(lathe_tensor_bytes(&n), 0u);
  lathe_tensor_desc bad{"bad", 777, 3, shape};
  EXPECT_EQ(lathe_tensor_bytes(&bad), 0u);
}

TEST(Arena, AllocIsAligned) {
  lathe_model_desc m = makeModel();
  for (uint64_t bytes : {1ull, 63ull, 64ull, 65ull, 4096ull + 3}) {
    m.arena_bytes = bytes;
    void *a = lathe_arena_alloc(&m);
    ASSERT_NE(a, nullptr);
    EXPECT_TRUE(isAligned(a));
    std::memset(a, 0xAB, bytes); // the whole requested size is usable
    lathe_arena_free(a);
  }
  m.arena_bytes = 0;
  void *a = lathe_arena_alloc(&m);
  EXPECT_NE(a, nullptr); // NULL is reserved for failure
  lathe_arena_free(a);
  EXPECT_EQ(lathe_arena_alloc(nullptr), nullptr);
  lathe_arena_free(nullptr);
}

TEST_F(RunTest, RunsWithCallerArena) {
  lathe_model_desc m = makeModel();
  void *arena = lathe_arena_alloc(&m);
  ASSERT_NE(arena, nullptr);
  EXPECT_EQ(run(&m, arena), LATHE_OK);
  EXPECT_STREQ(err, "");
  EXPECT_EQ(gCalls, 1);
  EXPECT_EQ(gSeenArena, arena);
  for (int i = 0; i < kN; ++i)
    EXPECT_EQ(y[i], (i + 1.0f) * 2.0f);
  lathe_arena_free(arena);
}

TEST_F(RunTest, AllocatesTemporaryArena) {
  lathe_model_desc m = makeModel();
  EXPECT_EQ(run(&m), LATHE_OK) << err;
  EXPECT_EQ(gCalls, 1);
  EXPECT_NE(gSeenArena, nullptr);
  EXPECT_TRUE(isAligned(gSeenArena));
  EXPECT_EQ(y[kN - 1], kN * 2.0f);
}

TEST_F(RunTest, NoArenaWhenNoneIsPlanned) {
  lathe_model_desc m = makeModel();
  m.arena_bytes = 0;
  m.entry = recordOnly;
  gSeenArena = &gCalls;
  EXPECT_EQ(run(&m), LATHE_OK);
  EXPECT_EQ(gCalls, 1);
  EXPECT_EQ(gSeenArena, nullptr);
}

TEST_F(RunTest, NullModel) {
  EXPECT_EQ(run(nullptr), LATHE_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(err, "model is NULL");
  EXPECT_EQ(gCalls, 0);
}

TEST_F(RunTest, AbiMismatch) {
  lathe_model_desc m = makeModel();
  m.abi_version = LATHE_ABI_VERSION + 1;
  EXPECT_EQ(run(&m), LATHE_ERROR_ABI_MISMATCH);
  EXPECT_NE(std::string(err).find("ABI"), std::string::npos) << err;
  EXPECT_NE(std::string(err).find("add_one_times_two"), std::string::npos);
  EXPECT_EQ(gCalls, 0);
}

TEST_F(RunTest, NullEntry) {
  lathe_model_desc m = makeModel();
  m.entry = nullptr;
  EXPECT_EQ(run(&m), LATHE_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(err).find("entry"), std::string::npos) << err;
}

TEST_F(RunTest, NullInputPointer) {
  lathe_model_desc m = makeModel();
  void *ins[] = {nullptr};
  void *outs[] = {y};
  EXPECT_EQ(lathe_run(&m, nullptr, ins, outs, err, sizeof(err)),
            LATHE_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(err, "input 0 ('x') is NULL");
  EXPECT_EQ(lathe_run(&m, nullptr, nullptr, outs, err, sizeof(err)),
            LATHE_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(err).find("inputs array is NULL"), std::string::npos)
      << err;
  EXPECT_EQ(gCalls, 0);
}

TEST_F(RunTest, NullOutputPointer) {
  lathe_model_desc m = makeModel();
  void *ins[] = {x};
  void *outs[] = {nullptr};
  EXPECT_EQ(lathe_run(&m, nullptr, ins, outs, err, sizeof(err)),
            LATHE_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(err, "output 0 ('y') is NULL");
  EXPECT_EQ(lathe_run(&m, nullptr, ins, nullptr, err, sizeof(err)),
            LATHE_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(gCalls, 0);
}

TEST_F(RunTest, BadDescriptors) {
  lathe_model_desc m = makeModel();
  m.num_inputs = -1;
  EXPECT_EQ(run(&m), LATHE_ERROR_INVALID_ARGUMENT);

  m = makeModel();
  lathe_tensor_desc badDtype[] = {{"x", 42, 2, kShape}};
  m.inputs = badDtype;
  EXPECT_EQ(run(&m), LATHE_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(err).find("dtype"), std::string::npos) << err;

  m = makeModel();
  lathe_tensor_desc noShape[] = {{"y", LATHE_DTYPE_FLOAT, 2, nullptr}};
  m.outputs = noShape;
  EXPECT_EQ(run(&m), LATHE_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(gCalls, 0);
}

TEST_F(RunTest, NoTensorDescriptorsIsFine) {
  // The tensor descriptors only document the buffers; a model may omit them.
  lathe_model_desc m = makeModel();
  m.inputs = nullptr;
  m.outputs = nullptr;
  EXPECT_EQ(run(&m), LATHE_OK) << err;
  EXPECT_EQ(gCalls, 1);
}

TEST_F(RunTest, ZeroInputsMayPassNullArrays) {
  lathe_model_desc m = makeModel();
  m.num_inputs = 0;
  m.num_outputs = 0;
  m.entry = recordOnly;
  EXPECT_EQ(lathe_run(&m, nullptr, nullptr, nullptr, err, sizeof(err)),
            LATHE_OK);
  EXPECT_EQ(gCalls, 1);
}

TEST_F(RunTest, ErrorBufferIsOptionalAndTruncated) {
  lathe_model_desc m = makeModel();
  m.entry = nullptr;
  void *ins[] = {x};
  void *outs[] = {y};
  EXPECT_EQ(lathe_run(&m, nullptr, ins, outs, nullptr, 0),
            LATHE_ERROR_INVALID_ARGUMENT);
  char small[8];
  std::memset(small, 'z', sizeof(small));
  EXPECT_EQ(lathe_run(&m, nullptr, ins, outs, small, sizeof(small)),
            LATHE_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(std::strlen(small), sizeof(small) - 1);
  char untouched = 'q';
  EXPECT_EQ(lathe_run(&m, nullptr, ins, outs, &untouched, 0),
            LATHE_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(untouched, 'q');
}

TEST(Version, Runtime) { EXPECT_STREQ(lathe_runtime_version(), "0.1.0"); }

TEST(Tensor, ShapeToString) {
  EXPECT_EQ(lathe::shapeToString({1, 3, 32, 32}), "1x3x32x32");
  EXPECT_EQ(lathe::shapeToString({7}), "7");
  EXPECT_EQ(lathe::shapeToString({0, 2}), "0x2");
  EXPECT_EQ(lathe::shapeToString({}), "scalar");
}

TEST(Tensor, ConstructorSizesData) {
  lathe::Tensor t(lathe::DType::I64, {2, 3});
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(t.bytes(), 48u);
  lathe::Tensor s(lathe::DType::F16, {});
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.bytes(), 2u);
}

} // namespace
