// Importers of random generators.
#include "frontend/NodeImporter.h"
#include "frontend/OnnxTensor.h"
#include "ir/LatheOps.h"
#include "ir/ShapeInference.h"

using namespace mlir;

namespace lathe {
namespace {

} // namespace

void registerRandomImporters(ImporterTable &table) { (void)table; }

} // namespace lathe
