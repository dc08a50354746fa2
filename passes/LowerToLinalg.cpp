// The lathe → linalg conversion pass: every lathe op must be lowered; the
// first one that is not is reported with its ONNX node. Unsigned element
// types become signless here (function signatures included).
#include "ir/LatheDialect.h"
#include "passes/LoweringUtils.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Func/Transforms/FuncConversions.h"

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_LOWERLATHETOLINALG
#include "passes/Passes.h.inc"

namespace {

/// Unsigned → signless of the same width, everything else unchanged.
struct SignlessTypeConverter : TypeConverter {
  SignlessTypeConverter() {
    addConversion([](Type t) { return signlessType(t); });
    auto bitcast = [](OpBuilder &b, Type type, ValueRange inputs,
                      Location loc) -> Value {
      if (inputs.size() != 1 || !isa<RankedTensorType>(type))
        return nullptr;
      return b.create<tensor::BitcastOp>(loc, type, inputs[0]);
    };
    addSourceMaterialization(bitcast);
    addTargetMaterialization(bitcast);
    addArgumentMaterialization(bitcast);
  }
};

struct LowerLatheToLinalgPass
    : impl::LowerLatheToLinalgBase<LowerLatheToLinalgPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    SignlessTypeConverter converter;
    ConversionTarget target(*ctx);
    target.addLegalDialect<linalg::LinalgDialect, tensor::TensorDialect,
                           arith::ArithDialect, math::MathDialect,
                           scf::SCFDialect>();
    target.addIllegalDialect<LatheDialect>();
    target.addDynamicallyLegalOp<func::FuncOp>([&](func::FuncOp f) {
      return converter.isSignatureLegal(f.getFunctionType()) &&
             converter.isLegal(&f.getBody());
    });
    target.addDynamicallyLegalOp<func::ReturnOp, func::CallOp>(
        [&](Operation *op) { return converter.isLegal(op); });
    RewritePatternSet patterns(ctx);
    populateFunctionOpInterfaceTypeConversionPattern<func::FuncOp>(patterns,
                                                                   converter);
    populateReturnOpTypeConversionPattern(patterns, converter);
    for (PopulateFn populate :
         {populateElementwiseLowering, populateMatmulLowering,
          populateConvPoolLowering, populateShapeLowering,
          populateReductionLowering, populateIndexingLowering,
          populateNormalizationLowering, populateResizeLowering,
          populateLossLowering, populateRandomLowering,
          populateRecurrentLowering})
      populate(converter, patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace

} // namespace lathe
