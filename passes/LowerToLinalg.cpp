// The lathe → linalg conversion pass: every lathe op must be lowered; the
// first one that is not is reported with its ONNX node.
#include "ir/LatheDialect.h"
#include "passes/LoweringUtils.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_LOWERLATHETOLINALG
#include "passes/Passes.h.inc"

namespace {
struct LowerLatheToLinalgPass
    : impl::LowerLatheToLinalgBase<LowerLatheToLinalgPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    ConversionTarget target(*ctx);
    target.addLegalDialect<linalg::LinalgDialect, tensor::TensorDialect,
                           arith::ArithDialect, math::MathDialect,
                           func::FuncDialect>();
    target.addIllegalDialect<LatheDialect>();
    RewritePatternSet patterns(ctx);
    populateElementwiseLowering(patterns);
    populateMatmulLowering(patterns);
    populateConvPoolLowering(patterns);
    populateShapeLowering(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace

} // namespace lathe
