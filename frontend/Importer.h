// ONNX → lathe dialect. The only place that reads ONNX protobufs for the
// compiler; everything after it sees MLIR.
#ifndef LATHE_FRONTEND_IMPORTER_H
#define LATHE_FRONTEND_IMPORTER_H

#include "lathe/Tensor.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mlir {
class MLIRContext;
class ModuleOp;
} // namespace mlir

namespace onnx {
class ModelProto;
} // namespace onnx

namespace lathe {

struct ImportOptions {
  /// Static shapes for graph inputs (bind symbolic dims).
  std::map<std::string, std::vector<int64_t>> shapes;
  /// Inputs frozen to a value at compile time (e.g. a Reshape's shape that
  /// a model takes as an input): they become constants, not arguments.
  std::map<std::string, Tensor> constantInputs;
  /// When set, this model is imported instead of reading the file; the path
  /// still names it in errors and locates external tensor data. The
  /// training step builds its graphs this way (frontend/TrainingGraph.cpp).
  const onnx::ModelProto *model = nullptr;
};

struct ValueInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
};

struct ImportResult {
  std::vector<ValueInfo> inputs, outputs;
  uint64_t paramBytes = 0;
  int64_t opset = 0;
};

/// Loads `path` (binary .onnx, or ONNX text syntax for .onnxtxt/.txt), checks
/// it with libonnx's checker and shape inference, and builds `func.func @main`
/// in a new module. On failure returns null and sets `error` to one line that
/// names the file and, where one is involved, the ONNX node.
mlir::ModuleOp importOnnxFile(mlir::MLIRContext &context,
                              const std::string &path,
                              const ImportOptions &options,
                              ImportResult &result, std::string &error);

/// Reads `path` (binary .onnx, or ONNX text syntax for .onnxtxt/.txt)
/// without checking it. On failure sets `error` to one line without the
/// file name (callers prefix it).
bool loadOnnxModel(const std::string &path, onnx::ModelProto &model,
                   std::string &error);

/// ONNX op types (default domain) the importer handles, sorted.
const std::vector<std::string> &supportedOnnxOps();

} // namespace lathe

#endif // LATHE_FRONTEND_IMPORTER_H
