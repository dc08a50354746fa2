// Importers of shape and data-movement ops, and Constant.
#include "frontend/NodeImporter.h"
#include "frontend/OnnxTensor.h"
#include "ir/LatheOps.h"
#include "ir/ShapeInference.h"

using namespace mlir;

namespace lathe {
namespace {

bool importFlatten(NodeImporter &n) {
  Value v =
      n.create<FlattenOp>({n.input(0)}, {n.namedI64("axis", n.attrInt("axis", 1))});
  n.setOutput(0, v);
  return bool(v);
}

bool importReshape(NodeImporter &n) {
  std::vector<int64_t> requested;
  if (n.opset < 5) {
    requested = n.attrInts("shape").value_or(std::vector<int64_t>{});
  } else {
    const Tensor *shape = n.constInput(1);
    if (!shape)
      return n.error("the shape input must be a constant (lathe compiles "
                     "static shapes)");
    if (shape->dtype != DType::I64 || shape->shape.size() != 1)
      return n.error("the shape input must be a 1-D int64 tensor");
    requested.assign(shape->as<int64_t>(), shape->as<int64_t>() + shape->numel());
  }
  std::vector<int64_t> out;
  std::string message;
  if (!resolveReshape(n.shapeOf(n.input(0)), requested,
                      n.attrInt("allowzero", 0) != 0, out, message))
    return n.error(message);
  Value v = n.create<ReshapeOp>({n.input(0)}, {n.namedI64s("shape", out)});
  n.setOutput(0, v);
  return bool(v);
}

bool importTranspose(NodeImporter &n) {
  int64_t rank = n.shapeOf(n.input(0)).size();
  std::vector<int64_t> perm;
  if (auto p = n.attrInts("perm"))
    perm = *p;
  else
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  Value v = n.create<TransposeOp>({n.input(0)}, {n.namedI64s("perm", perm)});
  n.setOutput(0, v);
  return bool(v);
}

bool importConcat(NodeImporter &n) {
  if (!n.attr("axis"))
    return n.error("the axis attribute is required");
  SmallVector<Value> operands;
  for (size_t i = 0; i < n.numInputs(); ++i)
    if (n.hasInput(i))
      operands.push_back(n.input(i));
  Value v = n.create<ConcatOp>(operands, {n.namedI64("axis", n.attrInt("axis", 0))});
  n.setOutput(0, v);
  return bool(v);
}

bool importIdentity(NodeImporter &n) { return importUnary<IdentityOp>(n); }

bool importConstant(NodeImporter &n) {
  if (n.node.attribute_size() != 1)
    return n.error("Constant needs exactly one value attribute");
  const onnx::AttributeProto &a = n.node.attribute(0);
  Tensor t;
  if (a.name() == "value") {
    std::string message;
    if (!tensorFromProto(a.t(), "", t, message))
      return n.error(message);
  } else if (a.name() == "value_float") {
    t = Tensor(DType::F32, {});
    *t.as<float>() = a.f();
  } else if (a.name() == "value_floats") {
    t = Tensor(DType::F32, {static_cast<int64_t>(a.floats_size())});
    std::copy(a.floats().begin(), a.floats().end(), t.as<float>());
  } else if (a.name() == "value_int") {
    t = Tensor(DType::I64, {});
    *t.as<int64_t>() = a.i();
  } else if (a.name() == "value_ints") {
    t = Tensor(DType::I64, {static_cast<int64_t>(a.ints_size())});
    std::copy(a.ints().begin(), a.ints().end(), t.as<int64_t>());
  } else {
    return n.error("Constant attribute '" + a.name() + "' is not supported");
  }
  Value v = n.constant(t);
  n.setOutput(0, v);
  n.setConstOutput(0, std::move(t));
  return bool(v);
}

} // namespace

void registerShapeImporters(ImporterTable &table) {
  table["Concat"] = importConcat;
  table["Constant"] = importConstant;
  table["Flatten"] = importFlatten;
  table["Identity"] = importIdentity;
  table["Reshape"] = importReshape;
  table["Transpose"] = importTranspose;
}

} // namespace lathe
