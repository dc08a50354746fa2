// Importers of neural-network layers: Gemm/MatMul, convolution, pooling,
// normalisation, Dropout.
#include "frontend/NodeImporter.h"
#include "frontend/OnnxTensor.h"
#include "ir/LatheOps.h"
#include "ir/ShapeInference.h"

using namespace mlir;

namespace lathe {
namespace {

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

bool importDropout(NodeImporter &n) {
  float ratio = n.attrFloat("ratio", 0.5f);
  if (n.opset >= 12) {
    if (n.hasInput(2)) {
      const Tensor *t = n.constInput(2);
      // A runtime or true training_mode draws a random mask.
      if (!t ||
          (t->dtype == DType::Bool && t->numel() == 1 && *t->as<uint8_t>()))
        return importTrainingDropout(n);
      if (t->dtype != DType::Bool || t->numel() != 1)
        return n.error("training_mode must be a bool scalar");
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

} // namespace

void registerNNImporters(ImporterTable &table) {
  table["AveragePool"] = importAveragePool;
  table["BatchNormalization"] = importBatchNorm;
  table["Conv"] = importConv;
  table["Dropout"] = importDropout;
  table["Gemm"] = importGemm;
  table["GlobalAveragePool"] = importUnary<GlobalAveragePoolOp>;
  table["MatMul"] = importMatMul;
  table["MaxPool"] = importMaxPool;
}

} // namespace lathe
