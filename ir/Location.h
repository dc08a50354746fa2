// How lathe names a place in a model in its messages: the model file and the
// ONNX node, which the importer stores in every op's location.
#ifndef LATHE_IR_LOCATION_H
#define LATHE_IR_LOCATION_H

#include "mlir/IR/Location.h"

#include <string>

namespace lathe {

/// The location of ONNX node `nodeName` in model file `path`.
mlir::Location nodeLocation(mlir::MLIRContext *ctx, const std::string &path,
                            const std::string &nodeName);

/// "model.onnx: node 'conv1'" (or just the file, or "" when unknown).
std::string describeLocation(mlir::Location loc);

} // namespace lathe

#endif // LATHE_IR_LOCATION_H
