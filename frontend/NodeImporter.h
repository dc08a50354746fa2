// What an op importer sees of one ONNX node: its inputs as MLIR values,
// compile-time values of constant inputs, typed attribute access with ONNX
// defaults, and checked op creation. Internal to frontend/.
#ifndef LATHE_FRONTEND_NODEIMPORTER_H
#define LATHE_FRONTEND_NODEIMPORTER_H

#include "lathe/Tensor.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "onnx/onnx_pb.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lathe {

template <typename T, typename = void> struct HasProperties : std::false_type {};
template <typename T>
struct HasProperties<T, std::void_t<typename T::Properties>> : std::true_type {};

class NodeImporter {
public:
  NodeImporter(const onnx::NodeProto &node, int64_t opset, mlir::OpBuilder &b,
               mlir::Location loc, std::vector<mlir::Value> inputs,
               std::vector<const Tensor *> constInputs)
      : node(node), opset(opset), b(b), loc(loc), inputs(std::move(inputs)),
        constInputs(std::move(constInputs)) {
    outputs.resize(node.output_size());
    constOutputs.resize(node.output_size());
  }

  const onnx::NodeProto &node;
  const int64_t opset;
  mlir::OpBuilder &b;
  const mlir::Location loc;

  /// Number of inputs, counting empty (omitted optional) ones.
  size_t numInputs() const { return inputs.size(); }
  bool hasInput(size_t i) const { return i < inputs.size() && inputs[i]; }
  mlir::Value input(size_t i) const { return hasInput(i) ? inputs[i] : nullptr; }
  /// The compile-time value of input i, or null when it is not a constant.
  const Tensor *constInput(size_t i) const {
    return i < constInputs.size() ? constInputs[i] : nullptr;
  }
  bool hasOutput(size_t i) const {
    return i < static_cast<size_t>(node.output_size()) &&
           !node.output(i).empty();
  }
  void setOutput(size_t i, mlir::Value v) { outputs[i] = v; }
  const std::vector<mlir::Value> &results() const { return outputs; }
  /// Records that output i is known at compile time (Constant nodes), so
  /// that consumers needing constants (Reshape's shape) can read it.
  void setConstOutput(size_t i, Tensor t) { constOutputs[i] = std::move(t); }
  std::vector<std::optional<Tensor>> &constResults() { return constOutputs; }

  const onnx::AttributeProto *attr(const std::string &name) const;
  int64_t attrInt(const std::string &name, int64_t dflt) const;
  float attrFloat(const std::string &name, float dflt) const;
  std::string attrString(const std::string &name,
                         const std::string &dflt) const;
  std::optional<std::vector<int64_t>> attrInts(const std::string &name) const;

  /// Reports an error at this node; returns false for `return error(...)`.
  bool error(const llvm::Twine &message) const;

  mlir::RankedTensorType typeOf(mlir::Value v) const {
    return llvm::cast<mlir::RankedTensorType>(v.getType());
  }
  std::vector<int64_t> shapeOf(mlir::Value v) const {
    auto s = typeOf(v).getShape();
    return {s.begin(), s.end()};
  }

  /// Creates OpT after checking its type inference; on failure the
  /// inference diagnostic is reported at this node and null is returned.
  template <typename OpT>
  mlir::Value create(mlir::ValueRange operands,
                     llvm::ArrayRef<mlir::NamedAttribute> attrs = {}) {
    mlir::OperationState state(loc, OpT::getOperationName());
    state.addOperands(operands);
    state.addAttributes(attrs);
    mlir::DictionaryAttr dict = state.attributes.getDictionary(b.getContext());
    llvm::SmallVector<mlir::Type> types;
    if constexpr (HasProperties<OpT>::value) {
      auto &props = state.getOrAddProperties<typename OpT::Properties>();
      if (mlir::failed(OpT::setPropertiesFromAttr(
              props, dict, [&]() { return mlir::emitError(loc); })))
        return nullptr;
      if (mlir::failed(OpT::inferReturnTypes(
              b.getContext(), loc, operands, dict,
              mlir::OpaqueProperties(&props), mlir::RegionRange(), types)))
        return nullptr;
      state.attributes.clear();
    } else {
      if (mlir::failed(OpT::inferReturnTypes(
              b.getContext(), loc, operands, dict, mlir::OpaqueProperties(nullptr),
              mlir::RegionRange(), types)))
        return nullptr;
    }
    state.addTypes(types);
    return b.create(state)->getResult(0);
  }

  mlir::NamedAttribute named(llvm::StringRef name, mlir::Attribute a) {
    return b.getNamedAttr(name, a);
  }
  mlir::NamedAttribute namedI64(llvm::StringRef name, int64_t v) {
    return named(name, b.getI64IntegerAttr(v));
  }
  mlir::NamedAttribute namedF32(llvm::StringRef name, float v) {
    return named(name, b.getF32FloatAttr(v));
  }
  mlir::NamedAttribute namedBool(llvm::StringRef name, bool v) {
    return named(name, b.getBoolAttr(v));
  }
  mlir::NamedAttribute namedI64s(llvm::StringRef name,
                                 llvm::ArrayRef<int64_t> v) {
    return named(name, b.getDenseI64ArrayAttr(v));
  }

  /// A lathe.constant holding `t`.
  mlir::Value constant(const Tensor &t);

private:
  std::vector<mlir::Value> inputs;
  std::vector<const Tensor *> constInputs;
  std::vector<mlir::Value> outputs;
  std::vector<std::optional<Tensor>> constOutputs;
};

/// Converts a host tensor to an MLIR elements attribute.
mlir::DenseElementsAttr toElementsAttr(mlir::MLIRContext *ctx, const Tensor &t);
/// MLIR element type of an ONNX dtype; null when unsupported.
mlir::Type toElementType(mlir::MLIRContext *ctx, int32_t onnxType);

/// Imports a one-input node as OpT (no attributes).
template <typename OpT> bool importUnary(NodeImporter &n) {
  mlir::Value v = n.create<OpT>({n.input(0)});
  n.setOutput(0, v);
  return bool(v);
}

/// The second operand of a binary op, with opset < 7's explicit broadcast
/// (`broadcast=1`, B's dims aligned at `axis` of A) rewritten as a reshape
/// that numpy broadcasting then handles. Null after an error.
mlir::Value legacyBroadcastOperand(NodeImporter &n);

/// Imports a two-input broadcasting node as OpT.
template <typename OpT> bool importBinary(NodeImporter &n) {
  mlir::Value rhs = legacyBroadcastOperand(n);
  if (!rhs)
    return false;
  mlir::Value v = n.create<OpT>({n.input(0), rhs});
  n.setOutput(0, v);
  return bool(v);
}

using OpImportFn = bool (*)(NodeImporter &);
using ImporterTable = std::map<std::string, OpImportFn>;
/// ONNX op type → importer.
const ImporterTable &opImporters();

// Each family file (Import<Family>.cpp) registers its importers.
void registerElementwiseImporters(ImporterTable &table);
void registerReductionImporters(ImporterTable &table);
void registerShapeImporters(ImporterTable &table);
void registerNNImporters(ImporterTable &table);
void registerRecurrentImporters(ImporterTable &table);
void registerLossImporters(ImporterTable &table);
void registerRandomImporters(ImporterTable &table);
// Parts of the NN family, registered by registerNNImporters.
void registerNormalizationImporters(ImporterTable &table);
void registerResizeImporters(ImporterTable &table);

/// Dropout with a true or runtime training_mode (ImportRandom.cpp), called
/// from the Dropout importer.
bool importTrainingDropout(NodeImporter &n);

} // namespace lathe

#endif // LATHE_FRONTEND_NODEIMPORTER_H
