// Vector-Jacobian products of the resampling ops (DifferentiableOpInterface,
// ir/LatheAutodiff.td): Resize, MaxUnpool and GridSample. Resize's sizes,
// scales and roi are attributes and MaxUnpool's indices integers, so only
// their data input gets a gradient; GridSample's grid gets one too.
#include "ir/GridSampleRule.h"
#include "ir/ResizeTaps.h"
#include "ir/VJPUtils.h"

#include <cmath>

using namespace mlir;

namespace lathe {

using vjp::scalar;
using vjp::typeOf;

namespace {

/// The interpolation matrix W [out, in] of one dim: output coordinate o
/// reads sum_i W[o, i] * x[i] along the dim. A row of zeros marks a
/// tf_crop_and_resize sample outside the roi (it yields extrapolation_value,
/// a constant). Built from the taps the forward lowering uses
/// (ir/ResizeTaps.h), so the gradient is the transpose of exactly the
/// forward's interpolation.
std::vector<double> dimMatrix(ResizeOp op, int64_t dim, int64_t in,
                              int64_t out) {
  std::vector<double> m(out * in, 0.0);
  std::vector<ResizeTaps> taps = resizeTaps(op, dim, in, out);
  for (int64_t x = 0; x < out; ++x) {
    if (taps[x].outside)
      continue;
    for (auto [i, w] : taps[x].taps)
      m[x * in + i] += w;
  }
  return m;
}

} // namespace

LogicalResult ResizeOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                 SmallVectorImpl<Value> &operandGrads) {
  // Every mode is separable: the sampling positions and weights of a dim
  // depend on that dim's output coordinate only (nearest picks one source
  // per dim, linear and cubic multiply 1-D weights, a sample outside the
  // roi along any dim is the constant extrapolation_value). So y = x
  // contracted with one matrix W_d [out_d, in_d] per dim, a linear map
  // whose transpose contracts g with every W_d over the output coordinate:
  // g_in[.., i, ..] = sum_o g[.., o, ..] W_d[o, i], dim by dim, each an
  // einsum. Zero rows make the extrapolated samples pass no gradient.
  // Nearest mode is piecewise constant in the positions, not in x: its
  // gradient is exact (x never moves the positions).
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  RankedTensorType inType = typeOf(getInput());
  Type et = inType.getElementType();
  int64_t rank = inType.getRank();
  ArrayRef<int64_t> outShape = typeOf(getOutput()).getShape();
  for (int64_t d = 0; d < rank; ++d) {
    int64_t in = inType.getDimSize(d), out = outShape[d];
    std::vector<double> m = dimMatrix(*this, d, in, out);
    bool identity = in == out;
    for (int64_t o = 0; identity && o < out; ++o)
      for (int64_t i = 0; identity && i < in; ++i)
        identity = m[o * in + i] == (o == i ? 1.0 : 0.0);
    if (identity)
      continue;
    SmallVector<Attribute> w;
    w.reserve(m.size());
    for (double v : m)
      w.push_back(b.getFloatAttr(et, v));
    Value matrix = b.create<ConstantOp>(
        loc, DenseElementsAttr::get(RankedTensorType::get({out, in}, et), w));
    // Labels 0..rank-1 name g's dims; `rank` the source coordinate of d.
    SmallVector<int64_t> labels, result;
    for (int64_t e = 0; e < rank; ++e) {
      labels.push_back(e);
      result.push_back(e == d ? rank : e);
    }
    labels.append({d, rank});
    g = b.create<EinsumOp>(loc, ValueRange{g, matrix}, labels, result);
  }
  operandGrads[0] = g;
  return success();
}

LogicalResult MaxUnpoolOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  // Input element e lands at flat position indices[e] of the index_shape
  // block at the origin of the output, and nothing else depends on it: its
  // gradient is g at that position, a gather from the block flattened.
  // Duplicate indices (one position written twice, the last write wins in
  // the forward) give every writer the position's gradient, as PyTorch's
  // max_unpool does.
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  ArrayRef<int64_t> block = getIndexShape();
  int64_t rank = block.size();
  if (ArrayRef<int64_t>(typeOf(g).getShape()) != block) {
    SmallVector<int64_t> offsets(rank, 0), strides(rank, 1);
    g = b.create<SliceOp>(loc, g, offsets, block, strides);
  }
  int64_t numel = 1;
  for (int64_t n : block)
    numel *= n;
  g = vjp::reshape(b, loc, g, {numel});
  operandGrads[0] = b.create<GatherOp>(loc, g, getIndices(), 0);
  return success();
}

namespace {

/// Lathe tensor arithmetic on dual numbers: the arithmetic `M` of the
/// GridSample sampling rule (ir/GridSampleRule.h) for the gradient. A value
/// carries its derivative with respect to one grid coordinate (null: zero),
/// so running the rule on (coordinate, 1) gives the tap positions and
/// weights and the weights' derivatives, through unnormalisation and
/// padding. Operands broadcast (constants are 0-d).
struct DualMath {
  struct V {
    Value v, d;
  };
  using B = Value;
  OpBuilder &b;
  Location loc;
  Type et;

  Value k(double x) { return scalar(b, loc, et, x); }
  Value plus(Value x, Value y) {
    if (!x || !y)
      return x ? x : y;
    return b.create<AddOp>(loc, x, y);
  }
  Value times(Value x, Value y) {
    if (!x || !y)
      return {};
    return b.create<MulOp>(loc, x, y);
  }

  V c(double x) { return {k(x), {}}; }
  V add(V x, V y) { return {b.create<AddOp>(loc, x.v, y.v), plus(x.d, y.d)}; }
  V sub(V x, V y) {
    Value d = x.d;
    if (y.d)
      d = x.d ? b.create<SubOp>(loc, x.d, y.d).getResult()
              : b.create<NegOp>(loc, y.d).getResult();
    return {b.create<SubOp>(loc, x.v, y.v), d};
  }
  V mul(V x, V y) {
    return {b.create<MulOp>(loc, x.v, y.v),
            plus(times(x.d, y.v), times(x.v, y.d))};
  }
  V div(V x, V y) {
    Value q = b.create<DivOp>(loc, x.v, y.v);
    // (x / y)' = (x' - q y') / y
    Value num = x.d;
    if (y.d) {
      Value qy = b.create<MulOp>(loc, q, y.d);
      num = x.d ? b.create<SubOp>(loc, x.d, qy).getResult()
                : b.create<NegOp>(loc, qy).getResult();
    }
    return {q, num ? b.create<DivOp>(loc, num, y.v).getResult() : Value()};
  }
  // Piecewise constant: derivative 0 (the kinks are where the gradient is
  // not defined).
  V floor(V x) { return {b.create<FloorOp>(loc, x.v), {}}; }
  V roundEven(V x) { return {b.create<RoundOp>(loc, x.v), {}}; }
  // Reflection's sign flips come from here and from select.
  V abs(V x) {
    return {b.create<AbsOp>(loc, x.v),
            times(x.d, b.create<SignOp>(loc, x.v).getResult())};
  }
  V clamp(V x, double lo, double hi) {
    Value v = b.create<MaxOp>(loc, x.v, k(lo));
    v = b.create<MinOp>(loc, v, k(hi));
    if (!x.d)
      return {v, {}};
    // PyTorch's clip_coordinates_set_grad: the bounds themselves count as
    // outside (gradient 0 there too).
    Value inside = b.create<AndOp>(loc, b.create<LessOp>(loc, k(lo), x.v),
                                   b.create<LessOp>(loc, x.v, k(hi)));
    return {v, b.create<MulOp>(loc, x.d, vjp::maskToFloat(b, loc, inside, et))};
  }
  B equal(V x, V y) { return b.create<EqualOp>(loc, x.v, y.v); }
  V select(B cond, V x, V y) {
    Value d;
    if (x.d || y.d)
      d = b.create<WhereOp>(loc, cond, x.d ? x.d : k(0.0), y.d ? y.d : k(0.0));
    return {b.create<WhereOp>(loc, cond, x.v, y.v), d};
  }
};

/// The taps of one axis in the form the gradient uses: per tap, the
/// clamped integral position (float) and the weight and its derivative with
/// the zeros-padding mask applied (a tap outside the image reads 0, so it
/// passes no gradient either way). Derivatives may be null (zero).
struct MaskedTaps {
  SmallVector<Value, 4> pos, weight, deriv;
};

MaskedTaps maskedTaps(DualMath &m, Value coord, int64_t size,
                      const gridsample::Attrs &attrs) {
  // Nearest's weights are constant: no derivative to carry.
  Value seed = attrs.mode == gridsample::Mode::Nearest ? Value() : m.k(1.0);
  auto taps = gridsample::axisTaps(m, DualMath::V{coord, seed}, size, attrs);
  MaskedTaps t;
  OpBuilder &b = m.b;
  Location loc = m.loc;
  for (size_t i = 0; i < taps.pos.size(); ++i) {
    Value p = taps.pos[i].v;
    Value lo = m.k(0.0), hi = m.k(double(size - 1));
    Value inside = b.create<AndOp>(loc, b.create<LessOrEqualOp>(loc, lo, p),
                                   b.create<LessOrEqualOp>(loc, p, hi));
    Value mask = vjp::maskToFloat(b, loc, inside, m.et);
    t.pos.push_back(
        b.create<MinOp>(loc, b.create<MaxOp>(loc, p, lo).getResult(), hi));
    if (taps.weight.empty()) { // nearest: weight 1
      t.weight.push_back(mask);
      t.deriv.push_back({});
      continue;
    }
    t.weight.push_back(b.create<MulOp>(loc, taps.weight[i].v, mask));
    t.deriv.push_back(m.times(taps.weight[i].d, mask));
  }
  return t;
}

Value castTo(OpBuilder &b, Location loc, Value v, Type et) {
  if (typeOf(v).getElementType() == et)
    return v;
  return b.create<CastOp>(loc, v, TypeAttr::get(et));
}

} // namespace

LogicalResult GridSampleOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                     SmallVectorImpl<Value> &operandGrads) {
  // y[n,c,ho,wo] = sum over taps (i, j) of wx_i wy_j x[n,c,py_j,px_i], the
  // positions and weights functions of grid[n,ho,wo] (ir/GridSampleRule.h).
  // - x: each sample adds g wx_i wy_j at each of its taps, a scatter-add of
  //   all taps at once into the flattened image (several samples may share
  //   a pixel).
  // - grid: positions are piecewise constant, so only the weights move:
  //   dL/dgx = sum_c g sum_ij wx_i' wy_j x_ij, dL/dgy likewise, with the
  //   derivatives from the rule on dual numbers. Nearest has no weights: its
  //   grid gradient is zero (as PyTorch's).
  // Taps outside the image (zeros padding) read 0 and get masked weights.
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  RankedTensorType xType = typeOf(getInput()), gridType = typeOf(getGrid());
  Type xt = xType.getElementType(), gt = gridType.getElementType();
  int64_t n = xType.getDimSize(0), c = xType.getDimSize(1),
          h = xType.getDimSize(2), w = xType.getDimSize(3);
  int64_t ho = gridType.getDimSize(1), wo = gridType.getDimSize(2);
  gridsample::Attrs attrs(getMode(), getPaddingMode(), getAlignCorners());
  DualMath m{b, loc, gt};

  // A grid coordinate as [N, 1, Ho, Wo], broadcasting against [N, C, Ho, Wo].
  auto coordinate = [&](int64_t k) {
    Value s = b.create<SliceOp>(loc, getGrid(), ArrayRef<int64_t>{0, 0, 0, k},
                                ArrayRef<int64_t>{n, ho, wo, 1},
                                ArrayRef<int64_t>{1, 1, 1, 1});
    return vjp::reshape(b, loc, s, {n, 1, ho, wo});
  };
  MaskedTaps tx = maskedTaps(m, coordinate(0), w, attrs);
  MaskedTaps ty = maskedTaps(m, coordinate(1), h, attrs);

  SmallVector<int64_t> sampleShape = {n, c, ho, wo};
  SmallVector<int64_t> flatShape = {n, c, ho * wo};
  // The flat pixel index y * W + x of each tap (i, j), per sample and
  // channel, in integers (a float16 grid cannot count past 2048).
  auto toIndex = [&](Value p) -> Value {
    return b.create<CastOp>(loc, p, TypeAttr::get(b.getI64Type()));
  };
  Value width = b.create<ConstantOp>(
      loc, DenseElementsAttr::get(RankedTensorType::get({}, b.getI64Type()),
                                  ArrayRef<int64_t>{w}));
  // Taps in row-major order: tap (i, j) is number j * tx.pos.size() + i.
  SmallVector<Value> indices;
  for (Value py : ty.pos)
    for (Value px : tx.pos) {
      Value flat = b.create<AddOp>(
          loc, b.create<MulOp>(loc, toIndex(py), width).getResult(),
          toIndex(px));
      flat = b.create<ExpandOp>(loc, flat, sampleShape);
      indices.push_back(vjp::reshape(b, loc, flat, flatShape));
    }

  // x: one scatter-add of every tap's g wx_i wy_j.
  SmallVector<Value> updates;
  for (Value wy : ty.weight)
    for (Value wx : tx.weight) {
      Value weight = b.create<MulOp>(loc, wx, wy);
      Value u = b.create<MulOp>(loc, g, castTo(b, loc, weight, xt));
      updates.push_back(vjp::reshape(b, loc, u, flatShape));
    }
  auto concat = [&](ArrayRef<Value> parts) -> Value {
    if (parts.size() == 1)
      return parts[0];
    return b.create<ConcatOp>(loc, parts, 2);
  };
  Value dx = b.create<ScatterElementsOp>(
      loc, vjp::zeros(b, loc, RankedTensorType::get({n, c, h * w}, xt)),
      concat(indices), concat(updates), 2, "add");
  operandGrads[0] = vjp::reshape(b, loc, dx, xType.getShape());
  if (attrs.mode == gridsample::Mode::Nearest)
    return success();

  // grid: sx = sum_j wy_j sum_i wx_i' x_ij, sy = sum_j wy_j' sum_i wx_i x_ij.
  Value image = vjp::reshape(b, loc, getInput(), {n, c, h * w});
  Value sx, sy;
  for (size_t j = 0; j < ty.pos.size(); ++j) {
    Value rowValue, rowDeriv;
    for (size_t i = 0; i < tx.pos.size(); ++i) {
      Value v = b.create<GatherElementsOp>(loc, image,
                                           indices[j * tx.pos.size() + i], 2);
      v = castTo(b, loc, vjp::reshape(b, loc, v, sampleShape), gt);
      rowValue = m.plus(rowValue, m.times(v, tx.weight[i]));
      rowDeriv = m.plus(rowDeriv, m.times(v, tx.deriv[i]));
    }
    sx = m.plus(sx, m.times(rowDeriv, ty.weight[j]));
    sy = m.plus(sy, m.times(rowValue, ty.deriv[j]));
  }
  Value gg = castTo(b, loc, g, gt);
  auto component = [&](Value s) {
    RankedTensorType type = RankedTensorType::get({n, ho, wo, 1}, gt);
    if (!s)
      return vjp::zeros(b, loc, type);
    Value t = vjp::sumKeepDims(b, loc, b.create<MulOp>(loc, gg, s), {1});
    return vjp::reshape(b, loc, t, type.getShape());
  };
  operandGrads[1] =
      b.create<ConcatOp>(loc, ValueRange{component(sx), component(sy)}, 3);
  return success();
}

} // namespace lathe
