// The pattern shared by the elementwise lowerings (LowerElementwise.cpp,
// LowerMath.cpp, LowerActivation.cpp): one linalg.generic over the op's
// operands broadcast to its result, whose body is `scalarOf(op, ...)`.
// Internal to passes/.
#ifndef LATHE_PASSES_ELEMENTWISELOWERING_H
#define LATHE_PASSES_ELEMENTWISELOWERING_H

#include "passes/LoweringUtils.h"

namespace lathe {

/// Replaces OpT by an elementwise linalg.generic. The body comes from an
/// overload `mlir::Value scalarOf(OpT, OpBuilder &, Location, ValueRange)`
/// in namespace lathe (found by argument-dependent lookup), which gets one
/// signless scalar per operand; it reads signedness from the op itself.
template <typename OpT>
struct ElementwiseLowering : mlir::OpConversionPattern<OpT> {
  using mlir::OpConversionPattern<OpT>::OpConversionPattern;
  mlir::LogicalResult
  matchAndRewrite(OpT op, typename OpT::Adaptor adaptor,
                  mlir::ConversionPatternRewriter &rewriter) const override {
    mlir::Value v = buildElementwise(
        rewriter, op.getLoc(), resultType(op), adaptor.getOperands(),
        [&](mlir::OpBuilder &b, mlir::Location loc, mlir::ValueRange a) {
          return scalarOf(op, b, loc, a);
        });
    rewriter.replaceOp(op, v);
    return mlir::success();
  }
};

/// Adds ElementwiseLowering<OpT> for each OpT.
template <typename... OpTs>
void addElementwise(const mlir::TypeConverter &converter,
                    mlir::RewritePatternSet &patterns) {
  patterns.add<ElementwiseLowering<OpTs>...>(converter, patterns.getContext());
}

/// Integer constant of type `t` (an integer type).
inline mlir::Value intConst(mlir::OpBuilder &b, mlir::Location loc,
                            mlir::Type t, int64_t v) {
  return b.create<mlir::arith::ConstantOp>(loc, b.getIntegerAttr(t, v));
}

/// Converts scalar `v` between numeric types (floats, integers, bool);
/// `srcUnsigned`/`dstUnsigned` give the signedness of integer types. Floats
/// to integers truncate toward zero; anything to bool is `v != 0`.
mlir::Value convertScalar(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::Value v, mlir::Type to, bool srcUnsigned,
                          bool dstUnsigned);

// The parts of populateElementwiseLowering in other files.
void populateMathLowering(const mlir::TypeConverter &,
                          mlir::RewritePatternSet &);
void populateActivationLowering(const mlir::TypeConverter &,
                                mlir::RewritePatternSet &);

} // namespace lathe

#endif // LATHE_PASSES_ELEMENTWISELOWERING_H
