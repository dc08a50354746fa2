// Parses lathe dialect IR and checks that type inference accepts consistent
// ops (with the right result types) and rejects inconsistent ones with a
// message that names the problem.
#include "MlirTestUtils.h"
#include "ir/LatheOps.h"
#include "tools/lib/Compiler.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <string>

namespace {

using lathe::test::typeString;

class DialectTest : public ::testing::Test {
protected:
  void SetUp() override { ctx = lathe::createCompilerContext(); }

  /// Parses (and verifies) `body` wrapped in a function with the given
  /// signature. Diagnostics are collected in `diagnostics`.
  mlir::OwningOpRef<mlir::ModuleOp> parse(const std::string &text) {
    diagnostics.clear();
    mlir::ScopedDiagnosticHandler handler(ctx.get(), [&](mlir::Diagnostic &d) {
      if (d.getSeverity() == mlir::DiagnosticSeverity::Error)
        diagnostics += d.str() + "\n";
      return mlir::success();
    });
    return mlir::parseSourceString<mlir::ModuleOp>(text, ctx.get());
  }

  /// Result type of the first op named `opName` in `module`.
  std::string resultType(mlir::ModuleOp module, llvm::StringRef opName) {
    std::string out;
    module.walk([&](mlir::Operation *op) {
      if (out.empty() && op->getName().getStringRef() == opName &&
          op->getNumResults() == 1)
        out = typeString(op->getResult(0).getType());
    });
    return out;
  }

  /// Expects `text` to be rejected with a diagnostic containing every string
  /// in `needles`.
  void expectRejected(const std::string &text,
                      std::initializer_list<std::string> needles) {
    auto module = parse(text);
    EXPECT_FALSE(module) << "accepted:\n" << text;
    EXPECT_FALSE(diagnostics.empty());
    for (const std::string &n : needles)
      EXPECT_NE(diagnostics.find(n), std::string::npos)
          << "expected '" << n << "' in: " << diagnostics;
  }

  std::unique_ptr<mlir::MLIRContext> ctx;
  std::string diagnostics;
};

//===----------------------------------------------------------------------===//
// Valid ops
//===----------------------------------------------------------------------===//

TEST_F(DialectTest, DialectIsRegistered) {
  EXPECT_NE(ctx->getLoadedDialect("lathe"), nullptr);
}

TEST_F(DialectTest, AddBroadcasts) {
  auto m = parse(R"mlir(
    func.func @f(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
      %0 = lathe.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
      return %0 : tensor<2x3xf32>
    })mlir");
  ASSERT_TRUE(m) << diagnostics;
  EXPECT_EQ(resultType(*m, "lathe.add"), "tensor<2x3xf32>");
}

TEST_F(DialectTest, MulBroadcastsBothSides) {
  auto m = parse(R"mlir(
    func.func @f(%a: tensor<4x1x5xf32>, %b: tensor<3x1xf32>) -> tensor<4x3x5xf32> {
      %0 = lathe.mul %a, %b : (tensor<4x1x5xf32>, tensor<3x1xf32>) -> tensor<4x3x5xf32>
      return %0 : tensor<4x3x5xf32>
    })mlir");
  ASSERT_TRUE(m) << diagnostics;
  EXPECT_EQ(resultType(*m, "lathe.mul"), "tensor<4x3x5xf32>");
}

TEST_F(DialectTest, ConstantParses) {
  auto m = parse(R"mlir(
    func.func @f() -> tensor<2x2xf32> {
      %0 = lathe.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
      return %0 : tensor<2x2xf32>
    })mlir");
  ASSERT_TRUE(m) << diagnostics;
  EXPECT_EQ(resultType(*m, "lathe.constant"), "tensor<2x2xf32>");
}

TEST_F(DialectTest, GemmTransBInfersShape) {
  auto m = parse(R"mlir(
    func.func @f(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>, %c: tensor<4xf32>) -> tensor<2x4xf32> {
      %0 = lathe.gemm %a, %b, %c {transB = true, alpha = 2.0 : f32, beta = 0.5 : f32} : (tensor<2x3xf32>, tensor<4x3xf32>, tensor<4xf32>) -> tensor<2x4xf32>
      return %0 : tensor<2x4xf32>
    })mlir");
  ASSERT_TRUE(m) << diagnostics;
  EXPECT_EQ(resultType(*m, "lathe.gemm"), "tensor<2x4xf32>");
  lathe::GemmOp gemm;
  m->walk([&](lathe::GemmOp op) { gemm = op; });
  ASSERT_TRUE(gemm);
  EXPECT_TRUE(gemm.getTransB());
  EXPECT_FALSE(gemm.getTransA()); // default
  EXPECT_FLOAT_EQ(gemm.getAlpha().convertToFloat(), 2.0f);
  EXPECT_FLOAT_EQ(gemm.getBeta().convertToFloat(), 0.5f);
  EXPECT_TRUE(gemm.getC());
}

TEST_F(DialectTest, GemmTransAWithoutBias) {
  auto m = parse(R"mlir(
    func.func @f(%a: tensor<3x2xf32>, %b: tensor<3x5xf32>) -> tensor<2x5xf32> {
      %0 = lathe.gemm %a, %b {transA = true} : (tensor<3x2xf32>, tensor<3x5xf32>) -> tensor<2x5xf32>
      return %0 : tensor<2x5xf32>
    })mlir");
  ASSERT_TRUE(m) << diagnostics;
  EXPECT_EQ(resultType(*m, "lathe.gemm"), "tensor<2x5xf32>");
}

TEST_F(DialectTest, MatMulBroadcastsBatch) {
  auto m = parse(R"mlir(
    func.func @f(%a: tensor<2x1x3x4xf32>, %b: tensor<5x4x6xf32>) -> tensor<2x5x3x6xf32> {
      %0 = lathe.matmul %a, %b : (tensor<2x1x3x4xf32>, tensor<5x4x6xf32>) -> tensor<2x5x3x6xf32>
      return %0 : tensor<2x5x3x6xf32>
    })mlir");
  ASSERT_TRUE(m) << diagnostics;
  EXPECT_EQ(resultType(*m, "lathe.matmul"), "tensor<2x5x3x6xf32>");
}

TEST_F(DialectTest, MatMulVectorOperands) {
  // [4] x [2,4,3] -> [2,3]; [2,3,4] x [4] -> [2,3].
  auto m = parse(R"mlir(
    func.func @f(%v: tensor<4xf32>, %b: tensor<2x4x3xf32>, %a: tensor<2x3x4xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
      %0 = lathe.matmul %v, %b : (tensor<4xf32>, tensor<2x4x3xf32>) -> tensor<2x3xf32>
      %1 = lathe.matmul %a, %v : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3xf32>
      return %0, %1 : tensor<2x3xf32>, tensor<2x3xf32>
    })mlir");
  ASSERT_TRUE(m) << diagnostics;
}

TEST_F(DialectTest, ConvWithGroupsStridesPads) {
  // Input 1x4x7x7, weight 6x2x3x3, group 2, stride 2, pad 1:
  // (7 + 1 + 1 - 3) / 2 + 1 = 4.
  auto m = parse(R"mlir(
    func.func @f(%x: tensor<1x4x7x7xf32>, %w: tensor<6x2x3x3xf32>, %b: tensor<6xf32>) -> tensor<1x6x4x4xf32> {
      %0 = lathe.conv %x, %w, %b {strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, group = 2} : (tensor<1x4x7x7xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<1x6x4x4xf32>
      return %0 : tensor<1x6x4x4xf32>
    })mlir");
  ASSERT_TRUE(m) << diagnostics;
  EXPECT_EQ(resultType(*m, "lathe.conv"), "tensor<1x6x4x4xf32>");
}

TEST_F(DialectTest, ConvAsymmetricPadsAndDilation) {
  // H: 8 + 0 + 2 - ((3-1)*2+1) = 5 -> 5/1 + 1 = 6; W: 9 + 1 + 0 - 3 = 7 -> 7/3 + 1 = 3.
  auto m = parse(R"mlir(
    func.func @f(%x: tensor<2x3x8x9xf32>, %w: tensor<5x3x3x3xf32>) -> tensor<2x5x6x3xf32> {
      %0 = lathe.conv %x, %w {strides = array<i64: 1, 3>, dilations = array<i64: 2, 1>, pads = array<i64: 0, 1, 2, 0>, group = 1} : (tensor<2x3x8x9xf32>, tensor<5x3x3x3xf32>) -> tensor<2x5x6x3xf32>
      return %0 : tensor<2x5x6x3xf32>
    })mlir");
  ASSERT_TRUE(m) << diagnostics;
  EXPECT_EQ(resultType(*m, "lathe.conv"), "tensor<2x5x6x3xf32>");
}

TEST_F(DialectTest, MaxPoolCeilMode) {
  // 7 with k2 s2: floor 3, ceil 4.
  auto m = parse(R"mlir(
    func.func @f(%x: tensor<1x2x7x7xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x3x3xf32>) {
      %0 = lathe.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, ceil_mode = true} : (tensor<1x2x7x7xf32>) -> tensor<1x2x4x4xf32>
      %1 = lathe.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, ceil_mode = false} : (tensor<1x2x7x7xf32>) -> tensor<1x2x3x3xf32>
      return %0, %1 : tensor<1x2x4x4xf32>, tensor<1x2x3x3xf32>
    })mlir");
  ASSERT_TRUE(m) << diagnostics;
}

TEST_F(DialectTest, AveragePoolWithPads) {
  // (5 + 1 + 1 - 3) / 2 + 1 = 3
  auto m = parse(R"mlir(
    func.func @f(%x: tensor<1x1x5x5xf32>) -> tensor<1x1x3x3xf32> {
      %0 = lathe.average_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, ceil_mode = false, count_include_pad = true} : (tensor<1x1x5x5xf32>) -> tensor<1x1x3x3xf32>
      return %0 : tensor<1x1x3x3xf32>
    })mlir");
  ASSERT_TRUE(m) << diagnostics;
  EXPECT_EQ(resultType(*m, "lathe.average_pool"), "tensor<1x1x3x3xf32>");
}

TEST_F(DialectTest, ShapeOpsParse) {
  auto m = parse(R"mlir(
    func.func @f(%x: tensor<2x3x4xf32>, %y: tensor<2x5x4xf32>) -> (tensor<4x6xf32>, tensor<4x2x3xf32>, tensor<2x8x4xf32>, tensor<6x4xf32>, tensor<2x3x4xf32>) {
      %0 = lathe.reshape %x {shape = array<i64: 4, 6>} : (tensor<2x3x4xf32>) -> tensor<4x6xf32>
      %1 = lathe.transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
      %2 = lathe.concat %x, %y {axis = -2} : (tensor<2x3x4xf32>, tensor<2x5x4xf32>) -> tensor<2x8x4xf32>
      %3 = lathe.flatten %x {axis = 2} : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
      %4 = lathe.softmax %x {axis = -1} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
      return %0, %1, %2, %3, %4 : tensor<4x6xf32>, tensor<4x2x3xf32>, tensor<2x8x4xf32>, tensor<6x4xf32>, tensor<2x3x4xf32>
    })mlir");
  ASSERT_TRUE(m) << diagnostics;
  EXPECT_EQ(resultType(*m, "lathe.transpose"), "tensor<4x2x3xf32>");
  EXPECT_EQ(resultType(*m, "lathe.concat"), "tensor<2x8x4xf32>");
  EXPECT_EQ(resultType(*m, "lathe.flatten"), "tensor<6x4xf32>");
}

TEST_F(DialectTest, ActivationsParse) {
  auto m = parse(R"mlir(
    func.func @f(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
      %0 = lathe.relu %x : (tensor<3x4xf32>) -> tensor<3x4xf32>
      %1 = lathe.leaky_relu %0 {alpha = 0.1 : f32} : (tensor<3x4xf32>) -> tensor<3x4xf32>
      %2 = lathe.log_softmax %1 {axis = 1} : (tensor<3x4xf32>) -> tensor<3x4xf32>
      return %2 : tensor<3x4xf32>
    })mlir");
  ASSERT_TRUE(m) << diagnostics;
}

TEST_F(DialectTest, PrintedIRParsesBack) {
  auto m = parse(R"mlir(
    func.func @f(%x: tensor<1x4x7x7xf32>, %w: tensor<6x2x3x3xf32>) -> tensor<1x6x4x4xf32> {
      %0 = lathe.conv %x, %w {strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, group = 2} : (tensor<1x4x7x7xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x4x4xf32>
      return %0 : tensor<1x6x4x4xf32>
    })mlir");
  ASSERT_TRUE(m) << diagnostics;
  std::string printed;
  llvm::raw_string_ostream os(printed);
  m->print(os);
  os.flush();
  EXPECT_NE(printed.find("lathe.conv"), std::string::npos) << printed;
  auto again = parse(printed);
  ASSERT_TRUE(again) << diagnostics << "\n" << printed;
  EXPECT_EQ(resultType(*again, "lathe.conv"), "tensor<1x6x4x4xf32>");
}

//===----------------------------------------------------------------------===//
// Invalid ops
//===----------------------------------------------------------------------===//

TEST_F(DialectTest, ConvWeightChannelsMismatch) {
  // Weight expects 3 input channels (group 1); the input has 4.
  expectRejected(R"mlir(
    func.func @f(%x: tensor<1x4x5x5xf32>, %w: tensor<2x3x3x3xf32>) -> tensor<1x2x3x3xf32> {
      %0 = lathe.conv %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, group = 1} : (tensor<1x4x5x5xf32>, tensor<2x3x3x3xf32>) -> tensor<1x2x3x3xf32>
      return %0 : tensor<1x2x3x3xf32>
    })mlir",
                 {"lathe.conv", "input channels", "4"});
}

TEST_F(DialectTest, ConvGroupedWeightChannelsMismatch) {
  // group 2 over 4 channels needs weights [M, 2, ...]; these have 4.
  expectRejected(R"mlir(
    func.func @f(%x: tensor<1x4x5x5xf32>, %w: tensor<2x4x3x3xf32>) -> tensor<1x2x3x3xf32> {
      %0 = lathe.conv %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, group = 2} : (tensor<1x4x5x5xf32>, tensor<2x4x3x3xf32>) -> tensor<1x2x3x3xf32>
      return %0 : tensor<1x2x3x3xf32>
    })mlir",
                 {"lathe.conv", "expects 8 input channels"});
}

TEST_F(DialectTest, ConvGroupNotDividingChannels) {
  expectRejected(R"mlir(
    func.func @f(%x: tensor<1x4x5x5xf32>, %w: tensor<3x1x3x3xf32>) -> tensor<1x3x3x3xf32> {
      %0 = lathe.conv %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, group = 3} : (tensor<1x4x5x5xf32>, tensor<3x1x3x3xf32>) -> tensor<1x3x3x3xf32>
      return %0 : tensor<1x3x3x3xf32>
    })mlir",
                 {"lathe.conv", "group 3"});
}

TEST_F(DialectTest, ConvBadBias) {
  expectRejected(R"mlir(
    func.func @f(%x: tensor<1x3x5x5xf32>, %w: tensor<2x3x3x3xf32>, %b: tensor<3xf32>) -> tensor<1x2x3x3xf32> {
      %0 = lathe.conv %x, %w, %b {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, group = 1} : (tensor<1x3x5x5xf32>, tensor<2x3x3x3xf32>, tensor<3xf32>) -> tensor<1x2x3x3xf32>
      return %0 : tensor<1x2x3x3xf32>
    })mlir",
                 {"lathe.conv", "bias"});
}

TEST_F(DialectTest, ConvWrongDeclaredOutput) {
  // The conv is consistent, but stride 1 gives 3x3, not 2x2.
  expectRejected(R"mlir(
    func.func @f(%x: tensor<1x3x5x5xf32>, %w: tensor<2x3x3x3xf32>) -> tensor<1x2x2x2xf32> {
      %0 = lathe.conv %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, group = 1} : (tensor<1x3x5x5xf32>, tensor<2x3x3x3xf32>) -> tensor<1x2x2x2xf32>
      return %0 : tensor<1x2x2x2xf32>
    })mlir",
                 {"lathe.conv", "tensor<1x2x3x3xf32>"});
}

TEST_F(DialectTest, GemmInnerDimsMismatch) {
  expectRejected(R"mlir(
    func.func @f(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<2x5xf32> {
      %0 = lathe.gemm %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
      return %0 : tensor<2x5xf32>
    })mlir",
                 {"lathe.gemm", "inner dims"});
}

TEST_F(DialectTest, GemmTransBMakesInnerDimsMismatch) {
  // Without transB this would be fine (2x3 * 3x4); with it op(B) is 4x3.
  expectRejected(R"mlir(
    func.func @f(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x4xf32> {
      %0 = lathe.gemm %a, %b {transB = true} : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
      return %0 : tensor<2x4xf32>
    })mlir",
                 {"lathe.gemm", "inner dims"});
}

TEST_F(DialectTest, GemmBiasDoesNotBroadcast) {
  expectRejected(R"mlir(
    func.func @f(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %c: tensor<3xf32>) -> tensor<2x4xf32> {
      %0 = lathe.gemm %a, %b, %c : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x4xf32>
      return %0 : tensor<2x4xf32>
    })mlir",
                 {"lathe.gemm", "does not broadcast"});
}

TEST_F(DialectTest, MatMulInnerDimsMismatch) {
  expectRejected(R"mlir(
    func.func @f(%a: tensor<2x3x4xf32>, %b: tensor<5x6xf32>) -> tensor<2x3x6xf32> {
      %0 = lathe.matmul %a, %b : (tensor<2x3x4xf32>, tensor<5x6xf32>) -> tensor<2x3x6xf32>
      return %0 : tensor<2x3x6xf32>
    })mlir",
                 {"lathe.matmul", "inner dims"});
}

TEST_F(DialectTest, MatMulBatchDoesNotBroadcast) {
  expectRejected(R"mlir(
    func.func @f(%a: tensor<2x3x4xf32>, %b: tensor<3x4x6xf32>) -> tensor<2x3x6xf32> {
      %0 = lathe.matmul %a, %b : (tensor<2x3x4xf32>, tensor<3x4x6xf32>) -> tensor<2x3x6xf32>
      return %0 : tensor<2x3x6xf32>
    })mlir",
                 {"lathe.matmul", "batch dims"});
}

TEST_F(DialectTest, TransposePermNotAPermutation) {
  expectRejected(R"mlir(
    func.func @f(%x: tensor<2x3xf32>) -> tensor<2x2xf32> {
      %0 = lathe.transpose %x {perm = array<i64: 0, 0>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
      return %0 : tensor<2x2xf32>
    })mlir",
                 {"lathe.transpose", "not a permutation"});
}

TEST_F(DialectTest, TransposePermWrongRank) {
  expectRejected(R"mlir(
    func.func @f(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
      %0 = lathe.transpose %x {perm = array<i64: 1, 0, 2>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
      return %0 : tensor<3x2xf32>
    })mlir",
                 {"lathe.transpose", "rank 2"});
}

TEST_F(DialectTest, SoftmaxAxisOutOfRange) {
  expectRejected(R"mlir(
    func.func @f(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
      %0 = lathe.softmax %x {axis = 2} : (tensor<2x3xf32>) -> tensor<2x3xf32>
      return %0 : tensor<2x3xf32>
    })mlir",
                 {"lathe.softmax", "axis 2", "out of range"});
  expectRejected(R"mlir(
    func.func @f(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
      %0 = lathe.log_softmax %x {axis = -3} : (tensor<2x3xf32>) -> tensor<2x3xf32>
      return %0 : tensor<2x3xf32>
    })mlir",
                 {"lathe.log_softmax", "axis -3", "out of range"});
}

TEST_F(DialectTest, ConcatNonAxisDimsMismatch) {
  expectRejected(R"mlir(
    func.func @f(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) -> tensor<4x3xf32> {
      %0 = lathe.concat %a, %b {axis = 0} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<4x3xf32>
      return %0 : tensor<4x3xf32>
    })mlir",
                 {"lathe.concat", "differs outside the axis"});
}

TEST_F(DialectTest, ConcatAxisOutOfRange) {
  expectRejected(R"mlir(
    func.func @f(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<4x3xf32> {
      %0 = lathe.concat %a, %b {axis = 2} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
      return %0 : tensor<4x3xf32>
    })mlir",
                 {"lathe.concat", "out of range"});
}

TEST_F(DialectTest, ReshapeChangesElementCount) {
  expectRejected(R"mlir(
    func.func @f(%x: tensor<2x3x4xf32>) -> tensor<5x5xf32> {
      %0 = lathe.reshape %x {shape = array<i64: 5, 5>} : (tensor<2x3x4xf32>) -> tensor<5x5xf32>
      return %0 : tensor<5x5xf32>
    })mlir",
                 {"lathe.reshape", "cannot reshape", "[2,3,4]", "[5,5]"});
}

TEST_F(DialectTest, ReshapeUnresolvedShape) {
  expectRejected(R"mlir(
    func.func @f(%x: tensor<2x3x4xf32>) -> tensor<6x4xf32> {
      %0 = lathe.reshape %x {shape = array<i64: -1, 4>} : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
      return %0 : tensor<6x4xf32>
    })mlir",
                 {"lathe.reshape", "not resolved"});
}

TEST_F(DialectTest, ReluResultOfAnotherShape) {
  expectRejected(R"mlir(
    func.func @f(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
      %0 = lathe.relu %x : (tensor<2x3xf32>) -> tensor<3x2xf32>
      return %0 : tensor<3x2xf32>
    })mlir",
                 {"lathe.relu"});
}

TEST_F(DialectTest, AddWrongResultShape) {
  // Operands broadcast to 2x3; the declared result says 3x3.
  expectRejected(R"mlir(
    func.func @f(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<3x3xf32> {
      %0 = lathe.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<3x3xf32>
      return %0 : tensor<3x3xf32>
    })mlir",
                 {"lathe.add", "tensor<2x3xf32>", "tensor<3x3xf32>"});
}

TEST_F(DialectTest, AddOperandsDoNotBroadcast) {
  expectRejected(R"mlir(
    func.func @f(%a: tensor<2x3xf32>, %b: tensor<2xf32>) -> tensor<2x3xf32> {
      %0 = lathe.add %a, %b : (tensor<2x3xf32>, tensor<2xf32>) -> tensor<2x3xf32>
      return %0 : tensor<2x3xf32>
    })mlir",
                 {"lathe.add", "do not broadcast"});
}

TEST_F(DialectTest, GemmWrongResultShape) {
  expectRejected(R"mlir(
    func.func @f(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>) -> tensor<2x3xf32> {
      %0 = lathe.gemm %a, %b {transB = true} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
      return %0 : tensor<2x3xf32>
    })mlir",
                 {"lathe.gemm", "tensor<2x4xf32>"});
}

TEST_F(DialectTest, MaxPoolWindowDoesNotFit) {
  expectRejected(R"mlir(
    func.func @f(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x1x1xf32> {
      %0 = lathe.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, ceil_mode = false} : (tensor<1x1x2x2xf32>) -> tensor<1x1x1x1xf32>
      return %0 : tensor<1x1x1x1xf32>
    })mlir",
                 {"lathe.max_pool", "does not fit"});
}

TEST_F(DialectTest, MaxPoolAttributeSizeMismatch) {
  expectRejected(R"mlir(
    func.func @f(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32> {
      %0 = lathe.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, ceil_mode = false} : (tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32>
      return %0 : tensor<1x1x2x2xf32>
    })mlir",
                 {"lathe.max_pool", "spatial dims"});
}

TEST_F(DialectTest, AddMixedElementTypes) {
  expectRejected(R"mlir(
    func.func @f(%a: tensor<2x3xf32>, %b: tensor<2x3xi32>) -> tensor<2x3xf32> {
      %0 = lathe.add %a, %b : (tensor<2x3xf32>, tensor<2x3xi32>) -> tensor<2x3xf32>
      return %0 : tensor<2x3xf32>
    })mlir",
                 {"lathe.add"});
}

} // namespace
