// Building blocks shared by LowerReduction.cpp and LowerScan.cpp.
// Internal to passes/.
#ifndef LATHE_PASSES_REDUCTIONUTILS_H
#define LATHE_PASSES_REDUCTIONUTILS_H

#include "passes/LoweringUtils.h"

namespace lathe {

/// Body of a reduction: the scalars of the inputs, the accumulators; returns
/// the new accumulators.
using ReduceBodyFn = llvm::function_ref<llvm::SmallVector<mlir::Value>(
    mlir::OpBuilder &, mlir::Location, mlir::ValueRange, mlir::ValueRange)>;

/// A linalg.generic over the iteration space of `input` reducing `axes`
/// (ascending) into `inits`, which have the kept dims of `input`.
/// `extraInputs` also have the kept dims (per-row values such as a max).
/// Returns the first result; the op is its defining op.
mlir::Value reduceInto(mlir::OpBuilder &b, mlir::Location loc,
                       mlir::Value input, llvm::ArrayRef<int64_t> axes,
                       mlir::ValueRange extraInputs, mlir::ValueRange inits,
                       ReduceBodyFn body);

/// The type of `in` without the dims in `axes`, with `elementType`.
mlir::RankedTensorType keptType(mlir::RankedTensorType in,
                                llvm::ArrayRef<int64_t> axes,
                                mlir::Type elementType);

mlir::Value scalarAdd(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                      mlir::Value y);
/// x > y (or x < y when !greater) for ints by signedness; for floats a NaN
/// x beats a number y, and nothing beats a NaN y.
mlir::Value scalarBeats(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                        mlir::Value y, bool greater, bool isUnsigned);
/// x == y, with NaN equal to NaN.
mlir::Value scalarEqual(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                        mlir::Value y);
/// linalg.index of loop `dim` as i64.
mlir::Value indexAlong(mlir::OpBuilder &b, mlir::Location loc, int64_t dim);

void populateScanLowering(const mlir::TypeConverter &,
                          mlir::RewritePatternSet &);

} // namespace lathe

#endif // LATHE_PASSES_REDUCTIONUTILS_H
