// Importers of reductions, arg-reductions, CumSum and TopK.
#include "frontend/NodeImporter.h"
#include "frontend/OnnxTensor.h"
#include "ir/LatheOps.h"
#include "ir/ShapeInference.h"

#include <algorithm>

using namespace mlir;

namespace lathe {
namespace {

/// Reads the integers of a constant int32/int64 tensor of rank <= 1.
bool readInts(NodeImporter &n, const Tensor &t, const char *what,
              std::vector<int64_t> &out) {
  if (t.shape.size() > 1)
    return n.error(Twine(what) + " must be a scalar or 1-D tensor");
  out.clear();
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (t.dtype == DType::I64)
      out.push_back(t.as<int64_t>()[i]);
    else if (t.dtype == DType::I32)
      out.push_back(t.as<int32_t>()[i]);
    else
      return n.error(Twine(what) + " must be int32 or int64");
  }
  return true;
}

/// The constant integers of input `i`, or an error naming it.
bool constInts(NodeImporter &n, size_t i, const char *what,
               std::vector<int64_t> &out) {
  const Tensor *t = n.constInput(i);
  if (!t)
    return n.error(Twine(what) + " must be a constant (lathe compiles static "
                                 "shapes)");
  return readInts(n, *t, what, out);
}

/// ONNX Reduce*: `axes` is an attribute, or (ReduceSum from opset 13, all
/// reductions from opset 18) an optional input. Absent or empty axes reduce
/// everything, unless noop_with_empty_axes asks for the identity.
template <typename OpT> bool importReduce(NodeImporter &n) {
  Value x = n.input(0);
  int64_t rank = n.shapeOf(x).size();
  std::vector<int64_t> axes;
  if (n.hasInput(1)) {
    if (n.attr("axes"))
      return n.error("axes given both as attribute and input");
    if (!constInts(n, 1, "the axes input", axes))
      return false;
  } else if (auto a = n.attrInts("axes")) {
    axes = *a;
  }
  if (axes.empty()) {
    if (n.attrInt("noop_with_empty_axes", 0) != 0) {
      n.setOutput(0, x);
      return true;
    }
    for (int64_t d = 0; d < rank; ++d)
      axes.push_back(d);
  }
  for (int64_t &a : axes) {
    if (a < -rank || a >= rank)
      return n.error("axis " + Twine(a) + " is out of range for rank " +
                     Twine(rank));
    if (a < 0)
      a += rank;
  }
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    return n.error("axes repeat an axis");
  Value v = n.create<OpT>(
      {x}, {n.namedI64s("axes", axes),
            n.namedBool("keepdims", n.attrInt("keepdims", 1) != 0)});
  n.setOutput(0, v);
  return bool(v);
}

/// ArgMax/ArgMin; select_last_index exists from opset 12 (default 0).
template <typename OpT> bool importArgReduce(NodeImporter &n) {
  Value v = n.create<OpT>(
      {n.input(0)}, {n.namedI64("axis", n.attrInt("axis", 0)),
                     n.namedBool("keepdims", n.attrInt("keepdims", 1) != 0),
                     n.namedBool("select_last_index",
                                 n.attrInt("select_last_index", 0) != 0)});
  n.setOutput(0, v);
  return bool(v);
}

/// CumSum (opset 11, 14): the axis is a 0-D (or one-element 1-D) input.
bool importCumSum(NodeImporter &n) {
  std::vector<int64_t> axis;
  if (!constInts(n, 1, "the axis input", axis))
    return false;
  if (axis.size() != 1)
    return n.error("the axis input must hold one value");
  Value v = n.create<CumSumOp>(
      {n.input(0)}, {n.namedI64("axis", axis[0]),
                     n.namedBool("exclusive", n.attrInt("exclusive", 0) != 0),
                     n.namedBool("reverse", n.attrInt("reverse", 0) != 0)});
  n.setOutput(0, v);
  return bool(v);
}

/// TopK: k is an attribute before opset 10 and a one-element input after;
/// largest/sorted come with opset 11. The result is always sorted, which
/// satisfies sorted = 0 too (the order is then unspecified).
bool importTopK(NodeImporter &n) {
  int64_t k;
  if (n.opset < 10) {
    if (!n.attr("k"))
      return n.error("the k attribute is required");
    k = n.attrInt("k", 0);
  } else {
    std::vector<int64_t> ks;
    if (!constInts(n, 1, "the K input", ks))
      return false;
    if (ks.size() != 1)
      return n.error("the K input must hold one value");
    k = ks[0];
  }
  Value values = n.create<TopKOp>(
      {n.input(0)},
      {n.namedI64("axis", n.attrInt("axis", -1)), n.namedI64("k", k),
       n.namedBool("largest", n.attrInt("largest", 1) != 0)});
  if (!values)
    return false;
  n.setOutput(0, values);
  n.setOutput(1, values.getDefiningOp()->getResult(1));
  return true;
}

} // namespace

void registerReductionImporters(ImporterTable &table) {
  table["ArgMax"] = importArgReduce<ArgMaxOp>;
  table["ArgMin"] = importArgReduce<ArgMinOp>;
  table["CumSum"] = importCumSum;
  table["ReduceL1"] = importReduce<ReduceL1Op>;
  table["ReduceL2"] = importReduce<ReduceL2Op>;
  table["ReduceLogSum"] = importReduce<ReduceLogSumOp>;
  table["ReduceLogSumExp"] = importReduce<ReduceLogSumExpOp>;
  table["ReduceMax"] = importReduce<ReduceMaxOp>;
  table["ReduceMean"] = importReduce<ReduceMeanOp>;
  table["ReduceMin"] = importReduce<ReduceMinOp>;
  table["ReduceProd"] = importReduce<ReduceProdOp>;
  table["ReduceSum"] = importReduce<ReduceSumOp>;
  table["ReduceSumSquare"] = importReduce<ReduceSumSquareOp>;
  table["TopK"] = importTopK;
}

} // namespace lathe
