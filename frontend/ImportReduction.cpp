// Importers of reductions, arg-reductions, CumSum and TopK.
#include "frontend/NodeImporter.h"
#include "frontend/OnnxTensor.h"
#include "ir/LatheOps.h"
#include "ir/ShapeInference.h"

using namespace mlir;

namespace lathe {
namespace {

} // namespace

void registerReductionImporters(ImporterTable &table) { (void)table; }

} // namespace lathe
