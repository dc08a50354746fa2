// Importers of neural-network layers: Gemm/MatMul/Einsum, convolution and
// transposed convolution, pooling and unpooling, BatchNormalization, Dropout.
// The other normalisations are in ImportNormalization.cpp, resampling in
// ImportResize.cpp.
#include "frontend/NodeImporter.h"
#include "frontend/OnnxTensor.h"
#include "ir/LatheOps.h"
#include "ir/ShapeInference.h"

#include <algorithm>
#include <cctype>
#include <map>

using namespace mlir;

namespace lathe {

bool importBatchNormTraining(NodeImporter &n); // ImportNormalization.cpp

namespace {

bool importGemm(NodeImporter &n) {
  // Opsets < 7: broadcast=1 broadcasts C to [M, N] as numpy does, and
  // without it C must already be [M, N]; numpy broadcasting covers both.
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

bool importMatMul(NodeImporter &n) {
  Value v = n.create<MatMulOp>({n.input(0), n.input(1)});
  n.setOutput(0, v);
  return bool(v);
}

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
  w.dilations =
      hasDilations
          ? n.attrInts("dilations").value_or(std::vector<int64_t>(spatial, 1))
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
                  std::vector<int64_t>(
                      ws.begin() + std::min<size_t>(2, ws.size()), ws.end()),
                  /*hasDilations=*/true, w))
    return false;
  SmallVector<Value> operands = {x, weight};
  if (n.hasInput(2))
    operands.push_back(n.input(2));
  Value v =
      n.create<ConvOp>(operands, {n.namedI64s("strides", w.strides),
                                  n.namedI64s("dilations", w.dilations),
                                  n.namedI64s("pads", w.pads),
                                  n.namedI64("group", n.attrInt("group", 1))});
  n.setOutput(0, v);
  return bool(v);
}

bool importMaxPool(NodeImporter &n) {
  int64_t order = n.attrInt("storage_order", 0);
  if (order != 0 && order != 1)
    return n.error("storage_order must be 0 or 1, got " + Twine(order));
  Window w;
  if (!readWindow(n, n.shapeOf(n.input(0)), {}, n.opset >= 10, w))
    return false;
  bool ceil = n.attrInt("ceil_mode", 0) != 0;
  if (!n.hasOutput(1)) {
    Value v = n.create<MaxPoolOp>({n.input(0)},
                                  {n.namedI64s("kernel_shape", w.kernel),
                                   n.namedI64s("strides", w.strides),
                                   n.namedI64s("dilations", w.dilations),
                                   n.namedI64s("pads", w.pads),
                                   n.namedBool("ceil_mode", ceil)});
    n.setOutput(0, v);
    return bool(v);
  }
  Value v = n.create<MaxPoolWithIndicesOp>(
      {n.input(0)},
      {n.namedI64s("kernel_shape", w.kernel), n.namedI64s("strides", w.strides),
       n.namedI64s("dilations", w.dilations), n.namedI64s("pads", w.pads),
       n.namedBool("ceil_mode", ceil), n.namedI64("storage_order", order)});
  if (!v)
    return false;
  n.setOutput(0, v);
  n.setOutput(1, v.getDefiningOp()->getResult(1));
  return true;
}

/// GlobalMaxPool is a MaxPool whose window is the whole spatial extent.
bool importGlobalMaxPool(NodeImporter &n) {
  std::vector<int64_t> shape = n.shapeOf(n.input(0));
  if (shape.size() < 3)
    return n.error("input must be [N, C, spatial...], got rank " +
                   Twine(shape.size()));
  size_t spatial = shape.size() - 2;
  std::vector<int64_t> kernel(shape.begin() + 2, shape.end());
  Value v = n.create<MaxPoolOp>(
      {n.input(0)}, {n.namedI64s("kernel_shape", kernel),
                     n.namedI64s("strides", std::vector<int64_t>(spatial, 1)),
                     n.namedI64s("dilations", std::vector<int64_t>(spatial, 1)),
                     n.namedI64s("pads", std::vector<int64_t>(2 * spatial, 0)),
                     n.namedBool("ceil_mode", false)});
  n.setOutput(0, v);
  return bool(v);
}

/// Integer values of a constant 1-D input (int32 or int64).
std::optional<std::vector<int64_t>> constInts(NodeImporter &n, size_t i) {
  const Tensor *t = n.constInput(i);
  if (!t)
    return std::nullopt;
  std::vector<int64_t> v;
  for (int64_t k = 0; k < t->numel(); ++k) {
    if (t->dtype == DType::I64)
      v.push_back(t->as<int64_t>()[k]);
    else if (t->dtype == DType::I32)
      v.push_back(t->as<int32_t>()[k]);
    else
      return std::nullopt;
  }
  return v;
}

bool importMaxUnpool(NodeImporter &n) {
  std::vector<int64_t> in = n.shapeOf(n.input(0));
  if (in.size() < 3)
    return n.error("input must be [N, C, spatial...], got rank " +
                   Twine(in.size()));
  size_t spatial = in.size() - 2;
  auto kernel = n.attrInts("kernel_shape");
  if (!kernel || kernel->size() != spatial)
    return n.error("kernel_shape must have one value per spatial dim");
  auto strides =
      n.attrInts("strides").value_or(std::vector<int64_t>(spatial, 1));
  auto pads = n.attrInts("pads").value_or(std::vector<int64_t>(2 * spatial, 0));
  if (strides.size() != spatial || pads.size() != 2 * spatial)
    return n.error("strides/pads do not match the spatial rank");
  // The indices address the unpooled shape that the pooling window implies;
  // an explicit output_shape only grows the result around it.
  std::vector<int64_t> indexShape = {in[0], in[1]};
  for (size_t i = 0; i < spatial; ++i)
    indexShape.push_back((in[i + 2] - 1) * strides[i] + (*kernel)[i] - pads[i] -
                         pads[i + spatial]);
  std::vector<int64_t> outShape = indexShape;
  if (n.hasInput(2)) {
    auto given = constInts(n, 2);
    if (!given)
      return n.error(
          "output_shape must be a compile-time constant (freeze it)");
    if (given->size() != in.size())
      return n.error("output_shape has " + Twine(given->size()) +
                     " values for an input of rank " + Twine(in.size()));
    outShape = *given;
  }
  Value v = n.create<MaxUnpoolOp>({n.input(0), n.input(1)},
                                  {n.namedI64s("index_shape", indexShape),
                                   n.namedI64s("output_shape", outShape)});
  n.setOutput(0, v);
  return bool(v);
}

bool importConvTranspose(NodeImporter &n) {
  Value x = n.input(0), weight = n.input(1);
  std::vector<int64_t> in = n.shapeOf(x), ws = n.shapeOf(weight);
  if (in.size() < 3 || ws.size() != in.size())
    return n.error("input and weight must be [N, C, spatial...] of one rank");
  size_t spatial = in.size() - 2;
  std::vector<int64_t> kernel(ws.begin() + 2, ws.end());
  if (auto k = n.attrInts("kernel_shape"); k && *k != kernel)
    return n.error("kernel_shape does not match the weight's spatial dims");
  auto ones = std::vector<int64_t>(spatial, 1);
  auto strides = n.attrInts("strides").value_or(ones);
  auto dilations = n.attrInts("dilations").value_or(ones);
  auto outPad =
      n.attrInts("output_padding").value_or(std::vector<int64_t>(spatial, 0));
  if (strides.size() != spatial || dilations.size() != spatial ||
      outPad.size() != spatial)
    return n.error("strides, dilations and output_padding must have one value "
                   "per spatial dim");
  for (size_t i = 0; i < spatial; ++i) {
    if (strides[i] < 1 || dilations[i] < 1)
      return n.error("strides and dilations must be positive");
    if (outPad[i] < 0 || (outPad[i] >= strides[i] && outPad[i] >= dilations[i]))
      return n.error("output_padding must be smaller than the stride or the "
                     "dilation");
  }
  std::string autoPad = n.attrString("auto_pad", "NOTSET");
  if (autoPad != "NOTSET" && autoPad != "SAME_UPPER" &&
      autoPad != "SAME_LOWER" && autoPad != "VALID")
    return n.error("auto_pad '" + autoPad +
                   "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
  std::vector<int64_t> pads(2 * spatial, 0);
  auto full = [&](size_t i) {
    return strides[i] * (in[i + 2] - 1) + outPad[i] +
           (kernel[i] - 1) * dilations[i] + 1;
  };
  std::optional<std::vector<int64_t>> outShape = n.attrInts("output_shape");
  if (outShape && outShape->size() == spatial + 2)
    outShape = std::vector<int64_t>(outShape->begin() + 2, outShape->end());
  if (outShape && outShape->size() != spatial)
    return n.error("output_shape must have one value per spatial dim");
  if (!outShape && (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER")) {
    outShape.emplace();
    for (size_t i = 0; i < spatial; ++i)
      outShape->push_back(in[i + 2] * strides[i]);
  }
  if (outShape) {
    // ONNX: total padding = full size - output_shape, the odd one at the end
    // for SAME_UPPER, at the beginning otherwise. A larger output_shape
    // appends zeros, like output_padding.
    for (size_t i = 0; i < spatial; ++i) {
      int64_t total = full(i) - (*outShape)[i];
      if (total < 0) {
        outPad[i] -= total;
        continue;
      }
      int64_t small = total / 2, large = total - small;
      pads[i] = autoPad == "SAME_UPPER" ? small : large;
      pads[i + spatial] = autoPad == "SAME_UPPER" ? large : small;
    }
  } else if (autoPad == "NOTSET") {
    if (auto p = n.attrInts("pads"))
      pads = *p;
    if (pads.size() != 2 * spatial)
      return n.error("pads must have two values per spatial dim");
  }
  SmallVector<Value> operands = {x, weight};
  if (n.hasInput(2))
    operands.push_back(n.input(2));
  Value v = n.create<ConvTransposeOp>(
      operands,
      {n.namedI64s("strides", strides), n.namedI64s("dilations", dilations),
       n.namedI64s("pads", pads), n.namedI64s("output_padding", outPad),
       n.namedI64("group", n.attrInt("group", 1))});
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
  if (n.opset < 9 && n.attrInt("spatial", 1) == 0)
    return n.error("spatial=0 (per-activation statistics) is not supported");
  bool anyStats = false;
  for (int i = 1; i < n.node.output_size(); ++i)
    anyStats |= n.hasOutput(i);
  // Before opset 14 asking for the statistics outputs means training mode
  // (opset < 7 also had is_test; like ONNX Runtime, lathe goes by the
  // outputs).
  bool training = n.opset >= 14 ? n.attrInt("training_mode", 0) != 0 : anyStats;
  if (training)
    return importBatchNormTraining(n);
  if (anyStats)
    return n.error("the running-statistics outputs exist only in training "
                   "mode (training_mode=1)");
  Value v = n.create<BatchNormOp>(
      {n.input(0), n.input(1), n.input(2), n.input(3), n.input(4)},
      {n.namedF32("epsilon", n.attrFloat("epsilon", 1e-5f)),
       n.namedF32("momentum", n.attrFloat("momentum", 0.9f))});
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
    return n.error("ratio " + Twine(std::to_string(ratio)) +
                   " is not in [0, 1)");
  Value v = n.create<DropoutOp>({n.input(0)}, {n.namedF32("ratio", ratio)});
  if (!v)
    return false;
  n.setOutput(0, v);
  if (n.hasOutput(1)) {
    // In inference every element is kept. Opset 7-9 typed the mask like the
    // input; from opset 10 it is bool.
    Tensor mask(n.opset >= 10 ? DType::Bool : DType::F32,
                n.shapeOf(n.input(0)));
    if (mask.dtype == DType::Bool)
      std::fill(mask.data.begin(), mask.data.end(), 1);
    else
      for (int64_t i = 0; i < mask.numel(); ++i)
        mask.as<float>()[i] = 1.0f;
    n.setOutput(1, n.constant(mask));
  }
  return true;
}

/// Parses an einsum equation into one label per operand dim (letters by
/// their character code, ellipsis dims as 1000 + position) and the output
/// labels (implicit form: the labels seen once, in alphabetical order, after
/// the ellipsis dims).
bool parseEinsum(NodeImporter &n, std::string eq,
                 const std::vector<std::vector<int64_t>> &shapes,
                 std::vector<int64_t> &labels, std::vector<int64_t> &out) {
  eq.erase(std::remove(eq.begin(), eq.end(), ' '), eq.end());
  size_t arrow = eq.find("->");
  std::string lhs = eq.substr(0, arrow);
  std::vector<std::string> terms;
  for (size_t start = 0;;) {
    size_t comma = lhs.find(',', start);
    terms.push_back(lhs.substr(start, comma - start));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  if (terms.size() != shapes.size())
    return n.error("equation '" + eq + "' names " + Twine(terms.size()) +
                   " operands, the node has " + Twine(shapes.size()));
  int64_t ellipsisRank = -1;
  std::map<int64_t, int> counts;
  auto expand = [&](const std::string &term, int64_t rank,
                    std::vector<int64_t> &into) -> bool {
    size_t dots = term.find("...");
    int64_t letters = term.size() - (dots == std::string::npos ? 0 : 3);
    int64_t ell = rank - letters;
    if (dots == std::string::npos ? ell != 0 : ell < 0)
      return n.error("term '" + term + "' does not fit an operand of rank " +
                     Twine(rank));
    for (size_t i = 0; i < term.size(); ++i) {
      if (i == dots) {
        if (ellipsisRank >= 0 && ellipsisRank != ell)
          return n.error("ellipses of different ranks (broadcasting) are not "
                         "supported");
        ellipsisRank = ell;
        for (int64_t j = 0; j < ell; ++j)
          into.push_back(1000 + j);
        i += 2;
        continue;
      }
      if (!std::isalpha(static_cast<unsigned char>(term[i])))
        return n.error("bad character '" + Twine(term[i]) + "' in equation");
      into.push_back(term[i]);
    }
    return true;
  };
  for (size_t t = 0; t < terms.size(); ++t) {
    std::vector<int64_t> termLabels;
    if (!expand(terms[t], shapes[t].size(), termLabels))
      return false;
    for (int64_t l : termLabels)
      ++counts[l];
    labels.insert(labels.end(), termLabels.begin(), termLabels.end());
  }
  if (arrow != std::string::npos) {
    std::string term = eq.substr(arrow + 2);
    for (size_t i = 0; i < term.size(); ++i) {
      if (term.compare(i, 3, "...") == 0) {
        for (int64_t j = 0; j < std::max<int64_t>(ellipsisRank, 0); ++j)
          out.push_back(1000 + j);
        i += 2;
      } else if (std::isalpha(static_cast<unsigned char>(term[i]))) {
        out.push_back(term[i]);
      } else {
        return n.error("bad character '" + Twine(term[i]) + "' in equation");
      }
    }
    return true;
  }
  for (int64_t j = 0; j < std::max<int64_t>(ellipsisRank, 0); ++j)
    out.push_back(1000 + j);
  for (auto [l, c] : counts)
    if (l < 1000 && c == 1)
      out.push_back(l);
  return true;
}

bool importEinsum(NodeImporter &n) {
  std::vector<std::vector<int64_t>> shapes;
  SmallVector<Value> operands;
  for (size_t i = 0; i < n.numInputs(); ++i) {
    operands.push_back(n.input(i));
    shapes.push_back(n.shapeOf(n.input(i)));
  }
  std::vector<int64_t> labels, out;
  if (!parseEinsum(n, n.attrString("equation", ""), shapes, labels, out))
    return false;
  Value v = n.create<EinsumOp>(operands, {n.namedI64s("labels", labels),
                                          n.namedI64s("output_labels", out)});
  n.setOutput(0, v);
  return bool(v);
}

} // namespace

void registerNNImporters(ImporterTable &table) {
  table["AveragePool"] = importAveragePool;
  table["BatchNormalization"] = importBatchNorm;
  table["Conv"] = importConv;
  table["ConvTranspose"] = importConvTranspose;
  table["Dropout"] = importDropout;
  table["Einsum"] = importEinsum;
  table["Gemm"] = importGemm;
  table["GlobalAveragePool"] = importUnary<GlobalAveragePoolOp>;
  table["GlobalMaxPool"] = importGlobalMaxPool;
  table["MatMul"] = importMatMul;
  table["MaxPool"] = importMaxPool;
  table["MaxUnpool"] = importMaxUnpool;
  registerNormalizationImporters(table);
  registerResizeImporters(table);
}

} // namespace lathe
