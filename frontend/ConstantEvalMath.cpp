// Elementwise evaluators of the compile-time evaluator. Integer arithmetic
// wraps like the compiled code's; float arithmetic is done in double and
// rounded once, which for +, -, *, / and sqrt gives the correctly rounded
// float result, as the compiled code does.
#include "frontend/ConstantEvalInternal.h"
#include "frontend/OnnxTensor.h"
#include "frontend/ShapeOperands.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace lathe::eval {

namespace {

bool isComparison(Binary op) {
  return op == Binary::Equal || op == Binary::Less || op == Binary::Greater ||
         op == Binary::LessOrEqual || op == Binary::GreaterOrEqual;
}
bool isLogical(Binary op) {
  return op == Binary::And || op == Binary::Or || op == Binary::Xor;
}

/// A comparison (isComparison(op)) of two values of either kind; a NaN
/// compares false, as arith.cmpf's ordered predicates do.
template <typename T> bool compareValues(Binary op, T x, T y) {
  switch (op) {
  case Binary::Equal:
    return x == y;
  case Binary::Less:
    return x < y;
  case Binary::Greater:
    return x > y;
  case Binary::LessOrEqual:
    return x <= y;
  default:
    return x >= y;
  }
}

} // namespace

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
      if (compare) {
        writeI(out, k, compareValues(op, x, y));
        continue;
      }
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
      default:
        return false;
      }
      continue;
    }
    int64_t x = readI(a, ia[k]), y = readI(b, ib[k]);
    if (compare) {
      writeI(out, k, compareValues(op, x, y));
      continue;
    }
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
    case Binary::And:
      writeI(out, k, x && y);
      break;
    case Binary::Or:
      writeI(out, k, x || y);
      break;
    case Binary::Xor:
      writeI(out, k, (x != 0) != (y != 0));
      break;
    default: // comparisons are written above
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

namespace {

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

} // namespace

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

} // namespace lathe::eval
