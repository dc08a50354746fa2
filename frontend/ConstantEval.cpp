// The compile-time evaluator: the table of host evaluators (data movement
// here, elementwise ops in ConstantEvalMath.cpp) and the entry points the
// importer calls.
#include "frontend/ConstantEval.h"

#include "frontend/ConstantEvalInternal.h"
#include "frontend/OnnxTensor.h"
#include "frontend/ShapeOperands.h"
#include "ir/LatheOps.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>

using namespace mlir;

namespace lathe {

using namespace eval;

namespace {

//===----------------------------------------------------------------------===//
// Shape and data movement
//===----------------------------------------------------------------------===//

bool evalShape(const NodeImporter &n, Outputs &outs) {
  outs = {shapeTensor(in(n, 0).shape, n.attrInt("start", 0),
                      n.attrInt("end", std::numeric_limits<int64_t>::max()))};
  return true;
}

bool evalSize(const NodeImporter &n, Outputs &outs) {
  Tensor t(DType::I64, {});
  *t.as<int64_t>() = in(n, 0).numel();
  outs = {std::move(t)};
  return true;
}

bool evalReshape(const NodeImporter &n, Outputs &outs) {
  std::optional<std::vector<int64_t>> requested;
  std::string error;
  if (!intsOperand(n, 1, "shape", 5, requested, error) || !requested)
    return false;
  Shape out;
  if (!resolveReshape(in(n, 0).shape, *requested,
                      n.attrInt("allowzero", 0) != 0, out, error))
    return false;
  outs = {reshaped(in(n, 0), out)};
  return true;
}

bool evalFlatten(const NodeImporter &n, Outputs &outs) {
  const Tensor &x = in(n, 0);
  int64_t axis;
  std::string error;
  if (!flattenAxis(n, x.shape, axis, error))
    return false;
  Shape lead(x.shape.begin(), x.shape.begin() + axis),
      rest(x.shape.begin() + axis, x.shape.end());
  outs = {reshaped(x, {numElements(lead), numElements(rest)})};
  return true;
}

bool evalSqueeze(const NodeImporter &n, Outputs &outs) {
  Shape out;
  std::string error;
  if (!squeezeShape(n, in(n, 0).shape, out, error))
    return false;
  outs = {reshaped(in(n, 0), out)};
  return true;
}

bool evalUnsqueeze(const NodeImporter &n, Outputs &outs) {
  Shape out;
  std::string error;
  if (!unsqueezeShape(n, in(n, 0).shape, out, error))
    return false;
  outs = {reshaped(in(n, 0), out)};
  return true;
}

/// Copies the strided box `offsets + i * strides`, i < sizes, of `x`.
Tensor sliceOf(const Tensor &x, const Shape &offsets, const Shape &sizes,
               const Shape &strides) {
  Tensor out(x.dtype, sizes);
  Shape xs = stridesOf(x.shape);
  forEachIndex(sizes, [&](const Shape &idx, int64_t k) {
    int64_t lin = 0;
    for (size_t d = 0; d < idx.size(); ++d)
      lin += (offsets[d] + idx[d] * strides[d]) * xs[d];
    copyElement(out, k, x, lin);
  });
  return out;
}

bool evalSlice(const NodeImporter &n, Outputs &outs) {
  Shape offsets, sizes, strides;
  std::string error;
  if (!sliceParams(n, in(n, 0).shape, offsets, sizes, strides, error))
    return false;
  outs = {sliceOf(in(n, 0), offsets, sizes, strides)};
  return true;
}

bool evalSplit(const NodeImporter &n, Outputs &outs) {
  const Tensor &x = in(n, 0);
  int64_t axis;
  Shape sizes;
  std::string error;
  if (!splitSizes(n, x.shape, axis, sizes, error))
    return false;
  Shape offsets(x.shape.size(), 0), strides(x.shape.size(), 1);
  for (int64_t size : sizes) {
    Shape box = x.shape;
    box[axis] = size;
    outs.push_back(sliceOf(x, offsets, box, strides));
    offsets[axis] += size;
  }
  return true;
}

bool evalConcat(const NodeImporter &n, Outputs &outs) {
  std::vector<const Tensor *> parts;
  for (size_t i = 0; i < n.numInputs(); ++i)
    if (n.hasInput(i))
      parts.push_back(n.constInput(i));
  if (parts.empty())
    return false;
  Shape shape = parts[0]->shape;
  int64_t rank = shape.size(), axis = n.attrInt("axis", 0);
  if (axis < -rank || axis >= rank)
    return false;
  if (axis < 0)
    axis += rank;
  shape[axis] = 0;
  for (const Tensor *p : parts) {
    if (p->dtype != parts[0]->dtype || p->shape.size() != shape.size())
      return false;
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && p->shape[d] != shape[d])
        return false;
    shape[axis] += p->shape[axis];
  }
  Tensor out(parts[0]->dtype, shape);
  // Each row of the outer dims is the concatenation of the parts' rows.
  int64_t outer = numElements(Shape(shape.begin(), shape.begin() + axis));
  uint8_t *dst = out.data.data();
  for (int64_t o = 0; o < outer; ++o)
    for (const Tensor *p : parts) {
      size_t row = p->bytes() / outer;
      std::memcpy(dst, p->data.data() + o * row, row);
      dst += row;
    }
  outs = {std::move(out)};
  return true;
}

bool evalTranspose(const NodeImporter &n, Outputs &outs) {
  const Tensor &x = in(n, 0);
  int64_t rank = x.shape.size();
  std::vector<int64_t> perm;
  if (auto p = n.attrInts("perm"))
    perm = *p;
  else
    for (int64_t d = rank - 1; d >= 0; --d)
      perm.push_back(d);
  if (static_cast<int64_t>(perm.size()) != rank)
    return false;
  std::vector<bool> seen(rank, false);
  Shape shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || seen[p])
      return false;
    seen[p] = true;
    shape.push_back(x.shape[p]);
  }
  Tensor out(x.dtype, shape);
  Shape xs = stridesOf(x.shape);
  forEachIndex(shape, [&](const Shape &idx, int64_t k) {
    int64_t lin = 0;
    for (int64_t d = 0; d < rank; ++d)
      lin += idx[d] * xs[perm[d]];
    copyElement(out, k, x, lin);
  });
  outs = {std::move(out)};
  return true;
}

bool evalGather(const NodeImporter &n, Outputs &outs) {
  const Tensor &x = in(n, 0), &indices = in(n, 1);
  std::vector<int64_t> idx;
  if (!readInts(indices, idx))
    return false;
  int64_t rank = x.shape.size(), axis = n.attrInt("axis", 0);
  if (axis < -rank || axis >= rank)
    return false;
  if (axis < 0)
    axis += rank;
  int64_t dim = x.shape[axis];
  for (int64_t &i : idx) {
    if (i < -dim || i >= dim)
      return false;
    if (i < 0)
      i += dim;
  }
  Shape shape(x.shape.begin(), x.shape.begin() + axis);
  shape.insert(shape.end(), indices.shape.begin(), indices.shape.end());
  shape.insert(shape.end(), x.shape.begin() + axis + 1, x.shape.end());
  int64_t outer = numElements(Shape(x.shape.begin(), x.shape.begin() + axis));
  int64_t inner = numElements(Shape(x.shape.begin() + axis + 1, x.shape.end()));
  Tensor out(x.dtype, shape);
  int64_t k = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i : idx)
      for (int64_t r = 0; r < inner; ++r)
        copyElement(out, k++, x, (o * dim + i) * inner + r);
  outs = {std::move(out)};
  return true;
}

/// Broadcast copy of `x` to `shape` (Expand and ConstantOfShape-like fills).
Tensor broadcastTo(const Tensor &x, const Shape &shape) {
  Tensor out(x.dtype, shape);
  std::vector<int64_t> ix = broadcastIndices(x.shape, shape);
  for (size_t k = 0; k < ix.size(); ++k)
    copyElement(out, k, x, ix[k]);
  return out;
}

bool evalExpand(const NodeImporter &n, Outputs &outs) {
  std::vector<int64_t> shape;
  if (!readInts(in(n, 1), shape))
    return false;
  auto out = broadcastShapes(in(n, 0).shape, shape);
  if (!out || numElements(*out) > kMaxFoldElements)
    return false;
  outs = {broadcastTo(in(n, 0), *out)};
  return true;
}

bool evalTile(const NodeImporter &n, Outputs &outs) {
  const Tensor &x = in(n, 0);
  std::vector<int64_t> repeats;
  if (!readInts(in(n, 1), repeats) || repeats.size() != x.shape.size())
    return false;
  Shape shape;
  for (size_t d = 0; d < repeats.size(); ++d) {
    if (repeats[d] < 0)
      return false;
    shape.push_back(x.shape[d] * repeats[d]);
  }
  if (numElements(shape) > kMaxFoldElements)
    return false;
  Tensor out(x.dtype, shape);
  Shape xs = stridesOf(x.shape);
  forEachIndex(shape, [&](const Shape &idx, int64_t k) {
    int64_t lin = 0;
    for (size_t d = 0; d < idx.size(); ++d)
      lin += (idx[d] % x.shape[d]) * xs[d];
    copyElement(out, k, x, lin);
  });
  outs = {std::move(out)};
  return true;
}

bool evalConstantOfShape(const NodeImporter &n, Outputs &outs) {
  std::vector<int64_t> shape;
  if (!readInts(in(n, 0), shape))
    return false;
  for (int64_t d : shape)
    if (d < 0)
      return false;
  Tensor value(DType::F32, {1});
  if (const onnx::AttributeProto *a = n.attr("value")) {
    std::string error;
    if (!tensorFromProto(a->t(), "", value, error) || value.numel() != 1)
      return false;
  }
  Tensor out(value.dtype, shape);
  for (int64_t k = 0; k < out.numel(); ++k)
    copyElement(out, k, value, 0);
  outs = {std::move(out)};
  return true;
}

bool evalRange(const NodeImporter &n, Outputs &outs) {
  const Tensor &start = in(n, 0), &limit = in(n, 1), &delta = in(n, 2);
  DType t = start.dtype;
  if (limit.dtype != t || delta.dtype != t || !isNumeric(t) ||
      t == DType::Bool || start.numel() != 1 || limit.numel() != 1 ||
      delta.numel() != 1)
    return false;
  int64_t count;
  if (isFloat(t)) {
    // ceil((limit - start) / delta) in the element type, as ONNX defines it.
    double s = readF(start, 0), l = readF(limit, 0), d = readF(delta, 0);
    double q = t == DType::F32
                   ? static_cast<double>(static_cast<float>(
                         static_cast<float>(l - s) / static_cast<float>(d)))
                   : (l - s) / d;
    if (d == 0 || !std::isfinite(q))
      return false;
    count = std::max<int64_t>(0, static_cast<int64_t>(std::ceil(q)));
    if (count > kMaxFoldElements * 16)
      return false;
    Tensor out(t, {count});
    for (int64_t i = 0; i < count; ++i) {
      // start + i * delta, each operation rounded in the element type.
      Tensor step(t, {1});
      writeF(step, 0, static_cast<double>(i) * d);
      writeF(out, i, s + readF(step, 0));
    }
    outs = {std::move(out)};
    return true;
  }
  int64_t s = readI(start, 0), l = readI(limit, 0), d = readI(delta, 0);
  if (d == 0)
    return false;
  // Exact integer ceil of (l - s) / d.
  __int128 num = static_cast<__int128>(l) - s;
  __int128 q = num / d;
  if ((num % d != 0) && ((num > 0) == (d > 0)))
    ++q;
  count = q > 0 ? static_cast<int64_t>(q) : 0;
  if (count > kMaxFoldElements * 16)
    return false;
  Tensor out(t, {count});
  for (int64_t i = 0; i < count; ++i)
    writeI(out, i,
           static_cast<int64_t>(static_cast<uint64_t>(s) +
                                static_cast<uint64_t>(i) *
                                    static_cast<uint64_t>(d)));
  outs = {std::move(out)};
  return true;
}

const std::map<std::string, EvalFn> &evaluators() {
  static const std::map<std::string, EvalFn> table = {
      {"Abs", unaryFn(Unary::Abs)},
      {"Add", binaryFn(Binary::Add)},
      {"And", binaryFn(Binary::And)},
      {"Cast", evalCast},
      {"CastLike", evalCastLike},
      {"Ceil", unaryFn(Unary::Ceil)},
      {"Concat", evalConcat},
      {"ConstantOfShape", evalConstantOfShape},
      {"Div", binaryFn(Binary::Div)},
      {"Equal", binaryFn(Binary::Equal)},
      {"Expand", evalExpand},
      {"Flatten", evalFlatten},
      {"Floor", unaryFn(Unary::Floor)},
      {"Gather", evalGather},
      {"Greater", binaryFn(Binary::Greater)},
      {"GreaterOrEqual", binaryFn(Binary::GreaterOrEqual)},
      {"Identity", evalIdentity},
      {"Less", binaryFn(Binary::Less)},
      {"LessOrEqual", binaryFn(Binary::LessOrEqual)},
      {"Max", variadicFn(Binary::Max)},
      {"Min", variadicFn(Binary::Min)},
      {"Mod", evalMod},
      {"Mul", binaryFn(Binary::Mul)},
      {"Neg", unaryFn(Unary::Neg)},
      {"Not", unaryFn(Unary::Not)},
      {"Or", binaryFn(Binary::Or)},
      {"Range", evalRange},
      {"Reciprocal", unaryFn(Unary::Reciprocal)},
      {"ReduceMax", reduceFn(Binary::Max, false)},
      {"ReduceMin", reduceFn(Binary::Min, false)},
      {"ReduceProd", reduceFn(Binary::Mul, true)},
      {"ReduceSum", reduceFn(Binary::Add, false)},
      {"Relu", unaryFn(Unary::Relu)},
      {"Reshape", evalReshape},
      {"Shape", evalShape},
      {"Sign", unaryFn(Unary::Sign)},
      {"Size", evalSize},
      {"Slice", evalSlice},
      {"Split", evalSplit},
      {"Sqrt", unaryFn(Unary::Sqrt)},
      {"Squeeze", evalSqueeze},
      {"Sub", binaryFn(Binary::Sub)},
      {"Sum", variadicFn(Binary::Add)},
      {"Tile", evalTile},
      {"Transpose", evalTranspose},
      {"Unsqueeze", evalUnsqueeze},
      {"Where", evalWhere},
      {"Xor", binaryFn(Binary::Xor)},
  };
  return table;
}

/// Ops whose result can only be a constant: no size cap.
bool alwaysConstant(const std::string &op) {
  return op == "ConstantOfShape" || op == "Range" || op == "Shape" ||
         op == "Size";
}

/// An elements attribute for `t`, a splat when every element is equal.
DenseElementsAttr elementsAttr(MLIRContext *ctx, const Tensor &t) {
  size_t size = dtypeSize(t.dtype);
  bool splat = t.numel() > 1;
  for (int64_t k = 1; splat && k < t.numel(); ++k)
    splat = std::memcmp(t.data.data(), t.data.data() + k * size, size) == 0;
  if (!splat)
    return toElementsAttr(ctx, t);
  Tensor one(t.dtype, {});
  copyElement(one, 0, t, 0);
  DenseElementsAttr scalar = toElementsAttr(ctx, one);
  if (!scalar)
    return nullptr;
  return DenseElementsAttr::get(
      RankedTensorType::get(t.shape, scalar.getElementType()),
      scalar.getSplatValue<Attribute>());
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

bool readInts(const Tensor &t, std::vector<int64_t> &out) {
  if (!isInteger(t.dtype) || t.dtype == DType::Bool)
    return false;
  out.resize(t.numel());
  for (int64_t k = 0; k < t.numel(); ++k)
    out[k] = readI(t, k);
  return true;
}

double elementAsDouble(const Tensor &t, int64_t i) { return readF(t, i); }

bool eyeTensor(DType dtype, const std::vector<int64_t> &shape, int64_t k,
               Tensor &out) {
  if (shape.size() != 2 ||
      (!isNumeric(dtype) && dtype != DType::F16 && dtype != DType::BF16))
    return false;
  out = Tensor(dtype, shape);
  for (int64_t r = 0; r < shape[0]; ++r) {
    int64_t c = r + k;
    if (c < 0 || c >= shape[1])
      continue;
    if (dtype == DType::F16)
      out.as<uint16_t>()[r * shape[1] + c] = 0x3C00; // 1.0 in binary16
    else if (dtype == DType::BF16)
      out.as<uint16_t>()[r * shape[1] + c] = 0x3F80; // 1.0 in bfloat16
    else
      writeI(out, r * shape[1] + c, 1);
  }
  return true;
}

Tensor shapeTensor(const std::vector<int64_t> &shape, int64_t start,
                   int64_t end) {
  int64_t rank = shape.size();
  auto clampAxis = [rank](int64_t a) {
    if (a < 0)
      a = std::max<int64_t>(a, -rank) + rank;
    return std::min(a, rank);
  };
  start = clampAxis(start);
  end = clampAxis(end);
  int64_t count = std::max<int64_t>(0, end - start);
  Tensor t(DType::I64, {count});
  for (int64_t i = 0; i < count; ++i)
    t.as<int64_t>()[i] = shape[start + i];
  return t;
}

bool isConstantFoldable(const std::string &opType) {
  return evaluators().count(opType) != 0;
}

bool setConstantOutput(NodeImporter &n, size_t i, Tensor t) {
  DenseElementsAttr attr = elementsAttr(n.b.getContext(), t);
  if (!attr)
    return n.error(Twine("constant of type ") + dtypeName(t.dtype) +
                   " is not supported");
  Value v = n.b.create<ConstantOp>(n.loc, attr);
  n.setOutput(i, v);
  n.setConstOutput(i, std::move(t));
  return true;
}

bool foldConstantNode(NodeImporter &n) {
  const std::string &op = n.node.op_type();
  auto it = evaluators().find(op);
  if (it == evaluators().end() || n.numInputs() == 0)
    return false;
  for (size_t i = 0; i < n.numInputs(); ++i)
    if (n.hasInput(i) && !n.constInput(i))
      return false;
  // Optional inputs left out before the end would shift the evaluators'
  // positional reads; only Slice, Split, Squeeze and the reductions have
  // optional inputs, all read through intsOperand, which checks hasInput.
  Outputs outs;
  if (!it->second(n, outs) || outs.size() < n.results().size())
    return false;
  MLIRContext *ctx = n.b.getContext();
  for (size_t i = 0; i < n.results().size(); ++i) {
    if (!alwaysConstant(op) && outs[i].numel() > kMaxFoldElements)
      return false;
    if (!toElementType(ctx, static_cast<int32_t>(outs[i].dtype)))
      return false;
  }
  for (size_t i = 0; i < n.results().size(); ++i)
    if (!setConstantOutput(n, i, std::move(outs[i])))
      return false;
  return true;
}

} // namespace lathe
