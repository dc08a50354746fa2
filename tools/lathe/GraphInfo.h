// What `lathe inspect` and `lathe graph` read off a module at the lathe
// level: node names, types as text, fusion groups, constants.
#ifndef LATHE_TOOLS_GRAPHINFO_H
#define LATHE_TOOLS_GRAPHINFO_H

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mlir::func {
class FuncOp;
} // namespace mlir::func

namespace lathe::cli {

/// The graph function (@main), or the first function of the module.
mlir::func::FuncOp graphFunction(mlir::ModuleOp module);

/// The ONNX node an op came from (the first name in its location), or "".
std::string nodeName(mlir::Operation *op);

/// "2x8x16x16xf32" for a tensor type, "f32" for a scalar, the MLIR text for
/// anything else.
std::string typeString(mlir::Type type);

/// The types of all of an op's results, joined with ", ".
std::string resultTypes(mlir::Operation *op);

bool isConstant(mlir::Operation *op);
/// A constant made by compile-time folding (`lathe.folded`).
bool isFolded(mlir::Operation *op);

/// Elements and bytes of a constant's value (0 when it is not a tensor).
int64_t constantElements(mlir::Operation *op);
int64_t constantBytes(mlir::Operation *op);

/// `lathe.fusion_group` and `lathe.fusion_kind` of an op, when it has them.
std::optional<int64_t> fusionGroup(mlir::Operation *op);
std::string fusionKind(mlir::Operation *op);

struct FusionGroup {
  int64_t id = 0;
  std::string kind; // the members' kinds, "+"-joined when they differ
  std::vector<mlir::Operation *> ops;
};

/// The fusion groups of a function body in op order, by first member.
std::vector<FusionGroup> fusionGroups(mlir::func::FuncOp func);

/// The ops of a function body that are not constants or the terminator.
std::vector<mlir::Operation *> computeOps(mlir::func::FuncOp func);

} // namespace lathe::cli

#endif // LATHE_TOOLS_GRAPHINFO_H
