// The hook through which `lathe-fold-constants` evaluates constant
// subgraphs. Folding runs the subgraph through the same pipeline and code
// generator as the model itself, so a folded value is bit for bit the value
// the compiled code would have computed; the code generator lives above
// passes/ in the layering, so it registers itself here.
#ifndef LATHE_PASSES_CONSTANTEVALUATOR_H
#define LATHE_PASSES_CONSTANTEVALUATOR_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/SmallVector.h"

#include <functional>

namespace mlir {
class ModuleOp;
}

namespace lathe {

/// Compiles and runs `module`, whose @main takes no arguments and returns
/// ranked tensors of static shape, and gives one DenseElementsAttr per
/// result. Must not emit diagnostics into the caller's handler on failure.
using ConstantEvaluator = std::function<mlir::LogicalResult(
    mlir::ModuleOp module,
    llvm::SmallVectorImpl<mlir::DenseElementsAttr> &results)>;

/// Bytes of a static tensor as compiled code stores it (a byte per bool).
inline int64_t storageBytes(mlir::RankedTensorType type) {
  return type.getNumElements() * ((type.getElementTypeBitWidth() + 7) / 8);
}

void setConstantEvaluator(ConstantEvaluator evaluator);
/// Null when no code generator registered one (folding is then skipped).
const ConstantEvaluator &getConstantEvaluator();

} // namespace lathe

#endif // LATHE_PASSES_CONSTANTEVALUATOR_H
