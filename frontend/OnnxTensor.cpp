#include "frontend/OnnxTensor.h"

#include "onnx/onnx_pb.h"

#include <fstream>
#include <sstream>

namespace lathe {

bool isSupportedDType(int32_t t) {
  switch (t) {
  case LATHE_DTYPE_FLOAT:
  case LATHE_DTYPE_DOUBLE:
  case LATHE_DTYPE_FLOAT16:
  case LATHE_DTYPE_INT8:
  case LATHE_DTYPE_INT16:
  case LATHE_DTYPE_INT32:
  case LATHE_DTYPE_INT64:
  case LATHE_DTYPE_UINT8:
  case LATHE_DTYPE_UINT16:
  case LATHE_DTYPE_UINT32:
  case LATHE_DTYPE_UINT64:
  case LATHE_DTYPE_BFLOAT16:
  case LATHE_DTYPE_BOOL:
    return true;
  default:
    return false;
  }
}

namespace {

template <typename Src, typename Dst>
void copyField(const google::protobuf::RepeatedField<Src> &field, Tensor &t) {
  Dst *dst = t.as<Dst>();
  for (int i = 0; i < field.size(); ++i)
    dst[i] = static_cast<Dst>(field.Get(i));
}

bool readExternal(const onnx::TensorProto &proto, const std::string &baseDir,
                  Tensor &t, std::string &error) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &kv : proto.external_data()) {
    if (kv.key() == "location")
      location = kv.value();
    else if (kv.key() == "offset")
      offset = std::stoll(kv.value());
    else if (kv.key() == "length")
      length = std::stoll(kv.value());
  }
  if (location.empty() || location.find("..") != std::string::npos ||
      location[0] == '/') {
    error = "tensor '" + proto.name() + "' has an invalid external location";
    return false;
  }
  std::string path = baseDir.empty() ? location : baseDir + "/" + location;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open external data '" + path + "' of tensor '" +
            proto.name() + "'";
    return false;
  }
  if (length >= 0 && static_cast<size_t>(length) != t.bytes()) {
    error = "external data of tensor '" + proto.name() + "' has " +
            std::to_string(length) + " bytes, expected " +
            std::to_string(t.bytes());
    return false;
  }
  in.seekg(offset);
  in.read(reinterpret_cast<char *>(t.data.data()), t.bytes());
  if (static_cast<size_t>(in.gcount()) != t.bytes()) {
    error = "external data '" + path + "' of tensor '" + proto.name() +
            "' is truncated";
    return false;
  }
  return true;
}

} // namespace

bool tensorFromProto(const onnx::TensorProto &proto, const std::string &baseDir,
                     Tensor &out, std::string &error) {
  if (!isSupportedDType(proto.data_type())) {
    error = "tensor '" + proto.name() + "' has unsupported element type " +
            onnx::TensorProto_DataType_Name(
                static_cast<onnx::TensorProto_DataType>(proto.data_type()));
    return false;
  }
  std::vector<int64_t> shape(proto.dims().begin(), proto.dims().end());
  for (int64_t d : shape)
    if (d < 0) {
      error = "tensor '" + proto.name() + "' has a negative dim";
      return false;
    }
  out = Tensor(static_cast<DType>(proto.data_type()), shape);
  size_t n = out.numel();
  if (proto.data_location() == onnx::TensorProto::EXTERNAL)
    return readExternal(proto, baseDir, out, error);
  if (proto.has_raw_data()) {
    if (proto.raw_data().size() != out.bytes()) {
      error = "tensor '" + proto.name() + "' has " +
              std::to_string(proto.raw_data().size()) +
              " bytes of raw data, expected " + std::to_string(out.bytes());
      return false;
    }
    std::copy(proto.raw_data().begin(), proto.raw_data().end(),
              out.data.begin());
    return true;
  }
  size_t have = 0;
  switch (out.dtype) {
  case DType::F32:
    have = proto.float_data_size();
    if (have == n)
      copyField<float, float>(proto.float_data(), out);
    break;
  case DType::F64:
    have = proto.double_data_size();
    if (have == n)
      copyField<double, double>(proto.double_data(), out);
    break;
  case DType::I64:
    have = proto.int64_data_size();
    if (have == n)
      copyField<int64_t, int64_t>(proto.int64_data(), out);
    break;
  case DType::I32:
    have = proto.int32_data_size();
    if (have == n)
      copyField<int32_t, int32_t>(proto.int32_data(), out);
    break;
  case DType::I16:
    have = proto.int32_data_size();
    if (have == n)
      copyField<int32_t, int16_t>(proto.int32_data(), out);
    break;
  case DType::I8:
    have = proto.int32_data_size();
    if (have == n)
      copyField<int32_t, int8_t>(proto.int32_data(), out);
    break;
  case DType::U8:
  case DType::Bool:
    have = proto.int32_data_size();
    if (have == n)
      copyField<int32_t, uint8_t>(proto.int32_data(), out);
    break;
  case DType::U32:
  case DType::U64:
    have = proto.uint64_data_size();
    if (have == n && out.dtype == DType::U32)
      copyField<uint64_t, uint32_t>(proto.uint64_data(), out);
    else if (have == n)
      copyField<uint64_t, uint64_t>(proto.uint64_data(), out);
    break;
  case DType::U16:
  case DType::BF16:
  case DType::F16: // 16-bit floats are stored as their bit patterns
    have = proto.int32_data_size();
    if (have == n)
      copyField<int32_t, uint16_t>(proto.int32_data(), out);
    break;
  }
  if (have != n) {
    error = "tensor '" + proto.name() + "' holds " + std::to_string(have) +
            " values, its shape needs " + std::to_string(n);
    return false;
  }
  return true;
}

bool readTensorProtoFile(const std::string &path, Tensor &out,
                         std::string &name, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open file";
    return false;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  onnx::TensorProto proto;
  if (!proto.ParseFromString(buffer.str())) {
    error = path + ": not a serialized ONNX TensorProto";
    return false;
  }
  name = proto.name();
  std::string dir = path.substr(0, path.find_last_of('/'));
  if (!tensorFromProto(proto, dir, out, error)) {
    error = path + ": " + error;
    return false;
  }
  return true;
}

} // namespace lathe
