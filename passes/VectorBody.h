// The body of a linalg.generic on buffers computed on vectors along its
// innermost loop: shared by lathe-tile-reductions (passes/TileReductions.cpp)
// and lathe-vectorize-elementwise (passes/VectorizeElementwise.cpp).
#ifndef LATHE_PASSES_VECTORBODY_H
#define LATHE_PASSES_VECTORBODY_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

#include <optional>

namespace lathe {

/// How each input is read when the innermost loop `inner` is vectorised:
/// true when indexed by it (it must be the input's last, contiguous dim: a
/// vector load), false when not indexed by it (a scalar, broadcast). None
/// when an input fits neither.
std::optional<llvm::SmallVector<bool>>
classifyInputs(mlir::linalg::GenericOp op, unsigned inner);

/// The body's ops other than `skip` and the terminator are scalar arith or
/// math ops with one int or float result: each has a vector form.
bool hasVectorBody(mlir::linalg::GenericOp op, mlir::Operation *skip);

/// The indices `map` (dims and constant 0 for a broadcast dim of size 1)
/// gives at loop position `ivs`.
llvm::SmallVector<mlir::Value> indicesAt(mlir::OpBuilder &b, mlir::Location loc,
                                         mlir::AffineMap map,
                                         llvm::ArrayRef<mlir::Value> ivs);

/// Whether `type`'s elements are whole bytes: a vector of i1 in memory is
/// packed bits, where a buffer of i1 holds one byte per element.
bool byteSized(mlir::MemRefType type);

/// Whether `type` has a contiguous last dim.
bool contiguousLastDim(mlir::MemRefType type);

/// Emits the body at loop position `ivs` (ivs[inner] the first of `lanes`
/// lanes) on vectors: inputs loaded (masked by `mask` when given) or
/// broadcast, then every body op but `skip` and the terminator applied to
/// vectors. Returns the vector of `value` (a body value, or one from
/// outside, broadcast).
mlir::Value emitVectorBody(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::linalg::GenericOp op,
                           llvm::ArrayRef<bool> alongInner,
                           llvm::SmallVectorImpl<mlir::Value> &ivs,
                           unsigned inner, int64_t lanes, mlir::Value mask,
                           mlir::Operation *skip, mlir::Value value);

} // namespace lathe

#endif // LATHE_PASSES_VECTORBODY_H
