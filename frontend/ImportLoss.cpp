// Importers of loss functions.
#include "frontend/NodeImporter.h"
#include "frontend/OnnxTensor.h"
#include "ir/LatheOps.h"
#include "ir/ShapeInference.h"

using namespace mlir;

namespace lathe {
namespace {

} // namespace

void registerLossImporters(ImporterTable &table) { (void)table; }

} // namespace lathe
