// The compile-time evaluator: one host function per ONNX op, over
// lathe::Tensor. Integer arithmetic wraps like the compiled code's; float
// arithmetic is done in double and rounded once, which for +, -, *, / and
// sqrt gives the correctly rounded float result, as the compiled code does.
#include "frontend/ConstantEval.h"

#include "frontend/NodeImporter.h"
#include "frontend/OnnxTensor.h"
#include "frontend/ShapeOperands.h"
#include "ir/LatheOps.h"
#include "ir/ShapeInference.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>

using namespace mlir;

namespace lathe {

//===----------------------------------------------------------------------===//
// Element access
//===----------------------------------------------------------------------===//

namespace {

/// Folding is for shape arithmetic; results past this size stay in the
/// compiled code (ops that can only be constants are exempt).
constexpr int64_t kMaxFoldElements = 1 << 20;

bool isFloat(DType t) { return t == DType::F32 || t == DType::F64; }
bool isInteger(DType t) {
  switch (t) {
  case DType::I8:
  case DType::I16:
  case DType::I32:
  case DType::I64:
  case DType::U8:
  case DType::U16:
  case DType::U32:
  case DType::U64:
  case DType::Bool:
    return true;
  default:
    return false;
  }
}
/// Dtypes whose values the arithmetic evaluators read and write.
bool isNumeric(DType t) { return isFloat(t) || isInteger(t); }

int64_t readI(const Tensor &t, int64_t i);

/// Whether every value of `t` is its int64 reading: uint64 values past
/// INT64_MAX are not, and only wrapping arithmetic (+, -, *, ==) may use
/// them.
bool fitsInt64(const Tensor &t) {
  if (t.dtype != DType::U64)
    return true;
  for (int64_t k = 0; k < t.numel(); ++k)
    if (readI(t, k) < 0)
      return false;
  return true;
}

int64_t readI(const Tensor &t, int64_t i) {
  switch (t.dtype) {
  case DType::I8:
    return t.as<int8_t>()[i];
  case DType::I16:
    return t.as<int16_t>()[i];
  case DType::I32:
    return t.as<int32_t>()[i];
  case DType::I64:
    return t.as<int64_t>()[i];
  case DType::U8:
    return t.as<uint8_t>()[i];
  case DType::U16:
    return t.as<uint16_t>()[i];
  case DType::U32:
    return t.as<uint32_t>()[i];
  case DType::U64: // values past INT64_MAX wrap; see fitsInt64
    return static_cast<int64_t>(t.as<uint64_t>()[i]);
  case DType::Bool:
    return t.as<uint8_t>()[i] != 0;
  case DType::F32:
    return static_cast<int64_t>(t.as<float>()[i]);
  case DType::F64:
    return static_cast<int64_t>(t.as<double>()[i]);
  default:
    return 0;
  }
}

double readF(const Tensor &t, int64_t i) {
  switch (t.dtype) {
  case DType::F32:
    return t.as<float>()[i];
  case DType::F64:
    return t.as<double>()[i];
  default:
    return static_cast<double>(readI(t, i));
  }
}

/// Stores an integer: wraps to the width (as arith.trunci), converts to a
/// float type with one rounding (as arith.sitofp).
void writeI(Tensor &t, int64_t i, int64_t v) {
  uint64_t u = static_cast<uint64_t>(v);
  switch (t.dtype) {
  case DType::I8:
    t.as<int8_t>()[i] = static_cast<int8_t>(u);
    break;
  case DType::I16:
    t.as<int16_t>()[i] = static_cast<int16_t>(u);
    break;
  case DType::I32:
    t.as<int32_t>()[i] = static_cast<int32_t>(u);
    break;
  case DType::I64:
    t.as<int64_t>()[i] = v;
    break;
  case DType::U8:
    t.as<uint8_t>()[i] = static_cast<uint8_t>(u);
    break;
  case DType::U16:
    t.as<uint16_t>()[i] = static_cast<uint16_t>(u);
    break;
  case DType::U32:
    t.as<uint32_t>()[i] = static_cast<uint32_t>(u);
    break;
  case DType::U64:
    t.as<uint64_t>()[i] = u;
    break;
  case DType::Bool:
    t.as<uint8_t>()[i] = v != 0;
    break;
  case DType::F32:
    t.as<float>()[i] = static_cast<float>(v);
    break;
  case DType::F64:
    t.as<double>()[i] = static_cast<double>(v);
    break;
  default:
    break;
  }
}

/// Stores a float into a float tensor, rounding once.
void writeF(Tensor &t, int64_t i, double v) {
  if (t.dtype == DType::F32)
    t.as<float>()[i] = static_cast<float>(v);
  else if (t.dtype == DType::F64)
    t.as<double>()[i] = v;
  else
    writeI(t, i, static_cast<int64_t>(v));
}

void copyElement(Tensor &dst, int64_t di, const Tensor &src, int64_t si) {
  size_t size = dtypeSize(src.dtype);
  std::memcpy(dst.data.data() + di * size, src.data.data() + si * size, size);
}

/// Row-major strides of `shape`.
Shape stridesOf(const Shape &shape) {
  Shape s(shape.size(), 1);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
    s[d] = s[d + 1] * shape[d + 1];
  return s;
}

/// Calls f(multi-index, linear index) for every element of `shape`.
void forEachIndex(const Shape &shape,
                  const std::function<void(const Shape &, int64_t)> &f) {
  int64_t n = numElements(shape);
  Shape idx(shape.size(), 0);
  for (int64_t k = 0; k < n; ++k) {
    f(idx, k);
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
      if (++idx[d] < shape[d])
        break;
      idx[d] = 0;
    }
  }
}

/// For every element of `out`, the linear index of the element of a tensor
/// of shape `in` that numpy broadcasting reads.
std::vector<int64_t> broadcastIndices(const Shape &in, const Shape &out) {
  Shape strides(out.size(), 0), inStrides = stridesOf(in);
  size_t offset = out.size() - in.size();
  for (size_t d = 0; d < in.size(); ++d)
    strides[d + offset] = in[d] == 1 ? 0 : inStrides[d];
  std::vector<int64_t> result(numElements(out));
  forEachIndex(out, [&](const Shape &idx, int64_t k) {
    int64_t lin = 0;
    for (size_t d = 0; d < idx.size(); ++d)
      lin += idx[d] * strides[d];
    result[k] = lin;
  });
  return result;
}

using Outputs = std::vector<Tensor>;
using EvalFn = std::function<bool(const NodeImporter &, Outputs &)>;

const Tensor &in(const NodeImporter &n, size_t i) { return *n.constInput(i); }

/// A copy of `src` with another shape (same elements, same order).
Tensor reshaped(const Tensor &src, Shape shape) {
  Tensor t = src;
  t.shape = std::move(shape);
  return t;
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

enum class Binary {
  Add,
  Sub,
  Mul,
  Div,
  Min,
  Max,
  Equal,
  Less,
  Greater,
  LessOrEqual,
  GreaterOrEqual,
  And,
  Or,
  Xor
};

bool isComparison(Binary op) {
  return op == Binary::Equal || op == Binary::Less || op == Binary::Greater ||
         op == Binary::LessOrEqual || op == Binary::GreaterOrEqual;
}
bool isLogical(Binary op) {
  return op == Binary::And || op == Binary::Or || op == Binary::Xor;
}

/// a op b for two tensors; false when the compiled code would not give a
/// defined result (integer division by zero) or the dtypes do not fit.
bool binary(Binary op, const Tensor &a, const Tensor &b, Tensor &out) {
  if (a.dtype != b.dtype || !isNumeric(a.dtype))
    return false;
  if (isLogical(op) ? a.dtype != DType::Bool
                    : !isComparison(op) && a.dtype == DType::Bool)
    return false;
  auto shape = broadcastShapes(a.shape, b.shape);
  if (!shape)
    return false;
  bool wrapping = op == Binary::Add || op == Binary::Sub || op == Binary::Mul ||
                  op == Binary::Equal;
  if (!wrapping && (!fitsInt64(a) || !fitsInt64(b)))
    return false;
  bool compare = isComparison(op);
  out = Tensor(compare ? DType::Bool : a.dtype, *shape);
  std::vector<int64_t> ia = broadcastIndices(a.shape, *shape),
                       ib = broadcastIndices(b.shape, *shape);
  bool fp = isFloat(a.dtype);
  for (size_t k = 0; k < ia.size(); ++k) {
    if (fp) {
      double x = readF(a, ia[k]), y = readF(b, ib[k]);
      bool nan = std::isnan(x) || std::isnan(y);
      double nanValue = std::numeric_limits<double>::quiet_NaN();
      switch (op) {
      case Binary::Add:
        writeF(out, k, x + y);
        break;
      case Binary::Sub:
        writeF(out, k, x - y);
        break;
      case Binary::Mul:
        writeF(out, k, x * y);
        break;
      case Binary::Div:
        writeF(out, k, x / y);
        break;
      case Binary::Min:
        writeF(out, k, nan ? nanValue : std::min(x, y));
        break;
      case Binary::Max:
        writeF(out, k, nan ? nanValue : std::max(x, y));
        break;
      case Binary::Equal:
        writeI(out, k, x == y);
        break;
      case Binary::Less:
        writeI(out, k, x < y);
        break;
      case Binary::Greater:
        writeI(out, k, x > y);
        break;
      case Binary::LessOrEqual:
        writeI(out, k, x <= y);
        break;
      case Binary::GreaterOrEqual:
        writeI(out, k, x >= y);
        break;
      default:
        return false;
      }
      continue;
    }
    int64_t x = readI(a, ia[k]), y = readI(b, ib[k]);
    uint64_t ux = static_cast<uint64_t>(x), uy = static_cast<uint64_t>(y);
    switch (op) {
    case Binary::Add:
      writeI(out, k, static_cast<int64_t>(ux + uy));
      break;
    case Binary::Sub:
      writeI(out, k, static_cast<int64_t>(ux - uy));
      break;
    case Binary::Mul:
      writeI(out, k, static_cast<int64_t>(ux * uy));
      break;
    case Binary::Div:
      // Division by zero and INT_MIN / -1 trap or are undefined at run time.
      if (y == 0 || (y == -1 && x == std::numeric_limits<int64_t>::min()) ||
          (y == -1 && a.dtype == DType::I32 &&
           x == std::numeric_limits<int32_t>::min()))
        return false;
      writeI(out, k, x / y);
      break;
    case Binary::Min:
      writeI(out, k, std::min(x, y));
      break;
    case Binary::Max:
      writeI(out, k, std::max(x, y));
      break;
    case Binary::Equal:
      writeI(out, k, x == y);
      break;
    case Binary::Less:
      writeI(out, k, x < y);
      break;
    case Binary::Greater:
      writeI(out, k, x > y);
      break;
    case Binary::LessOrEqual:
      writeI(out, k, x <= y);
      break;
    case Binary::GreaterOrEqual:
      writeI(out, k, x >= y);
      break;
    case Binary::And:
      writeI(out, k, x && y);
      break;
    case Binary::Or:
      writeI(out, k, x || y);
      break;
    case Binary::Xor:
      writeI(out, k, (x != 0) != (y != 0));
      break;
    }
  }
  return true;
}

EvalFn binaryFn(Binary op) {
  return [op](const NodeImporter &n, Outputs &outs) {
    outs.resize(1);
    return n.numInputs() == 2 && binary(op, in(n, 0), in(n, 1), outs[0]);
  };
}

/// Min, Max and Sum take any number of inputs from opset 8 on.
EvalFn variadicFn(Binary op) {
  return [op](const NodeImporter &n, Outputs &outs) {
    if (n.numInputs() < 1)
      return false;
    Tensor acc = in(n, 0);
    for (size_t i = 1; i < n.numInputs(); ++i) {
      Tensor next;
      if (!binary(op, acc, in(n, i), next))
        return false;
      acc = std::move(next);
    }
    outs = {std::move(acc)};
    return isNumeric(outs[0].dtype);
  };
}

enum class Unary { Neg, Abs, Not, Floor, Ceil, Sqrt, Reciprocal, Relu, Sign };

EvalFn unaryFn(Unary op) {
  return [op](const NodeImporter &n, Outputs &outs) {
    const Tensor &x = in(n, 0);
    if (!isNumeric(x.dtype) || !fitsInt64(x) ||
        (op == Unary::Not) != (x.dtype == DType::Bool))
      return false;
    bool fp = isFloat(x.dtype);
    bool floatOnly = op == Unary::Floor || op == Unary::Ceil ||
                     op == Unary::Sqrt || op == Unary::Reciprocal;
    if (floatOnly && !fp)
      return false;
    Tensor out(x.dtype, x.shape);
    for (int64_t k = 0; k < x.numel(); ++k) {
      if (fp) {
        double v = readF(x, k);
        switch (op) {
        case Unary::Neg:
          writeF(out, k, -v);
          break;
        case Unary::Abs:
          writeF(out, k, std::fabs(v));
          break;
        case Unary::Floor:
          writeF(out, k, std::floor(v));
          break;
        case Unary::Ceil:
          writeF(out, k, std::ceil(v));
          break;
        case Unary::Sqrt:
          writeF(out, k, std::sqrt(v));
          break;
        case Unary::Reciprocal:
          writeF(out, k, 1.0 / v);
          break;
        case Unary::Relu:
          writeF(out, k, v > 0 ? v : (std::isnan(v) ? v : 0.0));
          break;
        case Unary::Sign:
          writeF(out, k, v > 0 ? 1.0 : (v < 0 ? -1.0 : v));
          break;
        default:
          return false;
        }
        continue;
      }
      int64_t v = readI(x, k);
      switch (op) {
      case Unary::Neg:
        writeI(out, k, static_cast<int64_t>(0 - static_cast<uint64_t>(v)));
        break;
      case Unary::Abs:
        writeI(out, k,
               v < 0 ? static_cast<int64_t>(0 - static_cast<uint64_t>(v)) : v);
        break;
      case Unary::Not:
        writeI(out, k, !v);
        break;
      case Unary::Relu:
        writeI(out, k, std::max<int64_t>(v, 0));
        break;
      case Unary::Sign:
        writeI(out, k, (v > 0) - (v < 0));
        break;
      default:
        return false;
      }
    }
    outs = {std::move(out)};
    return true;
  };
}

/// Converts `x` to dtype `to` as the compiled Cast does; declines float
/// values that do not fit the integer type (poison at run time).
bool castTo(const Tensor &x, DType to, Tensor &out) {
  if (!isNumeric(x.dtype) || !isNumeric(to) || !fitsInt64(x))
    return false;
  out = Tensor(to, x.shape);
  for (int64_t k = 0; k < x.numel(); ++k) {
    if (isFloat(x.dtype)) {
      double v = readF(x, k);
      if (isFloat(to)) {
        writeF(out, k, v);
      } else if (to == DType::Bool) {
        writeI(out, k, v != 0.0 || std::isnan(v));
      } else {
        // Truncation toward zero must land inside the target's range.
        double t = std::trunc(v);
        int64_t lo, hi;
        switch (to) {
        case DType::I8:
          lo = INT8_MIN;
          hi = INT8_MAX;
          break;
        case DType::I16:
          lo = INT16_MIN;
          hi = INT16_MAX;
          break;
        case DType::I32:
          lo = INT32_MIN;
          hi = INT32_MAX;
          break;
        case DType::U8:
          lo = 0;
          hi = UINT8_MAX;
          break;
        case DType::U16:
          lo = 0;
          hi = UINT16_MAX;
          break;
        case DType::U32:
          lo = 0;
          hi = UINT32_MAX;
          break;
        case DType::U64: // past INT64_MAX is declined: not needed for shapes
          lo = 0;
          hi = INT64_MAX;
          break;
        default:
          lo = INT64_MIN;
          hi = INT64_MAX;
          break;
        }
        if (!(t >= static_cast<double>(lo) &&
              t < static_cast<double>(hi) + 1.0))
          return false;
        writeI(out, k, static_cast<int64_t>(t));
      }
    } else {
      writeI(out, k, readI(x, k));
    }
  }
  return true;
}

bool evalCast(const NodeImporter &n, Outputs &outs) {
  int64_t to = n.attrInt("to", 0);
  if (!isSupportedDType(static_cast<int32_t>(to)))
    return false;
  outs.resize(1);
  return castTo(in(n, 0), static_cast<DType>(to), outs[0]);
}

bool evalCastLike(const NodeImporter &n, Outputs &outs) {
  outs.resize(1);
  return castTo(in(n, 0), in(n, 1).dtype, outs[0]);
}

/// ONNX Mod: with fmod=0 (integers only) the result takes the divisor's
/// sign, as Python's %; with fmod=1 the dividend's, as C's fmod.
bool evalMod(const NodeImporter &n, Outputs &outs) {
  const Tensor &a = in(n, 0), &b = in(n, 1);
  bool fmod = n.attrInt("fmod", 0) != 0;
  if (a.dtype != b.dtype || !isNumeric(a.dtype) || a.dtype == DType::Bool ||
      !fitsInt64(a) || !fitsInt64(b) || (isFloat(a.dtype) && !fmod))
    return false;
  auto shape = broadcastShapes(a.shape, b.shape);
  if (!shape)
    return false;
  Tensor out(a.dtype, *shape);
  std::vector<int64_t> ia = broadcastIndices(a.shape, *shape),
                       ib = broadcastIndices(b.shape, *shape);
  for (size_t k = 0; k < ia.size(); ++k) {
    if (isFloat(a.dtype)) {
      writeF(out, k, std::fmod(readF(a, ia[k]), readF(b, ib[k])));
      continue;
    }
    int64_t x = readI(a, ia[k]), y = readI(b, ib[k]);
    if (y == 0 || (y == -1 && x == std::numeric_limits<int64_t>::min()))
      return false;
    int64_t r = x % y;
    if (!fmod && r != 0 && ((r < 0) != (y < 0)))
      r += y;
    writeI(out, k, r);
  }
  outs = {std::move(out)};
  return true;
}

bool evalWhere(const NodeImporter &n, Outputs &outs) {
  const Tensor &c = in(n, 0), &x = in(n, 1), &y = in(n, 2);
  if (c.dtype != DType::Bool || x.dtype != y.dtype)
    return false;
  auto s1 = broadcastShapes(c.shape, x.shape);
  auto shape = s1 ? broadcastShapes(*s1, y.shape) : std::nullopt;
  if (!shape)
    return false;
  Tensor out(x.dtype, *shape);
  auto ic = broadcastIndices(c.shape, *shape),
       ix = broadcastIndices(x.shape, *shape),
       iy = broadcastIndices(y.shape, *shape);
  for (size_t k = 0; k < ic.size(); ++k)
    copyElement(out, k, readI(c, ic[k]) ? x : y,
                readI(c, ic[k]) ? ix[k] : iy[k]);
  outs = {std::move(out)};
  return true;
}

bool evalIdentity(const NodeImporter &n, Outputs &outs) {
  outs = {in(n, 0)};
  return true;
}

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

/// ReduceSum/Prod/Min/Max in index order (as the compiled loops accumulate).
EvalFn reduceFn(Binary op, bool product) {
  return [op, product](const NodeImporter &n, Outputs &outs) {
    const Tensor &x = in(n, 0);
    if (!isNumeric(x.dtype) || x.dtype == DType::Bool || !fitsInt64(x))
      return false;
    int64_t rank = x.shape.size();
    std::optional<std::vector<int64_t>> axes;
    std::string error;
    // ReduceSum takes axes as an input from opset 13 (the others from 18).
    int64_t inputFrom = n.node.op_type() == "ReduceSum" ? 13 : 18;
    if (!intsOperand(n, 1, "axes", inputFrom, axes, error))
      return false;
    bool keep = n.attrInt("keepdims", 1) != 0;
    std::vector<bool> reduced(rank, false);
    if (!axes || axes->empty()) {
      if (n.attrInt("noop_with_empty_axes", 0)) {
        outs = {x};
        return true;
      }
      reduced.assign(rank, true);
    } else {
      for (int64_t a : *axes) {
        if (a < -rank || a >= rank)
          return false;
        reduced[a < 0 ? a + rank : a] = true;
      }
    }
    Shape kept, outShape;
    for (int64_t d = 0; d < rank; ++d) {
      kept.push_back(reduced[d] ? 1 : x.shape[d]);
      if (!reduced[d] || keep)
        outShape.push_back(kept.back());
    }
    Tensor acc(x.dtype, kept);
    // Sums and products start from their identity, as the compiled
    // reductions do; min and max from the first element.
    bool fromIdentity = op == Binary::Add || product;
    std::vector<bool> started(acc.numel(), fromIdentity);
    for (int64_t o = 0; fromIdentity && o < acc.numel(); ++o)
      writeI(acc, o, product ? 1 : 0);
    Shape ks = stridesOf(kept);
    forEachIndex(x.shape, [&](const Shape &idx, int64_t k) {
      int64_t o = 0;
      for (int64_t d = 0; d < rank; ++d)
        o += (reduced[d] ? 0 : idx[d]) * ks[d];
      Tensor one(x.dtype, {}), cur(x.dtype, {}), next;
      copyElement(one, 0, x, k);
      if (!started[o]) {
        copyElement(acc, o, one, 0);
        started[o] = true;
        return;
      }
      copyElement(cur, 0, acc, o);
      if (binary(product ? Binary::Mul : op, cur, one, next))
        copyElement(acc, o, next, 0);
    });
    // Min and max of nothing have no value to give.
    for (int64_t o = 0; o < acc.numel(); ++o)
      if (!started[o])
        return false;
    outs = {reshaped(acc, outShape)};
    return true;
  };
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
