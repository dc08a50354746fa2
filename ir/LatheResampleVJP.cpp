// Vector-Jacobian products of the resampling ops (DifferentiableOpInterface,
// ir/LatheAutodiff.td): Resize and MaxUnpool. Resize's sizes, scales and roi
// are attributes and MaxUnpool's indices integers, so only the data input
// gets a gradient.
#include "ir/ResizeTaps.h"
#include "ir/VJPUtils.h"

#include <cmath>

using namespace mlir;

namespace lathe {

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

} // namespace lathe
