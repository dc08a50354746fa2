// Helpers shared by the type inference functions of all op families
// (LatheOps.cpp and the Lathe<Family>Ops.cpp files). Internal to ir/.
#ifndef LATHE_IR_INFERUTILS_H
#define LATHE_IR_INFERUTILS_H

#include "ir/ShapeInference.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Value.h"

#include <optional>
#include <string>

namespace lathe::infer {

Shape shapeOf(mlir::Value v);
mlir::Type elementTypeOf(mlir::Value v);
/// Appends tensor<shape x elementType> to `results`.
mlir::LogicalResult inferred(llvm::SmallVectorImpl<mlir::Type> &results,
                             const Shape &shape, mlir::Type elementType);
/// Emits `message` at `loc` (when given) and fails.
mlir::LogicalResult fail(std::optional<mlir::Location> loc,
                         const llvm::Twine &message);
/// "[1,2,3]".
std::string str(llvm::ArrayRef<int64_t> s);
/// Normalises a possibly negative axis into [0, rank).
std::optional<int64_t> normaliseAxis(int64_t axis, int64_t rank);
/// Numpy broadcast of two operands; the element type is the lhs's.
mlir::LogicalResult inferBroadcast(std::optional<mlir::Location> loc,
                                   llvm::StringRef opName, mlir::Value lhs,
                                   mlir::Value rhs,
                                   llvm::SmallVectorImpl<mlir::Type> &results);
mlir::LogicalResult
inferSameAsInput(mlir::Value input, llvm::SmallVectorImpl<mlir::Type> &results);
/// Checks the window attributes shared by conv and pooling.
mlir::LogicalResult checkWindow(std::optional<mlir::Location> loc,
                                llvm::StringRef opName, const Shape &in,
                                size_t spatial, llvm::ArrayRef<int64_t> kernel,
                                llvm::ArrayRef<int64_t> strides,
                                llvm::ArrayRef<int64_t> dilations,
                                llvm::ArrayRef<int64_t> pads);
/// [N, channels, windowed spatial dims...].
mlir::LogicalResult inferWindowOutput(
    std::optional<mlir::Location> loc, llvm::StringRef opName, const Shape &in,
    int64_t channels, llvm::ArrayRef<int64_t> kernel,
    llvm::ArrayRef<int64_t> strides, llvm::ArrayRef<int64_t> dilations,
    llvm::ArrayRef<int64_t> pads, bool ceilMode, mlir::Type elementType,
    llvm::SmallVectorImpl<mlir::Type> &results);

} // namespace lathe::infer

#endif // LATHE_IR_INFERUTILS_H
