// One importer per ONNX operator: reads the node's attributes with ONNX's
// defaults for the model's opset, refuses the values lathe cannot honour, and
// builds normalised lathe ops (auto_pad resolved, opset-specific semantics
// rewritten). To add an op: write a function here and list it in
// opImporters() at the bottom.
#include "frontend/NodeImporter.h"
#include "frontend/OnnxTensor.h"
#include "ir/LatheOps.h"
#include "ir/ShapeInference.h"

using namespace mlir;

namespace lathe {
namespace {

template <typename OpT> bool importBinary(NodeImporter &n) {
  if (n.opset < 7 && n.attr("broadcast"))
    return n.error("legacy broadcast attribute (opset < 7) is not supported");
  Value v = n.create<OpT>({n.input(0), n.input(1)});
  n.setOutput(0, v);
  return bool(v);
}

template <typename OpT> bool importUnary(NodeImporter &n) {
  Value v = n.create<OpT>({n.input(0)});
  n.setOutput(0, v);
  return bool(v);
}

bool importLeakyRelu(NodeImporter &n) {
  Value v = n.create<LeakyReluOp>(
      {n.input(0)}, {n.namedF32("alpha", n.attrFloat("alpha", 0.01f))});
  n.setOutput(0, v);
  return bool(v);
}

bool importElu(NodeImporter &n) {
  Value v = n.create<EluOp>({n.input(0)},
                            {n.namedF32("alpha", n.attrFloat("alpha", 1.0f))});
  n.setOutput(0, v);
  return bool(v);
}

/// Softmax and LogSoftmax: opset 13 normalises along one axis (default -1);
/// earlier opsets flatten to 2-D at `axis` (default 1) and normalise rows.
template <typename OpT> bool importSoftmax(NodeImporter &n) {
  Value x = n.input(0);
  std::vector<int64_t> shape = n.shapeOf(x);
  int64_t rank = shape.size();
  if (n.opset >= 13) {
    Value v = n.create<OpT>({x}, {n.namedI64("axis", n.attrInt("axis", -1))});
    n.setOutput(0, v);
    return bool(v);
  }
  int64_t axis = n.attrInt("axis", 1);
  if (axis < -rank || axis > rank)
    return n.error("axis " + Twine(axis) + " is out of range for rank " +
                   Twine(rank));
  Value flat = n.create<FlattenOp>({x}, {n.namedI64("axis", axis)});
  if (!flat)
    return false;
  Value y = n.create<OpT>({flat}, {n.namedI64("axis", 1)});
  if (!y)
    return false;
  Value v = n.create<ReshapeOp>({y}, {n.namedI64s("shape", shape)});
  n.setOutput(0, v);
  return bool(v);
}

bool importGemm(NodeImporter &n) {
  if (n.opset < 7 && n.attr("broadcast"))
    return n.error("legacy broadcast attribute (opset < 7) is not supported");
  SmallVector<Value> operands = {n.input(0), n.input(1)};
  if (n.hasInput(2))
    operands.push_back(n.input(2));
  Value v = n.create<GemmOp>(
      operands, {n.namedBool("transA", n.attrInt("transA", 0) != 0),
                 n.namedBool("transB", n.attrInt("transB", 0) != 0),
                 n.namedF32("alpha", n.attrFloat("alpha", 1.0f)),
                 n.namedF32("beta", n.attrFloat("beta", 1.0f))});
  n.setOutput(0, v);
  return bool(v);
}

bool importMatMul(NodeImporter &n) { return importBinary<MatMulOp>(n); }

/// Reads the sliding-window attributes shared by Conv and the pools and
/// resolves auto_pad against the input's spatial shape.
struct Window {
  std::vector<int64_t> kernel, strides, dilations, pads;
};

bool readWindow(NodeImporter &n, const std::vector<int64_t> &inShape,
                std::vector<int64_t> kernel, bool hasDilations, Window &w) {
  if (inShape.size() < 3)
    return n.error("input must be [N, C, spatial...], got rank " +
                   Twine(inShape.size()));
  size_t spatial = inShape.size() - 2;
  if (auto k = n.attrInts("kernel_shape")) {
    if (!kernel.empty() && *k != kernel)
      return n.error("kernel_shape does not match the weight's spatial dims");
    kernel = *k;
  }
  if (kernel.size() != spatial)
    return n.error("kernel_shape has " + Twine(kernel.size()) +
                   " dims, the input has " + Twine(spatial) + " spatial dims");
  w.kernel = kernel;
  w.strides = n.attrInts("strides").value_or(std::vector<int64_t>(spatial, 1));
  w.dilations = hasDilations ? n.attrInts("dilations").value_or(
                                   std::vector<int64_t>(spatial, 1))
                             : std::vector<int64_t>(spatial, 1);
  if (w.strides.size() != spatial || w.dilations.size() != spatial)
    return n.error("strides/dilations must have one value per spatial dim");
  for (size_t i = 0; i < spatial; ++i)
    if (w.strides[i] < 1 || w.dilations[i] < 1 || w.kernel[i] < 1)
      return n.error("kernel_shape, strides and dilations must be positive");
  w.pads = n.attrInts("pads").value_or(std::vector<int64_t>{});
  std::string autoPad = n.attrString("auto_pad", "NOTSET");
  if (autoPad != "NOTSET" && n.attr("pads"))
    return n.error("pads and auto_pad " + autoPad + " are both set");
  std::vector<int64_t> spatialIn(inShape.begin() + 2, inShape.end());
  std::string message;
  if (!resolveAutoPad(autoPad, spatialIn, w.kernel, w.strides, w.dilations,
                      w.pads, message))
    return n.error(message);
  return true;
}

bool importConv(NodeImporter &n) {
  Value x = n.input(0), weight = n.input(1);
  std::vector<int64_t> ws = n.shapeOf(weight);
  Window w;
  if (!readWindow(n, n.shapeOf(x),
                  std::vector<int64_t>(ws.begin() + std::min<size_t>(2, ws.size()),
                                       ws.end()),
                  /*hasDilations=*/true, w))
    return false;
  SmallVector<Value> operands = {x, weight};
  if (n.hasInput(2))
    operands.push_back(n.input(2));
  Value v = n.create<ConvOp>(
      operands,
      {n.namedI64s("strides", w.strides), n.namedI64s("dilations", w.dilations),
       n.namedI64s("pads", w.pads), n.namedI64("group", n.attrInt("group", 1))});
  n.setOutput(0, v);
  return bool(v);
}

bool importMaxPool(NodeImporter &n) {
  if (n.hasOutput(1))
    return n.error("the Indices output of MaxPool is not supported");
  if (n.attrInt("storage_order", 0) != 0 && n.hasOutput(1))
    return n.error("storage_order applies only to Indices");
  Window w;
  if (!readWindow(n, n.shapeOf(n.input(0)), {}, n.opset >= 10, w))
    return false;
  Value v = n.create<MaxPoolOp>(
      {n.input(0)},
      {n.namedI64s("kernel_shape", w.kernel), n.namedI64s("strides", w.strides),
       n.namedI64s("dilations", w.dilations), n.namedI64s("pads", w.pads),
       n.namedBool("ceil_mode", n.attrInt("ceil_mode", 0) != 0)});
  n.setOutput(0, v);
  return bool(v);
}

bool importAveragePool(NodeImporter &n) {
  if (n.attr("dilations"))
    return n.error("AveragePool dilations (opset 19) are not supported");
  Window w;
  if (!readWindow(n, n.shapeOf(n.input(0)), {}, false, w))
    return false;
  Value v = n.create<AveragePoolOp>(
      {n.input(0)},
      {n.namedI64s("kernel_shape", w.kernel), n.namedI64s("strides", w.strides),
       n.namedI64s("pads", w.pads),
       n.namedBool("ceil_mode", n.attrInt("ceil_mode", 0) != 0),
       n.namedBool("count_include_pad",
                   n.attrInt("count_include_pad", 0) != 0)});
  n.setOutput(0, v);
  return bool(v);
}

bool importBatchNorm(NodeImporter &n) {
  if (n.attrInt("training_mode", 0) != 0)
    return n.error("training_mode=1 needs the training pipeline; only "
                   "inference BatchNormalization is supported");
  if (n.opset < 9 && n.attrInt("spatial", 1) == 0)
    return n.error("spatial=0 (per-activation statistics) is not supported");
  for (int i = 1; i < n.node.output_size(); ++i)
    if (n.hasOutput(i))
      return n.error("the running-statistics outputs exist only in training "
                     "mode, which is not supported");
  Value v = n.create<BatchNormOp>(
      {n.input(0), n.input(1), n.input(2), n.input(3), n.input(4)},
      {n.namedF32("epsilon", n.attrFloat("epsilon", 1e-5f))});
  n.setOutput(0, v);
  return bool(v);
}

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

bool importDropout(NodeImporter &n) {
  float ratio = n.attrFloat("ratio", 0.5f);
  if (n.opset >= 12) {
    if (n.hasInput(2)) {
      const Tensor *t = n.constInput(2);
      if (!t || t->dtype != DType::Bool || t->numel() != 1)
        return n.error("training_mode must be a constant bool");
      if (*t->as<uint8_t>())
        return n.error("training_mode=true needs the training pipeline; only "
                       "inference Dropout is supported");
    }
    // In inference the ratio has no effect; keep it when it is known.
    if (const Tensor *r = n.constInput(1)) {
      if (r->numel() != 1)
        return n.error("the ratio input must be a scalar");
      if (r->dtype == DType::F32)
        ratio = *r->as<float>();
      else if (r->dtype == DType::F64)
        ratio = static_cast<float>(*r->as<double>());
    }
  } else if (n.opset < 7 && n.attrInt("is_test", 0) == 0) {
    return n.error("is_test=0 (training) is not supported");
  }
  if (ratio < 0 || ratio >= 1)
    return n.error("ratio " + Twine(std::to_string(ratio)) + " is not in [0, 1)");
  Value v = n.create<DropoutOp>({n.input(0)}, {n.namedF32("ratio", ratio)});
  if (!v)
    return false;
  n.setOutput(0, v);
  if (n.hasOutput(1)) {
    // In inference every element is kept. Opset 7-9 typed the mask like the
    // input; from opset 10 it is bool.
    Tensor mask(n.opset >= 10 ? DType::Bool : DType::F32, n.shapeOf(n.input(0)));
    if (mask.dtype == DType::Bool)
      std::fill(mask.data.begin(), mask.data.end(), 1);
    else
      for (int64_t i = 0; i < mask.numel(); ++i)
        mask.as<float>()[i] = 1.0f;
    n.setOutput(1, n.constant(mask));
  }
  return true;
}

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

const std::map<std::string, OpImportFn> &opImporters() {
  static const std::map<std::string, OpImportFn> table = {
      {"Add", importBinary<AddOp>},
      {"AveragePool", importAveragePool},
      {"BatchNormalization", importBatchNorm},
      {"Concat", importConcat},
      {"Constant", importConstant},
      {"Conv", importConv},
      {"Div", importBinary<DivOp>},
      {"Dropout", importDropout},
      {"Elu", importElu},
      {"Flatten", importFlatten},
      {"Gemm", importGemm},
      {"GlobalAveragePool", importUnary<GlobalAveragePoolOp>},
      {"Identity", importIdentity},
      {"LeakyRelu", importLeakyRelu},
      {"LogSoftmax", importSoftmax<LogSoftmaxOp>},
      {"MatMul", importMatMul},
      {"MaxPool", importMaxPool},
      {"Mul", importBinary<MulOp>},
      {"Relu", importUnary<ReluOp>},
      {"Reshape", importReshape},
      {"Sigmoid", importUnary<SigmoidOp>},
      {"Softmax", importSoftmax<SoftmaxOp>},
      {"Sub", importBinary<SubOp>},
      {"Tanh", importUnary<TanhOp>},
      {"Transpose", importTranspose},
  };
  return table;
}

} // namespace lathe
