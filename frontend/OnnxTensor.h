// Conversions between ONNX TensorProto and lathe::Tensor. Used for
// initializers, Constant nodes and the conformance data (input_*.pb).
#ifndef LATHE_FRONTEND_ONNXTENSOR_H
#define LATHE_FRONTEND_ONNXTENSOR_H

#include "lathe/Tensor.h"

#include <string>

namespace onnx {
class TensorProto;
}

namespace lathe {

/// Decodes `proto` (raw_data or the typed fields). External data is resolved
/// relative to `baseDir`. On failure sets `error` (without a file prefix).
bool tensorFromProto(const onnx::TensorProto &proto, const std::string &baseDir,
                     Tensor &out, std::string &error);

/// Reads a serialized TensorProto file (ONNX's test_data_set_*/input_*.pb).
/// `name` receives the tensor's name. Errors name the file.
bool readTensorProtoFile(const std::string &path, Tensor &out,
                         std::string &name, std::string &error);

/// True when lathe can hold this ONNX element type.
bool isSupportedDType(int32_t onnxType);

} // namespace lathe

#endif // LATHE_FRONTEND_ONNXTENSOR_H
