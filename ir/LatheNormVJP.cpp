// Vector-Jacobian products of the normalisation layers
// (DifferentiableOpInterface, ir/LatheAutodiff.td): BatchNorm (inference and
// training), InstanceNorm, LayerNorm, MeanVarianceNorm, LRN and LpNorm.
//
// The standardisations share one identity. With xhat = (x - mu) * r over a
// set of reduced axes of n elements, mu their mean and r = (var + eps)^-1/2
// of their biased variance, and gh the gradient with respect to xhat:
//   dx = r * (gh - mean(gh) - xhat * mean(gh * xhat))
// (mu moves every xhat by -r/n; r changes by -r^3 (x_j - mu)/n per x_j, which
// moves xhat_i by -xhat_i xhat_j r/n).
#include "ir/VJPUtils.h"

using namespace mlir;

namespace lathe {

using vjp::typeOf;

namespace {

/// The standardisation of `x` over `axes`: the mean and r with the reduced
/// dims kept as size 1, n the count of reduced elements.
struct Stats {
  Value mean, r;
  int64_t n;
};

/// `v` * the 0-d constant `c`.
Value scaleBy(OpBuilder &b, Location loc, Value v, double c) {
  return b.create<MulOp>(loc, v,
                         vjp::scalar(b, loc, typeOf(v).getElementType(), c));
}

int64_t countOver(Value x, ArrayRef<int64_t> axes) {
  int64_t n = 1;
  for (int64_t a : axes)
    n *= typeOf(x).getDimSize(a);
  return n;
}

/// (var + eps)^-1/2.
Value invStd(OpBuilder &b, Location loc, Value var, double eps) {
  Value v = b.create<AddOp>(
      loc, var, vjp::scalar(b, loc, typeOf(var).getElementType(), eps));
  return b.create<ReciprocalOp>(loc, b.create<SqrtOp>(loc, v));
}

/// Mean and r recomputed from `x` (the op does not return them).
Stats computeStats(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> axes,
                   double eps) {
  int64_t n = countOver(x, axes);
  Value mean = scaleBy(b, loc, vjp::sumKeepDims(b, loc, x, axes), 1.0 / n);
  Value d = b.create<SubOp>(loc, x, mean);
  Value var = scaleBy(
      b, loc, vjp::sumKeepDims(b, loc, b.create<MulOp>(loc, d, d), axes),
      1.0 / n);
  return {mean, invStd(b, loc, var, eps), n};
}

Value meanOver(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> axes,
               int64_t n) {
  return scaleBy(b, loc, vjp::sumKeepDims(b, loc, v, axes), 1.0 / n);
}

/// dx = r * (gh - mean(gh) - xhat * mean(gh * xhat)), see the file comment.
Value standardiseGrad(OpBuilder &b, Location loc, Value gh, Value xhat, Value r,
                      ArrayRef<int64_t> axes, int64_t n) {
  Value m1 = meanOver(b, loc, gh, axes, n);
  Value m2 = meanOver(b, loc, b.create<MulOp>(loc, gh, xhat), axes, n);
  Value inner = b.create<SubOp>(loc, b.create<SubOp>(loc, gh, m1),
                                b.create<MulOp>(loc, xhat, m2));
  return b.create<MulOp>(loc, r, inner);
}

/// A per-channel [C] parameter reshaped to [1, C, 1...] for `rank`.
Value channelView(OpBuilder &b, Location loc, Value p, int64_t rank) {
  SmallVector<int64_t> shape(rank, 1);
  shape[1] = typeOf(p).getDimSize(0);
  return vjp::reshape(b, loc, p, shape);
}

SmallVector<int64_t> allBut1(int64_t rank) {
  SmallVector<int64_t> axes = {0};
  for (int64_t i = 2; i < rank; ++i)
    axes.push_back(i);
  return axes;
}

/// Sum over every dim but 1, as a [C] vector.
Value channelSum(OpBuilder &b, Location loc, Value v) {
  int64_t c = typeOf(v).getDimSize(1);
  return vjp::reshape(
      b, loc, vjp::sumKeepDims(b, loc, v, allBut1(typeOf(v).getRank())), {c});
}

/// Adds `extra` to `acc` (either may be null).
Value accumulate(OpBuilder &b, Location loc, Value acc, Value extra) {
  if (!acc)
    return extra;
  return extra ? b.create<AddOp>(loc, acc, extra).getResult() : acc;
}

/// A [1, C, 1...] per-channel tensor as [C].
Value flatChannels(OpBuilder &b, Location loc, Value v) {
  return vjp::reshape(b, loc, v, {typeOf(v).getDimSize(1)});
}

} // namespace

LogicalResult BatchNormOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  // y = scale * (x - mean) * r + bias with r = (var + eps)^-1/2, all per
  // channel and fixed (inference): linear in x and bias, and in scale
  // through (x - mean) r. The running mean and variance get gradients too:
  // dy/dmean = -scale r, dy/dvar = -scale (x - mean) r^3 / 2.
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  int64_t rank = typeOf(getInput()).getRank();
  Value scale = getScale();
  Value r = invStd(b, loc, getVariance(), getEpsilon().convertToFloat()); // [C]
  Value sr = b.create<MulOp>(loc, scale, r);
  Value centred =
      b.create<SubOp>(loc, getInput(), channelView(b, loc, getMean(), rank));
  operandGrads[0] = b.create<MulOp>(loc, g, channelView(b, loc, sr, rank));
  Value gc = channelSum(b, loc, b.create<MulOp>(loc, g, centred)); // [C]
  operandGrads[1] = b.create<MulOp>(loc, gc, r);
  operandGrads[2] = channelSum(b, loc, g);
  operandGrads[3] =
      b.create<NegOp>(loc, b.create<MulOp>(loc, operandGrads[2], sr));
  operandGrads[4] = scaleBy(b, loc,
                            b.create<MulOp>(loc, b.create<MulOp>(loc, gc, sr),
                                            b.create<MulOp>(loc, r, r)),
                            -0.5);
  return success();
}

LogicalResult
BatchNormTrainingOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  // y = scale * xhat + bias with the batch statistics over every dim but 1
  // (the file comment's identity with gh = g * scale). Gradients flowing
  // into the batch mean and variance results are added (d mean/dx = 1/n,
  // d var/dx = 2 (x - mean)/n). The running statistics (results 1, 2) are
  // optimizer-free state updates: no gradient flows through them, so the
  // mean and variance operands (the old running values) get none either.
  operandGrads.assign(getNumOperands(), Value());
  auto grad = [&](unsigned i) {
    return i < resultGrads.size() ? resultGrads[i] : Value();
  };
  Value g = grad(0), gMean = grad(3), gVar = grad(4);
  if (!g && !gMean && !gVar)
    return success();
  Location loc = getLoc();
  Value x = getInput();
  int64_t rank = typeOf(x).getRank();
  SmallVector<int64_t> axes = allBut1(rank);
  int64_t n = countOver(x, axes);
  Value mean = channelView(b, loc, getBatchMean(), rank);
  Value centred = b.create<SubOp>(loc, x, mean);
  Value dx;
  if (g) {
    // The file comment's identity with gh = g * scale, xhat = centred * r,
    // regrouped so that the activation-sized work is two channel sums (of
    // g and of g * centred) and one elementwise pass:
    //   dx = a g - b centred - c,  a = scale r,  b = a r^2 sum(g centred)/n,
    //   c = a sum(g)/n,
    // every coefficient per channel. Written with xhat and gh there are
    // four activation-sized sums and as many elementwise passes.
    Value r = invStd(b, loc, getBatchVar(), getEpsilon().convertToFloat());
    Value sumG = channelSum(b, loc, g);                                 // [C]
    Value sumGC = channelSum(b, loc, b.create<MulOp>(loc, g, centred)); // [C]
    Value a = b.create<MulOp>(loc, getScale(), r);
    Value coefB = scaleBy(
        b, loc,
        b.create<MulOp>(
            loc, b.create<MulOp>(loc, a, b.create<MulOp>(loc, r, r)), sumGC),
        1.0 / n);
    Value coefC = scaleBy(b, loc, b.create<MulOp>(loc, a, sumG), 1.0 / n);
    dx = b.create<SubOp>(
        loc,
        b.create<SubOp>(
            loc, b.create<MulOp>(loc, g, channelView(b, loc, a, rank)),
            b.create<MulOp>(loc, centred, channelView(b, loc, coefB, rank))),
        channelView(b, loc, coefC, rank));
    operandGrads[1] = b.create<MulOp>(loc, sumGC, r);
    operandGrads[2] = sumG;
  }
  if (gMean)
    dx = accumulate(b, loc, dx,
                    scaleBy(b, loc, channelView(b, loc, gMean, rank), 1.0 / n));
  if (gVar)
    dx = accumulate(
        b, loc, dx,
        b.create<MulOp>(
            loc, centred,
            scaleBy(b, loc, channelView(b, loc, gVar, rank), 2.0 / n)));
  operandGrads[0] = dx;
  return success();
}

LogicalResult InstanceNormOp::buildVJP(OpBuilder &b,
                                       ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  // y = scale[c] * xhat + bias[c], statistics per (n, c) over the spatial
  // dims: the file comment's identity with gh = g * scale.
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  Value x = getInput();
  int64_t rank = typeOf(x).getRank();
  SmallVector<int64_t> axes;
  for (int64_t i = 2; i < rank; ++i)
    axes.push_back(i);
  Stats st = computeStats(b, loc, x, axes, getEpsilon().convertToFloat());
  Value xhat = b.create<MulOp>(loc, b.create<SubOp>(loc, x, st.mean), st.r);
  Value gh = b.create<MulOp>(loc, g, channelView(b, loc, getScale(), rank));
  operandGrads[0] = standardiseGrad(b, loc, gh, xhat, st.r, axes, st.n);
  operandGrads[1] = channelSum(b, loc, b.create<MulOp>(loc, g, xhat));
  operandGrads[2] = channelSum(b, loc, g);
  return success();
}

LogicalResult LayerNormOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  // y = xhat * scale + bias over the dims from `axis` on, scale and bias
  // broadcast (their gradients summed back by unbroadcast). The statistics
  // are the op's own mean and inv_std_dev results (in stash_type, cast to
  // the input type), so the backward pass uses the values the forward one
  // did. Gradients into those results: d mean/dx = 1/n, d r/dx =
  // -r^3 (x - mean)/n.
  operandGrads.assign(getNumOperands(), Value());
  auto grad = [&](unsigned i) {
    return i < resultGrads.size() ? resultGrads[i] : Value();
  };
  Value g = grad(0), gMean = grad(1), gR = grad(2);
  if (!g && !gMean && !gR)
    return success();
  Location loc = getLoc();
  Value x = getInput();
  Type et = typeOf(x).getElementType();
  int64_t rank = typeOf(x).getRank();
  int64_t axis = vjp::normaliseAxis(static_cast<int64_t>(getAxis()), rank);
  SmallVector<int64_t> axes;
  for (int64_t i = axis; i < rank; ++i)
    axes.push_back(i);
  int64_t n = countOver(x, axes);
  auto toInputType = [&](Value v) -> Value {
    if (!v || typeOf(v).getElementType() == et)
      return v;
    return b.create<CastOp>(loc, v, TypeAttr::get(et));
  };
  Value mean = toInputType(getMean()), r = toInputType(getInvStdDev());
  Value centred = b.create<SubOp>(loc, x, mean);
  Value xhat = b.create<MulOp>(loc, centred, r);
  Value dx;
  if (g) {
    Value gh = b.create<MulOp>(loc, g, getScale());
    dx = standardiseGrad(b, loc, gh, xhat, r, axes, n);
    operandGrads[1] = vjp::unbroadcast(b, loc, b.create<MulOp>(loc, g, xhat),
                                       typeOf(getScale()));
    if (getBias())
      operandGrads[2] = vjp::unbroadcast(b, loc, g, typeOf(getBias()));
  }
  if (gMean)
    dx = accumulate(b, loc, dx, scaleBy(b, loc, toInputType(gMean), 1.0 / n));
  if (gR) {
    Value r3 = b.create<MulOp>(loc, b.create<MulOp>(loc, r, r), r);
    dx = accumulate(
        b, loc, dx,
        b.create<MulOp>(loc, centred,
                        scaleBy(b, loc,
                                b.create<MulOp>(loc, toInputType(gR), r3),
                                -1.0 / n)));
  }
  operandGrads[0] = dx;
  return success();
}

LogicalResult
MeanVarianceNormOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                             SmallVectorImpl<Value> &operandGrads) {
  // y = (x - mu) / D with D = sd + 1e-9, sd = sqrt(var) (the epsilon is
  // outside the root here). dD/dx_j = (x_j - mu) / (n sd), so
  //   dx = (g - mean(g)) / D - (x - mu) * sum(g (x - mu)) / (n sd D^2).
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  Value x = getInput();
  Type et = typeOf(x).getElementType();
  ArrayRef<int64_t> axes = getAxes();
  int64_t n = countOver(x, axes);
  Value mean = meanOver(b, loc, x, axes, n);
  Value centred = b.create<SubOp>(loc, x, mean);
  Value sd = b.create<SqrtOp>(
      loc, meanOver(b, loc, b.create<MulOp>(loc, centred, centred), axes, n));
  Value d = b.create<AddOp>(loc, sd, vjp::scalar(b, loc, et, 1e-9));
  Value first = b.create<DivOp>(
      loc, b.create<SubOp>(loc, g, meanOver(b, loc, g, axes, n)), d);
  Value dot = vjp::sumKeepDims(b, loc, b.create<MulOp>(loc, g, centred), axes);
  Value denom = scaleBy(
      b, loc, b.create<MulOp>(loc, sd, b.create<MulOp>(loc, d, d)), double(n));
  operandGrads[0] = b.create<SubOp>(
      loc, first,
      b.create<MulOp>(loc, centred, b.create<DivOp>(loc, dot, denom)));
  return success();
}

/// Sum over the channel window [c - before, c + after] (clipped) of `v`:
/// zero-pad dim 1 by (before, after) and add the `before + after + 1`
/// shifted slices.
static Value channelWindowSum(OpBuilder &b, Location loc, Value v,
                              int64_t before, int64_t after) {
  ArrayRef<int64_t> shape = typeOf(v).getShape();
  int64_t rank = shape.size();
  SmallVector<int64_t> pads(2 * rank, 0);
  pads[1] = before;
  pads[rank + 1] = after;
  Value padded = b.create<PadOp>(loc, v, Value(), pads, "constant");
  SmallVector<int64_t> offsets(rank, 0), steps(rank, 1);
  Value sum;
  for (int64_t u = 0; u <= before + after; ++u) {
    offsets[1] = u;
    sum = accumulate(b, loc, sum,
                     b.create<SliceOp>(loc, padded, offsets, shape, steps));
  }
  return sum;
}

LogicalResult LrnOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  // y_c = x_c D_c^-beta with D_c = bias + a S_c, a = alpha / size, S_c the
  // sum of x^2 over the window [c - before, c + after]. x_j enters y_j
  // directly and every D_c whose window holds j, i.e. c in
  // [j - after, j + before]:
  //   dx_j = g_j D_j^-beta - 2 a beta x_j sum_{c} g_c x_c D_c^(-beta-1).
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  Value x = getInput();
  Type et = typeOf(x).getElementType();
  int64_t size = static_cast<int64_t>(getSize());
  int64_t before = (size - 1) / 2, after = size - 1 - before;
  double a = getAlpha().convertToFloat() / double(size);
  double beta = getBeta().convertToFloat();
  Value s = channelWindowSum(b, loc, b.create<MulOp>(loc, x, x), before, after);
  Value d =
      b.create<AddOp>(loc, scaleBy(b, loc, s, a),
                      vjp::scalar(b, loc, et, getBias().convertToFloat()));
  Value dPow = b.create<PowOp>(loc, d, vjp::scalar(b, loc, et, -beta));
  Value t = b.create<DivOp>(
      loc, b.create<MulOp>(loc, b.create<MulOp>(loc, g, x), dPow), d);
  Value back = channelWindowSum(b, loc, t, after, before);
  operandGrads[0] = b.create<SubOp>(
      loc, b.create<MulOp>(loc, g, dPow),
      scaleBy(b, loc, b.create<MulOp>(loc, x, back), 2.0 * a * beta));
  return success();
}

LogicalResult LpNormOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                 SmallVectorImpl<Value> &operandGrads) {
  // y = x / N along the axis. p = 2: N = sqrt(sum x^2), dN/dx_j = x_j / N,
  // so dx = g / N - x sum(g x) / N^3. p = 1: N = sum |x|, dN/dx_j =
  // sign(x_j), so dx = g / N - sign(x) sum(g x) / N^2.
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  Value x = getInput();
  int64_t rank = typeOf(x).getRank();
  int64_t axis = vjp::normaliseAxis(static_cast<int64_t>(getAxis()), rank);
  bool l1 = getP() == 1;
  Value norm =
      l1 ? vjp::sumKeepDims(b, loc, b.create<AbsOp>(loc, x), {axis})
         : b.create<SqrtOp>(
                loc,
                vjp::sumKeepDims(b, loc, b.create<MulOp>(loc, x, x), {axis}))
               .getResult();
  Value dot = vjp::sumKeepDims(b, loc, b.create<MulOp>(loc, g, x), {axis});
  Value n2 = b.create<MulOp>(loc, norm, norm);
  Value direction = l1 ? b.create<SignOp>(loc, x).getResult()
                       : b.create<DivOp>(loc, x, norm).getResult();
  operandGrads[0] = b.create<SubOp>(
      loc, b.create<DivOp>(loc, g, norm),
      b.create<MulOp>(loc, direction, b.create<DivOp>(loc, dot, n2)));
  return success();
}

} // namespace lathe
