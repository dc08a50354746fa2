// SessionOptions::profile through the C++ API: one slot per kernel of the
// compiled @main, counting calls and time from compile or resetProfile();
// nothing without the option; results unchanged by the clock reads.
#include "SessionTestUtils.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

using lathe::Tensor;
using namespace lathe::test;

namespace {

// Two nodes that do not fuse (a reduction after a matmul): at least two
// kernels, one of them a contraction with a known FLOP count.
const char *kModel = R"onnx(
<ir_version: 8, opset_import: ["" : 13]>
agraph (float[4,8] a, float[8,16] b) => (float[4] y) {
  axes = Constant <value = int64[1] {1}> ()
  m = MatMul (a, b)
  y = ReduceSum <keepdims = 0> (m, axes)
}
)onnx";

TEST_F(SessionTest, ProfileCountsEveryKernelCall) {
  lathe::SessionOptions opts;
  opts.profile = true;
  opts.threads = 1;
  auto s = compile("profiled.onnxtxt", kModel, opts);
  ASSERT_TRUE(s);
  std::vector<lathe::KernelProfile> profile = s->profile();
  ASSERT_GE(profile.size(), 2u);
  std::set<std::string> names;
  bool matmul = false;
  for (const lathe::KernelProfile &k : profile) {
    EXPECT_EQ(k.calls, 0) << k.kernel;
    EXPECT_EQ(k.nanoseconds, 0) << k.kernel;
    EXPECT_TRUE(names.insert(k.kernel).second) << k.kernel;
    EXPECT_EQ(k.kernel.rfind("lathe_kernel_", 0), 0u) << k.kernel;
    if (k.ops.find("matmul") != std::string::npos) {
      matmul = true;
      EXPECT_EQ(k.flops, 2 * 4 * 8 * 16) << k.kernel;
      EXPECT_FALSE(k.nodes.empty());
    }
  }
  EXPECT_TRUE(matmul);

  std::mt19937 rng(3);
  Tensor a = randomTensor(rng, {4, 8}), b = randomTensor(rng, {8, 16});
  std::vector<Tensor> outs;
  std::string err;
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(s->run({a, b}, outs, &err)) << err;
  for (const lathe::KernelProfile &k : s->profile()) {
    EXPECT_EQ(k.calls, 3) << k.kernel;
    EXPECT_GE(k.nanoseconds, 0) << k.kernel;
  }
  s->resetProfile();
  ASSERT_TRUE(s->run({a, b}, outs, &err)) << err;
  for (const lathe::KernelProfile &k : s->profile())
    EXPECT_EQ(k.calls, 1) << k.kernel;

  // The same numbers as a Session without the profile.
  auto plain = compile("plain.onnxtxt", kModel);
  ASSERT_TRUE(plain);
  EXPECT_TRUE(plain->profile().empty());
  std::vector<Tensor> expected;
  ASSERT_TRUE(plain->run({a, b}, expected, &err)) << err;
  plain->resetProfile(); // a no-op without the profile
  EXPECT_EQ(values(outs[0]), values(expected[0]));
}

} // namespace
