// How a fusion group decided on the lathe dialect (lathe-fuse) reaches the
// loops that realise it (lathe-fuse-groups): the group rides in each op's
// location, which every lowering pattern copies onto the ops it creates.
#ifndef LATHE_PASSES_FUSIONGROUPS_H
#define LATHE_PASSES_FUSIONGROUPS_H

#include "mlir/IR/Location.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>

namespace lathe {

struct FusionGroup {
  int64_t id;
  /// "epilogue" (Conv/Gemm/MatMul with its bias and activation),
  /// "elementwise" (one loop nest), "softmax" (one pass over the reduction).
  llvm::StringRef kind;
};

/// `loc` with `group` attached (replacing any group it had).
mlir::Location withFusionGroup(mlir::Location loc, int64_t id,
                               llvm::StringRef kind);

/// `loc` without any group: for an op a lowering adds beside a grouped one
/// that must stay out of the group's tile loops (it would be recomputed per
/// tile).
mlir::Location withoutFusionGroup(mlir::Location loc);

/// The group an op (or a location) belongs to, if any.
std::optional<FusionGroup> fusionGroupOf(mlir::Location loc);
inline std::optional<FusionGroup> fusionGroupOf(mlir::Operation *op) {
  return fusionGroupOf(op->getLoc());
}

/// Unit attribute lathe-fuse-groups puts on the outer loop over an
/// epilogue's tiles: its iterations write disjoint tiles, so
/// lathe-parallelize may run them as tasks.
inline constexpr llvm::StringLiteral kParallelTilesAttr =
    "lathe.parallel_tiles";

} // namespace lathe

#endif // LATHE_PASSES_FUSIONGROUPS_H
