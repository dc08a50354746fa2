// Vector-Jacobian products of convolution and pooling
// (DifferentiableOpInterface, ir/LatheAutodiff.td): Conv, ConvTranspose,
// MaxPool (and output 0 of MaxPoolWithIndices) and AveragePool.
//
// Notation, per spatial dim: input size I, kernel K, stride s, dilation d,
// begin/end pads pb/pe, output size O. Conv reads input position
// i = o*s + k*d - pb for output o and kernel tap k; ConvTranspose writes
// x[i] * w[k] to full position j = i*s + k*d, cropped by pb at the front.
// Both are the adjoint of each other for the same (s, d, pb), which is what
// the data gradients use; the weight gradients are correlations of the
// input with the output gradient, written as a convolution whose "batch"
// and "channel" roles are swapped.
#include "ir/VJPUtils.h"

#include <numeric>

using namespace mlir;

namespace lathe {

using vjp::typeOf;

/// `v` with its first two dims swapped.
static Value swapFirstTwo(OpBuilder &b, Location loc, Value v) {
  SmallVector<int64_t> perm(typeOf(v).getRank());
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[0], perm[1]);
  return b.create<TransposeOp>(loc, v, perm);
}

/// `v` cut to its first `spatial` elements in each dim from 2 on (no op
/// when it already has that size).
static Value cropSpatial(OpBuilder &b, Location loc, Value v,
                         ArrayRef<int64_t> spatial) {
  ArrayRef<int64_t> shape = typeOf(v).getShape();
  SmallVector<int64_t> sizes(shape.take_front(2));
  sizes.append(spatial.begin(), spatial.end());
  if (sizes == shape)
    return v;
  SmallVector<int64_t> offsets(shape.size(), 0), steps(shape.size(), 1);
  return b.create<SliceOp>(loc, v, offsets, sizes, steps);
}

/// Convolution of `x` with `w` whose spatial output is exactly `outSize`:
/// out[o] = sum_k x[o*s + k*d - pb] w[k], with x zero outside. The end pads
/// are chosen just large enough for `outSize` outputs (at least 0); any
/// extra output is cropped, so it equals the sum above at every o.
static Value convTo(OpBuilder &b, Location loc, Value x, Value w,
                    ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations,
                    ArrayRef<int64_t> padBegin, int64_t group,
                    ArrayRef<int64_t> outSize) {
  ArrayRef<int64_t> in = typeOf(x).getShape(), kernel = typeOf(w).getShape();
  size_t n = outSize.size();
  SmallVector<int64_t> pads(padBegin);
  for (size_t i = 0; i < n; ++i) {
    // The last output reads up to (out-1)*s + (k-1)*d - pb.
    int64_t need = (outSize[i] - 1) * strides[i] +
                   (kernel[i + 2] - 1) * dilations[i] + 1 - padBegin[i] -
                   in[i + 2];
    pads.push_back(std::max<int64_t>(0, need));
  }
  Value y = b.create<ConvOp>(loc, x, w, Value(), strides, dilations, pads,
                             static_cast<uint64_t>(group));
  return cropSpatial(b, loc, y, outSize);
}

/// Transposed convolution of `x` with `w` whose spatial output is exactly
/// `outSize`: out[j - pb] += x[i] w[k] for j = i*s + k*d. The full result
/// ((O-1)*s + (K-1)*d + 1 long) is cropped by pb at the front and to
/// `outSize` at the end; a shortfall becomes output_padding (zeros, which is
/// right: nothing is written there).
static Value convTransposeTo(OpBuilder &b, Location loc, Value x, Value w,
                             ArrayRef<int64_t> strides,
                             ArrayRef<int64_t> dilations,
                             ArrayRef<int64_t> padBegin, int64_t group,
                             ArrayRef<int64_t> outSize) {
  ArrayRef<int64_t> in = typeOf(x).getShape(), kernel = typeOf(w).getShape();
  size_t n = outSize.size();
  SmallVector<int64_t> pads(padBegin), outputPadding;
  for (size_t i = 0; i < n; ++i) {
    int64_t full =
        (in[i + 2] - 1) * strides[i] + (kernel[i + 2] - 1) * dilations[i] + 1;
    int64_t endCrop = full - padBegin[i] - outSize[i];
    pads.push_back(std::max<int64_t>(0, endCrop));
    outputPadding.push_back(std::max<int64_t>(0, -endCrop));
  }
  return b.create<ConvTransposeOp>(loc, x, w, Value(), strides, dilations, pads,
                                   outputPadding, static_cast<uint64_t>(group));
}

/// The weight gradient shared by Conv and ConvTranspose:
///   out[g*Q + q, p, k] = sum_{n, t} a[n, g*P + p, k*d + t*s - pb]
///                                   * c[n, g*Q + q, t]
/// for `groups` groups (a has groups*P channels, c has groups*Q), output
/// spatial size `kernel`. As a convolution: a becomes the input with batch
/// P and channels (group, n), c the weight [groups*Q, n, t...] applied with
/// stride d and dilation s; each output channel (g, q) then reads exactly the
/// channels (g, n) of its own group.
static Value weightGrad(OpBuilder &b, Location loc, Value a, Value c,
                        int64_t groups, ArrayRef<int64_t> strides,
                        ArrayRef<int64_t> dilations, ArrayRef<int64_t> padBegin,
                        ArrayRef<int64_t> kernel) {
  ArrayRef<int64_t> aShape = typeOf(a).getShape();
  int64_t n = aShape[0], p = aShape[1] / groups;
  SmallVector<int64_t> split = {n, groups, p};
  split.append(aShape.begin() + 2, aShape.end());
  SmallVector<int64_t> perm(split.size());
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[0], perm[2]); // [P, groups, N, spatial...]
  Value at = b.create<TransposeOp>(loc, vjp::reshape(b, loc, a, split), perm);
  SmallVector<int64_t> merged = {p, groups * n};
  merged.append(aShape.begin() + 2, aShape.end());
  at = vjp::reshape(b, loc, at, merged);
  Value ct = swapFirstTwo(b, loc, c); // [groups*Q, N, t...]
  // Roles swap: the forward dilation is the stride here and vice versa.
  Value grad =
      convTo(b, loc, at, ct, dilations, strides, padBegin, groups, kernel);
  return swapFirstTwo(b, loc, grad);
}

/// The bias gradient: the output gradient summed over all dims but 1.
static Value biasGrad(OpBuilder &b, Location loc, Value g) {
  int64_t rank = typeOf(g).getRank();
  SmallVector<int64_t> axes = {0};
  for (int64_t i = 2; i < rank; ++i)
    axes.push_back(i);
  int64_t channels = typeOf(g).getDimSize(1);
  return vjp::reshape(b, loc, vjp::sumKeepDims(b, loc, g, axes), {channels});
}

static SmallVector<int64_t> spatialOf(Value v) {
  return SmallVector<int64_t>(typeOf(v).getShape().drop_front(2));
}

LogicalResult ConvOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  int64_t group = static_cast<int64_t>(getGroup());
  ArrayRef<int64_t> pads = getPads();
  ArrayRef<int64_t> padBegin = pads.take_front(pads.size() / 2);
  // dX[i] = sum_{o, k: o*s + k*d - pb = i} g[o] w[k]: the transposed
  // convolution of g with the same weight [M, C/group, k...] (read by
  // ConvTranspose as [in channels M, out channels per group C/group]).
  // Input positions no window reads get zero (output_padding or crop).
  operandGrads[0] =
      convTransposeTo(b, loc, g, getWeight(), getStrides(), getDilations(),
                      padBegin, group, spatialOf(getInput()));
  // dW[m, c, k] = sum_{n, o} x[n, c, o*s + k*d - pb] g[n, m, o].
  operandGrads[1] =
      weightGrad(b, loc, getInput(), g, group, getStrides(), getDilations(),
                 padBegin, spatialOf(getWeight()));
  if (getBias())
    operandGrads[2] = biasGrad(b, loc, g);
  return success();
}

LogicalResult ConvTransposeOp::buildVJP(OpBuilder &b,
                                        ArrayRef<Value> resultGrads,
                                        SmallVectorImpl<Value> &operandGrads) {
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  int64_t group = static_cast<int64_t>(getGroup());
  ArrayRef<int64_t> pads = getPads();
  ArrayRef<int64_t> padBegin = pads.take_front(pads.size() / 2);
  // x[i] reaches output i*s + k*d - pb, so dX[i] = sum_k g[i*s + k*d - pb]
  // w[c, m, k]: a convolution of g whose weight [C, M/group, k...] is w as
  // it is. output_padding only adds outputs no input reaches.
  operandGrads[0] = convTo(b, loc, g, getWeight(), getStrides(), getDilations(),
                           padBegin, group, spatialOf(getInput()));
  // dW[c, m, k] = sum_{n, i} g[n, m, i*s + k*d - pb] x[n, c, i].
  operandGrads[1] =
      weightGrad(b, loc, g, getInput(), group, getStrides(), getDilations(),
                 padBegin, spatialOf(getWeight()));
  if (getBias())
    operandGrads[2] = biasGrad(b, loc, g);
  return success();
}

/// The max-pool gradient: each output gradient is added to the input
/// element its window took (the first maximum, as the indices of
/// MaxPoolWithIndices and PyTorch define it), overlapping windows summing.
/// A scatter-add over the flattened input does exactly that. A window that
/// lies entirely in the padding (pads >= the window) has no element; its
/// index (-1) is redirected to element 0 with a zero update.
static Value maxPoolGrad(OpBuilder &b, Location loc, Value x, Value g,
                         ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                         ArrayRef<int64_t> dilations, ArrayRef<int64_t> pads,
                         bool ceilMode) {
  RankedTensorType inType = typeOf(x);
  // Windows that tile the input (VGG's and LeNet's 2x2, stride 2): one
  // elementwise pass that finds each window's first maximum again, instead
  // of int64 indices, a zero fill and a serial scatter.
  int64_t positions = 1;
  for (int64_t k : kernel)
    positions *= k;
  bool tiles = strides == kernel && positions <= 64;
  for (size_t i = 0; i < kernel.size(); ++i)
    tiles &= dilations[i] == 1 && pads[i] == 0 &&
             pads[i + kernel.size()] == 0 &&
             inType.getDimSize(i + 2) % kernel[i] == 0;
  if (tiles)
    return b.create<MaxPoolGradOp>(loc, x, g, kernel);
  auto pool = b.create<MaxPoolWithIndicesOp>(loc, x, kernel, strides, dilations,
                                             pads, ceilMode, uint64_t(0));
  int64_t count = typeOf(g).getNumElements();
  Value idx = vjp::reshape(b, loc, pool.getIndices(), {count});
  Value upd = vjp::reshape(b, loc, g, {count});
  bool emptyWindows = false;
  for (size_t i = 0; i < kernel.size(); ++i)
    emptyWindows |= std::max(pads[i], pads[i + kernel.size()]) >=
                    (kernel[i] - 1) * dilations[i] + 1;
  if (emptyWindows) {
    Type i64 = b.getI64Type();
    Value zeroIdx = b.create<ConstantOp>(
        loc, DenseElementsAttr::get(RankedTensorType::get({}, i64),
                                    b.getI64IntegerAttr(0)));
    Value none = b.create<LessOp>(loc, idx, zeroIdx);
    idx = b.create<WhereOp>(loc, none, zeroIdx, idx);
    upd = b.create<WhereOp>(
        loc, none, vjp::scalar(b, loc, inType.getElementType(), 0.0), upd);
  }
  Value flat = vjp::zeros(b, loc,
                          RankedTensorType::get({inType.getNumElements()},
                                                inType.getElementType()));
  Value dx = b.create<ScatterElementsOp>(loc, flat, idx, upd, int64_t(0),
                                         b.getStringAttr("add"));
  return vjp::reshape(b, loc, dx, inType.getShape());
}

LogicalResult MaxPoolOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                  SmallVectorImpl<Value> &operandGrads) {
  if (Value g = vjp::start(*this, resultGrads, operandGrads))
    operandGrads[0] =
        maxPoolGrad(b, getLoc(), getInput(), g, getKernelShape(), getStrides(),
                    getDilations(), getPads(), getCeilMode());
  return success();
}

LogicalResult
MaxPoolWithIndicesOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  // The indices are integers (no gradient); output 0 is MaxPool's.
  operandGrads.assign(1, Value());
  Value g = resultGrads.empty() ? Value() : resultGrads[0];
  if (g && vjp::isFloatTensor(getOutput()))
    operandGrads[0] =
        maxPoolGrad(b, getLoc(), getInput(), g, getKernelShape(), getStrides(),
                    getDilations(), getPads(), getCeilMode());
  return success();
}

LogicalResult AveragePoolOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                      SmallVectorImpl<Value> &operandGrads) {
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  RankedTensorType inType = typeOf(getInput());
  Type et = inType.getElementType();
  ArrayRef<int64_t> kernel = getKernelShape(), strides = getStrides(),
                    pads = getPads();
  int64_t s = kernel.size();
  SmallVector<int64_t> outSpatial = spatialOf(g),
                       inSpatial = spatialOf(getInput());
  // y[o] = sum of the window / div[o], with the divisor of the lowering
  // (passes/LowerConvPool.cpp, as ONNX defines it): per dim the window
  // [o*s - pb, o*s - pb + k) clipped to the input, or to the padded input
  // [-pb, I + pe) with count_include_pad (never the ceil_mode overhang), at
  // least 1; the divisor is the product over dims.
  std::vector<std::vector<double>> perDim(s);
  for (int64_t i = 0; i < s; ++i) {
    int64_t lo = getCountIncludePad() ? -pads[i] : 0;
    int64_t hi = inSpatial[i] + (getCountIncludePad() ? pads[i + s] : 0);
    for (int64_t o = 0; o < outSpatial[i]; ++o) {
      int64_t start = o * strides[i] - pads[i];
      int64_t end = start + kernel[i];
      perDim[i].push_back(
          1.0 / std::max<int64_t>(1, std::min(end, hi) - std::max(start, lo)));
    }
  }
  SmallVector<int64_t> recipShape = {1, 1};
  recipShape.append(outSpatial);
  auto recipType = RankedTensorType::get(recipShape, et);
  SmallVector<Attribute> recip;
  for (int64_t flat = 0; flat < recipType.getNumElements(); ++flat) {
    double v = 1.0;
    for (int64_t i = s - 1, rest = flat; i >= 0; --i) {
      v *= perDim[i][rest % outSpatial[i]];
      rest /= outSpatial[i];
    }
    recip.push_back(b.getFloatAttr(et, v));
  }
  Value scaled = b.create<MulOp>(
      loc, g,
      b.create<ConstantOp>(loc, DenseElementsAttr::get(recipType, recip)));
  // dX[i] = sum_{o, k: o*s + k - pb = i} g[o] / div[o]: a transposed
  // convolution of every (n, c) plane with a kernel of ones. Padded
  // positions are cropped away (they have no gradient).
  ArrayRef<int64_t> gShape = typeOf(g).getShape();
  SmallVector<int64_t> planes = {gShape[0] * gShape[1], 1};
  planes.append(outSpatial);
  SmallVector<int64_t> onesShape = {1, 1};
  onesShape.append(kernel.begin(), kernel.end());
  auto onesType = RankedTensorType::get(onesShape, et);
  Value ones = b.create<ConstantOp>(
      loc, DenseElementsAttr::get(onesType, b.getFloatAttr(et, 1.0)));
  SmallVector<int64_t> unit(s, 1);
  Value dx = convTransposeTo(b, loc, vjp::reshape(b, loc, scaled, planes), ones,
                             strides, unit, pads.take_front(s), 1, inSpatial);
  operandGrads[0] = vjp::reshape(b, loc, dx, inType.getShape());
  return success();
}

} // namespace lathe
