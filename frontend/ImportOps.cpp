// The table of op importers. Each ONNX operator has one importer function in
// the file of its family (Import<Family>.cpp): it reads the node's attributes
// with ONNX's defaults for the model's opset, refuses the values lathe cannot
// honour, and builds normalised lathe ops (auto_pad resolved, opset-specific
// semantics rewritten). To add an op: write the function in its family file
// and add it to that file's register function.
#include "frontend/NodeImporter.h"

namespace lathe {

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
