// Importers of shape and data-movement ops, and Constant. Ops whose result
// is known at compile time (Shape, Size, ConstantOfShape, Range, EyeLike)
// become constants; the rest become lathe ops with static shape attributes.
#include "frontend/ConstantEval.h"
#include "frontend/NodeImporter.h"
#include "frontend/OnnxTensor.h"
#include "frontend/ShapeOperands.h"
#include "ir/LatheOps.h"
#include "ir/ShapeInference.h"

using namespace mlir;

namespace lathe {
namespace {

bool importFlatten(NodeImporter &n) {
  Value v = n.create<FlattenOp>({n.input(0)},
                                {n.namedI64("axis", n.attrInt("axis", 1))});
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
    requested.assign(shape->as<int64_t>(),
                     shape->as<int64_t>() + shape->numel());
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
  Value v =
      n.create<ConcatOp>(operands, {n.namedI64("axis", n.attrInt("axis", 0))});
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

/// ONNX dtype of a lathe value's element type; nullopt when it has none.
std::optional<DType> dtypeOf(NodeImporter &n, Value v) {
  Type et = n.typeOf(v).getElementType();
  for (int32_t t : {LATHE_DTYPE_FLOAT, LATHE_DTYPE_DOUBLE, LATHE_DTYPE_FLOAT16,
                    LATHE_DTYPE_INT8, LATHE_DTYPE_INT16, LATHE_DTYPE_INT32,
                    LATHE_DTYPE_INT64, LATHE_DTYPE_UINT8, LATHE_DTYPE_UINT16,
                    LATHE_DTYPE_UINT32, LATHE_DTYPE_UINT64,
                    LATHE_DTYPE_BFLOAT16, LATHE_DTYPE_BOOL})
    if (Type candidate = toElementType(n.b.getContext(), t);
        candidate && candidate == et)
      return static_cast<DType>(t);
  return std::nullopt;
}

bool importReshapeTo(NodeImporter &n, const Shape &shape) {
  Value v = n.create<ReshapeOp>({n.input(0)}, {n.namedI64s("shape", shape)});
  n.setOutput(0, v);
  return bool(v);
}

bool importSqueeze(NodeImporter &n) {
  Shape out;
  std::string error;
  if (!squeezeShape(n, n.shapeOf(n.input(0)), out, error))
    return n.error(error);
  return importReshapeTo(n, out);
}

bool importUnsqueeze(NodeImporter &n) {
  Shape out;
  std::string error;
  if (!unsqueezeShape(n, n.shapeOf(n.input(0)), out, error))
    return n.error(error);
  return importReshapeTo(n, out);
}

Value createSlice(NodeImporter &n, Value x, const Shape &offsets,
                  const Shape &sizes, const Shape &strides) {
  return n.create<SliceOp>({x}, {n.namedI64s("offsets", offsets),
                                 n.namedI64s("sizes", sizes),
                                 n.namedI64s("strides", strides)});
}

bool importSlice(NodeImporter &n) {
  Shape offsets, sizes, strides;
  std::string error;
  if (!sliceParams(n, n.shapeOf(n.input(0)), offsets, sizes, strides, error))
    return n.error(error);
  Value v = createSlice(n, n.input(0), offsets, sizes, strides);
  n.setOutput(0, v);
  return bool(v);
}

bool importSplit(NodeImporter &n) {
  Shape in = n.shapeOf(n.input(0)), sizes;
  int64_t axis;
  std::string error;
  if (!splitSizes(n, in, axis, sizes, error))
    return n.error(error);
  Shape offsets(in.size(), 0), strides(in.size(), 1);
  for (size_t i = 0; i < sizes.size(); ++i) {
    Shape box = in;
    box[axis] = sizes[i];
    Value v = createSlice(n, n.input(0), offsets, box, strides);
    if (!v)
      return false;
    n.setOutput(i, v);
    offsets[axis] += sizes[i];
  }
  return true;
}

/// The integers of constant input `i`, or an error naming `what`.
bool constInts(NodeImporter &n, size_t i, const char *what,
               std::vector<int64_t> &out) {
  const Tensor *t = n.constInput(i);
  if (!t || !readInts(*t, out))
    return n.error(Twine("the ") + what +
                   " input must be a constant integer tensor (lathe compiles "
                   "static shapes)");
  return true;
}

bool importExpand(NodeImporter &n) {
  std::vector<int64_t> shape;
  if (!constInts(n, 1, "shape", shape))
    return false;
  Value v = n.create<ExpandOp>({n.input(0)}, {n.namedI64s("shape", shape)});
  n.setOutput(0, v);
  return bool(v);
}

bool importTile(NodeImporter &n) {
  std::vector<int64_t> repeats;
  if (!constInts(n, 1, "repeats", repeats))
    return false;
  Value v = n.create<TileOp>({n.input(0)}, {n.namedI64s("repeats", repeats)});
  n.setOutput(0, v);
  return bool(v);
}

bool importPad(NodeImporter &n) {
  std::string mode = n.attrString("mode", "constant");
  std::vector<int64_t> pads;
  Value value;
  if (n.opset < 11) {
    auto p = n.attrInts(n.opset < 2 ? "paddings" : "pads");
    if (!p)
      return n.error("the pads attribute is required");
    pads = *p;
    float fill = n.attrFloat("value", 0.0f);
    if (fill != 0.0f || std::signbit(fill)) {
      Type et = n.typeOf(n.input(0)).getElementType();
      auto scalar = RankedTensorType::get({}, et);
      Attribute a;
      if (isa<FloatType>(et))
        a = FloatAttr::get(et, fill);
      else if (isa<IntegerType>(et))
        a = IntegerAttr::get(et, static_cast<int64_t>(fill));
      else
        return n.error("value cannot be given for this element type");
      value = n.b.create<ConstantOp>(n.loc, DenseElementsAttr::get(scalar, a));
    }
  } else {
    if (!constInts(n, 1, "pads", pads))
      return false;
    if (n.hasInput(3))
      return n.error("the axes input (opset 18) is not supported");
    value = n.input(2);
  }
  if (mode == "wrap")
    return n.error("mode 'wrap' (opset 19) is not supported");
  SmallVector<Value> operands = {n.input(0)};
  if (value)
    operands.push_back(value);
  Value v =
      n.create<PadOp>(operands, {n.namedI64s("pads", pads),
                                 n.named("mode", n.b.getStringAttr(mode))});
  n.setOutput(0, v);
  return bool(v);
}

bool importShapeOp(NodeImporter &n) {
  int64_t start = n.opset >= 15 ? n.attrInt("start", 0) : 0;
  int64_t end = n.opset >= 15
                    ? n.attrInt("end", std::numeric_limits<int64_t>::max())
                    : std::numeric_limits<int64_t>::max();
  return setConstantOutput(n, 0,
                           shapeTensor(n.shapeOf(n.input(0)), start, end));
}

bool importSize(NodeImporter &n) {
  Tensor t(DType::I64, {});
  *t.as<int64_t>() = numElements(n.shapeOf(n.input(0)));
  return setConstantOutput(n, 0, std::move(t));
}

/// ConstantOfShape and Range are evaluated when their inputs are constants
/// (ConstantEval.cpp, before the importers run); reaching here means not.
bool importConstantOnly(NodeImporter &n) {
  for (size_t i = 0; i < n.numInputs(); ++i)
    if (n.hasInput(i) && !n.constInput(i))
      return n.error("input " + Twine(i) +
                     " must be a compile-time constant (lathe compiles static "
                     "shapes)");
  return n.error("cannot evaluate the node at compile time (unsupported "
                 "element type or invalid inputs)");
}

bool importEyeLike(NodeImporter &n) {
  auto inType = dtypeOf(n, n.input(0));
  int64_t dtype =
      n.attrInt("dtype", inType ? static_cast<int64_t>(*inType) : 0);
  Tensor t;
  if (!isSupportedDType(static_cast<int32_t>(dtype)) ||
      !eyeTensor(static_cast<DType>(dtype), n.shapeOf(n.input(0)),
                 n.attrInt("k", 0), t))
    return n.error("EyeLike needs a 2-D input and a supported dtype");
  return setConstantOutput(n, 0, std::move(t));
}

bool importTrilu(NodeImporter &n) {
  SmallVector<Value> operands = {n.input(0)};
  int64_t k = 0;
  if (n.hasInput(1)) {
    std::vector<int64_t> values;
    if (const Tensor *t = n.constInput(1);
        t && readInts(*t, values) && values.size() == 1)
      k = values[0];
    else
      operands.push_back(n.input(1));
  }
  Value v = n.create<TriluOp>(
      operands,
      {n.namedBool("upper", n.attrInt("upper", 1) != 0), n.namedI64("k", k)});
  n.setOutput(0, v);
  return bool(v);
}

bool importOneHot(NodeImporter &n) {
  const Tensor *depth = n.constInput(1);
  if (!depth || depth->numel() != 1)
    return n.error("the depth input must be a one-element constant (lathe "
                   "compiles static shapes)");
  // ONNX converts a float depth to an integer (truncation).
  double d = elementAsDouble(*depth, 0);
  if (!(d >= 1 && d < 9.2e18))
    return n.error("depth must be positive");
  Value v = n.create<OneHotOp>({n.input(0), n.input(2)},
                               {n.namedI64("depth", static_cast<int64_t>(d)),
                                n.namedI64("axis", n.attrInt("axis", -1))});
  n.setOutput(0, v);
  return bool(v);
}

/// DepthToSpace and SpaceToDepth are exact reshape-transpose-reshape chains.
bool importBlockRearrange(NodeImporter &n, bool toSpace) {
  Shape in = n.shapeOf(n.input(0));
  int64_t b = n.attrInt("blocksize", 0);
  if (in.size() != 4 || b < 1)
    return n.error("needs a 4-D NCHW input and a positive blocksize");
  int64_t N = in[0], C = in[1], H = in[2], W = in[3];
  Shape split, perm, out;
  if (toSpace) {
    if (C % (b * b) != 0)
      return n.error("channels " + Twine(C) + " are not divisible by " +
                     Twine(b * b));
    bool crd = n.attrString("mode", "DCR") == "CRD";
    if (!crd && n.attrString("mode", "DCR") != "DCR")
      return n.error("mode must be DCR or CRD");
    split = crd ? Shape{N, C / (b * b), b, b, H, W}
                : Shape{N, b, b, C / (b * b), H, W};
    perm = crd ? Shape{0, 1, 4, 2, 5, 3} : Shape{0, 3, 4, 1, 5, 2};
    out = {N, C / (b * b), H * b, W * b};
  } else {
    if (H % b != 0 || W % b != 0)
      return n.error("spatial dims " + Twine(H) + "x" + Twine(W) +
                     " are not divisible by the blocksize " + Twine(b));
    split = {N, C, H / b, b, W / b, b};
    perm = {0, 3, 5, 1, 2, 4};
    out = {N, C * b * b, H / b, W / b};
  }
  Value v = n.create<ReshapeOp>({n.input(0)}, {n.namedI64s("shape", split)});
  if (v)
    v = n.create<TransposeOp>({v}, {n.namedI64s("perm", perm)});
  if (v)
    v = n.create<ReshapeOp>({v}, {n.namedI64s("shape", out)});
  n.setOutput(0, v);
  return bool(v);
}
bool importDepthToSpace(NodeImporter &n) {
  return importBlockRearrange(n, true);
}
bool importSpaceToDepth(NodeImporter &n) {
  return importBlockRearrange(n, false);
}

bool importReverseSequence(NodeImporter &n) {
  Value v = n.create<ReverseSequenceOp>(
      {n.input(0), n.input(1)},
      {n.namedI64("batch_axis", n.attrInt("batch_axis", 1)),
       n.namedI64("time_axis", n.attrInt("time_axis", 0))});
  n.setOutput(0, v);
  return bool(v);
}

//===----------------------------------------------------------------------===//
// Gathers and scatters
//===----------------------------------------------------------------------===//

template <typename OpT> bool importGatherLike(NodeImporter &n) {
  Value v = n.create<OpT>({n.input(0), n.input(1)},
                          {n.namedI64("axis", n.attrInt("axis", 0))});
  n.setOutput(0, v);
  return bool(v);
}

bool importGatherND(NodeImporter &n) {
  Value v = n.create<GatherNDOp>(
      {n.input(0), n.input(1)},
      {n.namedI64("batch_dims", n.attrInt("batch_dims", 0))});
  n.setOutput(0, v);
  return bool(v);
}

bool importScatterElements(NodeImporter &n) {
  Value v = n.create<ScatterElementsOp>(
      {n.input(0), n.input(1), n.input(2)},
      {n.namedI64("axis", n.attrInt("axis", 0)),
       n.named("reduction",
               n.b.getStringAttr(n.attrString("reduction", "none")))});
  n.setOutput(0, v);
  return bool(v);
}

bool importScatterND(NodeImporter &n) {
  Value v = n.create<ScatterNDOp>(
      {n.input(0), n.input(1), n.input(2)},
      {n.named("reduction",
               n.b.getStringAttr(n.attrString("reduction", "none")))});
  n.setOutput(0, v);
  return bool(v);
}

} // namespace

void registerShapeImporters(ImporterTable &table) {
  table["Concat"] = importConcat;
  table["Constant"] = importConstant;
  table["ConstantOfShape"] = importConstantOnly;
  table["DepthToSpace"] = importDepthToSpace;
  table["Expand"] = importExpand;
  table["EyeLike"] = importEyeLike;
  table["Flatten"] = importFlatten;
  table["Gather"] = importGatherLike<GatherOp>;
  table["GatherElements"] = importGatherLike<GatherElementsOp>;
  table["GatherND"] = importGatherND;
  table["Identity"] = importIdentity;
  table["OneHot"] = importOneHot;
  table["Pad"] = importPad;
  table["Range"] = importConstantOnly;
  table["Reshape"] = importReshape;
  table["ReverseSequence"] = importReverseSequence;
  table["Scatter"] = importScatterElements;
  table["ScatterElements"] = importScatterElements;
  table["ScatterND"] = importScatterND;
  table["Shape"] = importShapeOp;
  table["Size"] = importSize;
  table["Slice"] = importSlice;
  table["SpaceToDepth"] = importSpaceToDepth;
  table["Split"] = importSplit;
  table["Squeeze"] = importSqueeze;
  table["Tile"] = importTile;
  table["Transpose"] = importTranspose;
  table["Trilu"] = importTrilu;
  table["Unsqueeze"] = importUnsqueeze;
}

} // namespace lathe
