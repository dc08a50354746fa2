// The table of op importers. Each ONNX operator has one importer function in
// the file of its family (Import<Family>.cpp): it reads the node's attributes
// with ONNX's defaults for the model's opset, refuses the values lathe cannot
// honour, and builds normalised lathe ops (auto_pad resolved, opset-specific
// semantics rewritten). To add an op: write the function in its family file
// and add it to that file's register function.
#include "frontend/NodeImporter.h"
#include "ir/LatheOps.h"

namespace lathe {

mlir::Value legacyBroadcastOperand(NodeImporter &n) {
  mlir::Value b = n.input(1);
  if (n.opset >= 7)
    return b;
  std::vector<int64_t> aShape = n.shapeOf(n.input(0)), bShape = n.shapeOf(b);
  if (n.attrInt("broadcast", 0) == 0) {
    if (aShape != bShape) {
      n.error("without broadcast=1 (opset < 7) both inputs must have the "
              "same shape");
      return nullptr;
    }
    return b;
  }
  int64_t rankA = aShape.size(), rankB = bShape.size();
  int64_t axis = n.attrInt("axis", rankA - rankB);
  if (axis < 0)
    axis += rankA;
  if (axis < 0 || axis + rankB > rankA) {
    n.error("broadcast axis " + llvm::Twine(n.attrInt("axis", 0)) +
            " does not fit B's rank " + llvm::Twine(rankB) + " into A's " +
            llvm::Twine(rankA));
    return nullptr;
  }
  // B's dims sit at [axis, axis + rankB) of A: trailing 1s make numpy's
  // right-aligned rule place them there.
  std::vector<int64_t> shape = bShape;
  shape.resize(rankA - axis, 1);
  if (shape == bShape)
    return b;
  return n.create<ReshapeOp>({b}, {n.namedI64s("shape", shape)});
}

const ImporterTable &opImporters() {
  static const ImporterTable table = [] {
    ImporterTable t;
    registerElementwiseImporters(t);
    registerReductionImporters(t);
    registerShapeImporters(t);
    registerNNImporters(t);
    registerRecurrentImporters(t);
    registerLossImporters(t);
    registerRandomImporters(t);
    return t;
  }();
  return table;
}

} // namespace lathe
