// Building blocks for the vector-Jacobian products of the lathe ops
// (ir/Lathe<Family>VJP.cpp). Every helper builds lathe ops at the builder's
// insertion point, so gradients stay ordinary lathe graphs. Internal to ir/.
#ifndef LATHE_IR_VJPUTILS_H
#define LATHE_IR_VJPUTILS_H

#include "ir/LatheOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

namespace lathe::vjp {

inline mlir::RankedTensorType typeOf(mlir::Value v) {
  return mlir::cast<mlir::RankedTensorType>(v.getType());
}

/// True for tensors of a float element type: only these carry gradients.
bool isFloatTensor(mlir::Value v);

/// A 0-d constant of `elementType` (a float type) holding `value`; it
/// broadcasts against any operand of the binary ops.
mlir::Value scalar(mlir::OpBuilder &b, mlir::Location loc,
                   mlir::Type elementType, double value);

/// A constant of `type` (float) filled with zeros.
mlir::Value zeros(mlir::OpBuilder &b, mlir::Location loc,
                  mlir::RankedTensorType type);

/// The gradient of a value that was broadcast by numpy's rules from
/// `operandType` to the shape of `grad`: summed over the dims that
/// broadcasting added in front and over the dims where the operand has size
/// 1 and the result does not, then reshaped to `operandType`. Returns `grad`
/// itself when the shapes already match.
mlir::Value unbroadcast(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::Value grad, mlir::RankedTensorType operandType);

/// `v` reshaped to `shape` (no op when it already has that shape).
mlir::Value reshape(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                    llvm::ArrayRef<int64_t> shape);

/// Sum of `v` over `axes` (ascending, non-negative) with the reduced dims
/// kept as size 1. No op when `axes` is empty.
mlir::Value sumKeepDims(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                        llvm::ArrayRef<int64_t> axes);

/// lathe.cast of a bool mask to `elementType`: 1 where true, 0 elsewhere.
mlir::Value maskToFloat(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::Value mask, mlir::Type elementType);

/// Starts a VJP of a single-result op: fills `operandGrads` with one null per
/// operand and returns the gradient flowing into result 0, or null when none
/// flows or the result is not a float tensor (then every operand gradient
/// stays null).
mlir::Value start(mlir::Operation *op, llvm::ArrayRef<mlir::Value> resultGrads,
                  llvm::SmallVectorImpl<mlir::Value> &operandGrads);

/// Normalises a possibly negative axis of a rank-`rank` tensor (verified by
/// the op, so always in range).
int64_t normaliseAxis(int64_t axis, int64_t rank);

} // namespace lathe::vjp

#endif // LATHE_IR_VJPUTILS_H
