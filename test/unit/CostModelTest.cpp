// The FLOP rules of passes/CostModel.h on small ops whose counts are worked
// out by hand here (the whole-model counts are checked by
// test/models/check_inspect.py).
#include "passes/CostModel.h"
#include "tools/lib/Compiler.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <string>

namespace {

class CostModelTest : public ::testing::Test {
protected:
  void SetUp() override { ctx = lathe::createCompilerContext(); }

  /// The cost of the one op in `body`, a function over `args`.
  lathe::OpCost cost(const std::string &args, const std::string &body) {
    std::string text =
        "func.func @main(" + args + ") {\n  " + body + "\n  return\n}\n";
    module = mlir::parseSourceString<mlir::ModuleOp>(text, ctx.get());
    EXPECT_TRUE(module) << text;
    lathe::OpCost result;
    if (!module)
      return result;
    module->walk([&](mlir::Operation *op) {
      if (op->getName().getDialectNamespace() == "lathe")
        result = lathe::estimateFlops(op);
    });
    return result;
  }

  std::unique_ptr<mlir::MLIRContext> ctx;
  mlir::OwningOpRef<mlir::ModuleOp> module;
};

TEST_F(CostModelTest, GroupedConvWithBias) {
  // Out 1x6x8x8 = 384 elements, each 2 * (4/2 channels) * 3*3, plus the bias.
  lathe::OpCost c = cost(
      "%x: tensor<1x4x8x8xf32>, %w: tensor<6x2x3x3xf32>, %b: tensor<6xf32>",
      "%0 = lathe.conv %x, %w, %b {dilations = array<i64: 1, 1>, group = 2 : "
      "i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : "
      "(tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> "
      "tensor<1x6x8x8xf32>");
  EXPECT_EQ(c.flops, 2 * 384 * 2 * 9 + 384);
  EXPECT_FALSE(c.estimated);
}

TEST_F(CostModelTest, ConvTransposeCountsInputElements) {
  // Every one of the 4*5*5 input elements scatters into 3 channels x 3x3.
  lathe::OpCost c = cost(
      "%x: tensor<1x4x5x5xf32>, %w: tensor<4x3x3x3xf32>",
      "%0 = \"lathe.conv_transpose\"(%x, %w) {dilations = array<i64: 1, 1>, "
      "group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: "
      "2, 2>, output_padding = array<i64: 0, 0>, operandSegmentSizes = "
      "array<i32: 1, 1, 0>} : (tensor<1x4x5x5xf32>, tensor<4x3x3x3xf32>) -> "
      "tensor<1x3x11x11xf32>");
  EXPECT_EQ(c.flops, 2 * 100 * 3 * 9);
}

TEST_F(CostModelTest, BatchedMatMul) {
  lathe::OpCost c =
      cost("%a: tensor<2x3x4x5xf32>, %b: tensor<5x6xf32>",
           "%0 = \"lathe.matmul\"(%a, %b) : (tensor<2x3x4x5xf32>, "
           "tensor<5x6xf32>) -> tensor<2x3x4x6xf32>");
  EXPECT_EQ(c.flops, 2 * (2 * 3 * 4 * 6) * 5);
}

TEST_F(CostModelTest, GemmWithTransposedAAndScaledC) {
  // A is 7x3 transposed (K = 7), C scaled by beta: 2MNK + 2MN.
  lathe::OpCost c = cost(
      "%a: tensor<7x3xf32>, %b: tensor<7x5xf32>, %c: tensor<5xf32>",
      "%0 = lathe.gemm %a, %b, %c {transA = true, beta = 2.0 : f32} : "
      "(tensor<7x3xf32>, tensor<7x5xf32>, tensor<5xf32>) -> tensor<3x5xf32>");
  EXPECT_EQ(c.flops, 2 * 3 * 5 * 7 + 2 * 15);
}

TEST_F(CostModelTest, ReductionCountsInputElements) {
  lathe::OpCost c =
      cost("%x: tensor<4x5xf32>",
           "%0 = \"lathe.reduce_sum\"(%x) {axes = array<i64: 1>, keepdims = "
           "false} : (tensor<4x5xf32>) -> tensor<4xf32>");
  EXPECT_EQ(c.flops, 20);
}

TEST_F(CostModelTest, ElementwiseAndDataMovement) {
  EXPECT_EQ(cost("%x: tensor<4x5xf32>", "%0 = \"lathe.exp\"(%x) : "
                                        "(tensor<4x5xf32>) -> tensor<4x5xf32>")
                .flops,
            20);
  EXPECT_EQ(cost("%x: tensor<4x5xf32>",
                 "%0 = \"lathe.transpose\"(%x) {perm = array<i64: 1, 0>} : "
                 "(tensor<4x5xf32>) -> tensor<5x4xf32>")
                .flops,
            0);
}

TEST_F(CostModelTest, PoolingAndSoftmax) {
  EXPECT_EQ(cost("%x: tensor<1x3x4x4xf32>",
                 "%0 = \"lathe.global_average_pool\"(%x) : "
                 "(tensor<1x3x4x4xf32>) -> tensor<1x3x1x1xf32>")
                .flops,
            48);
  EXPECT_EQ(cost("%x: tensor<2x10xf32>",
                 "%0 = \"lathe.softmax\"(%x) {axis = 1 : i64} : "
                 "(tensor<2x10xf32>) -> tensor<2x10xf32>")
                .flops,
            100);
}

} // namespace
