// Importers of recurrent layers (RNN, GRU, LSTM).
#include "frontend/NodeImporter.h"
#include "frontend/OnnxTensor.h"
#include "ir/LatheOps.h"
#include "ir/ShapeInference.h"

using namespace mlir;

namespace lathe {
namespace {

} // namespace

void registerRecurrentImporters(ImporterTable &table) { (void)table; }

} // namespace lathe
