// Vector-Jacobian products of the shape and data-movement ops
// (DifferentiableOpInterface, ir/LatheAutodiff.td): each moves the gradient
// back to where the elements came from. Gather's indices get no gradient.
#include "ir/VJPUtils.h"

#include <cstdlib>

using namespace mlir;

namespace lathe {

using vjp::isFloatTensor;
using vjp::typeOf;

/// The gradient of an op that only rearranges its one input: `g` reshaped
/// back to the input's shape.
static LogicalResult reshapeBack(OpBuilder &b, Operation *op,
                                 ArrayRef<Value> resultGrads,
                                 SmallVectorImpl<Value> &operandGrads) {
  if (Value g = vjp::start(op, resultGrads, operandGrads))
    operandGrads[0] =
        vjp::reshape(b, op->getLoc(), g, typeOf(op->getOperand(0)).getShape());
  return success();
}

LogicalResult ReshapeOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                  SmallVectorImpl<Value> &operandGrads) {
  return reshapeBack(b, *this, resultGrads, operandGrads);
}

LogicalResult FlattenOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                  SmallVectorImpl<Value> &operandGrads) {
  return reshapeBack(b, *this, resultGrads, operandGrads);
}

LogicalResult IdentityOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  return reshapeBack(b, *this, resultGrads, operandGrads);
}

LogicalResult TransposeOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  // Result dim i is input dim perm[i]: the inverse permutation puts it back.
  ArrayRef<int64_t> perm = getPerm();
  SmallVector<int64_t> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    inverse[perm[i]] = static_cast<int64_t>(i);
  operandGrads[0] = b.create<TransposeOp>(getLoc(), g, inverse);
  return success();
}

LogicalResult ExpandOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                 SmallVectorImpl<Value> &operandGrads) {
  if (Value g = vjp::start(*this, resultGrads, operandGrads))
    operandGrads[0] = vjp::unbroadcast(b, getLoc(), g, typeOf(getInput()));
  return success();
}

LogicalResult TileOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  RankedTensorType inType = typeOf(getInput());
  ArrayRef<int64_t> repeats = getRepeats();
  if (llvm::is_contained(repeats, 0)) {
    operandGrads[0] = vjp::zeros(b, loc, inType);
    return success();
  }
  // Result dim d holds repeats[d] copies of input dim d one after the
  // other: split it into [repeats[d], in[d]] and sum over the copies.
  SmallVector<int64_t> split, copies;
  for (auto [d, size] : llvm::enumerate(inType.getShape())) {
    copies.push_back(static_cast<int64_t>(split.size()));
    split.push_back(repeats[d]);
    split.push_back(size);
  }
  g = vjp::reshape(b, loc, g, split);
  g = vjp::sumKeepDims(b, loc, g, copies);
  operandGrads[0] = vjp::reshape(b, loc, g, inType.getShape());
  return success();
}

LogicalResult PadOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  if (getMode() != "constant")
    return emitError("no gradient for lathe.pad in ")
           << getMode() << " mode yet";
  Location loc = getLoc();
  // Padding with the negated pads crops what was added and gives back (as
  // zeros) what was cropped.
  SmallVector<int64_t> pads;
  for (int64_t p : getPads())
    pads.push_back(-p);
  Value gi =
      llvm::all_of(pads, [](int64_t p) { return p == 0; })
          ? g
          : b.create<PadOp>(loc, g, Value(), pads, "constant").getResult();
  operandGrads[0] = gi;
  // The pad value fills every element that is not the input's.
  Value value = getValue();
  int64_t rank = typeOf(g).getRank();
  if (value && isFloatTensor(value) && rank > 0) {
    SmallVector<int64_t> all;
    for (int64_t d = 0; d < rank; ++d)
      all.push_back(d);
    auto total = [&](Value v) -> Value {
      return b.create<ReduceSumOp>(loc, v, all, /*keepdims=*/false);
    };
    operandGrads[1] =
        vjp::reshape(b, loc, b.create<SubOp>(loc, total(g), total(gi)),
                     typeOf(value).getShape());
  }
  return success();
}

LogicalResult ConcatOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                 SmallVectorImpl<Value> &operandGrads) {
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  // Each input gets its own stretch of the gradient along the axis.
  ArrayRef<int64_t> out = typeOf(g).getShape();
  int64_t rank = static_cast<int64_t>(out.size());
  int64_t axis = vjp::normaliseAxis(getAxis(), rank);
  SmallVector<int64_t> offsets(rank, 0), strides(rank, 1);
  for (auto [i, input] : llvm::enumerate(getInputs())) {
    ArrayRef<int64_t> sizes = typeOf(input).getShape();
    operandGrads[i] = b.create<SliceOp>(getLoc(), g, offsets, sizes, strides);
    offsets[axis] += sizes[axis];
  }
  return success();
}

LogicalResult SliceOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                SmallVectorImpl<Value> &operandGrads) {
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  RankedTensorType inType = typeOf(getInput());
  ArrayRef<int64_t> in = inType.getShape(), offsets = getOffsets(),
                    sizes = getSizes(), strides = getStrides();
  size_t rank = in.size();
  if (llvm::is_contained(sizes, 0)) {
    // Nothing was read: the gradient is zero.
    operandGrads[0] = vjp::zeros(b, loc, inType);
    return success();
  }
  // A negative stride reads backwards: reversing the gradient along that
  // dim turns it into a forward read from the last element read.
  SmallVector<int64_t> start(rank), step(rank);
  SmallVector<int64_t> revOffsets(rank, 0), revStrides(rank, 1);
  bool reverse = false;
  for (size_t d = 0; d < rank; ++d) {
    step[d] = std::abs(strides[d]);
    start[d] =
        strides[d] < 0 ? offsets[d] + (sizes[d] - 1) * strides[d] : offsets[d];
    if (strides[d] < 0 && sizes[d] > 1) {
      revOffsets[d] = sizes[d] - 1;
      revStrides[d] = -1;
      reverse = true;
    }
  }
  if (reverse)
    g = b.create<SliceOp>(loc, g, revOffsets, sizes, revStrides);
  // A stride k > 1 spreads the n elements k apart: give each dim a
  // companion dim of size 1 padded to k, and merge the two (n*k elements,
  // the gradient every k-th).
  if (llvm::any_of(step, [](int64_t k) { return k > 1; })) {
    SmallVector<int64_t> split, pads, merged;
    for (size_t d = 0; d < rank; ++d) {
      split.push_back(sizes[d]);
      merged.push_back(sizes[d] * step[d]);
      if (step[d] > 1)
        split.push_back(1);
    }
    SmallVector<int64_t> padEnd;
    for (size_t d = 0; d < rank; ++d) {
      padEnd.push_back(0);
      if (step[d] > 1)
        padEnd.push_back(step[d] - 1);
    }
    pads.assign(padEnd.size(), 0);
    pads.append(padEnd);
    g = vjp::reshape(b, loc, g, split);
    g = b.create<PadOp>(loc, g, Value(), pads, "constant");
    g = vjp::reshape(b, loc, g, merged);
  }
  // Place the covered range [start, start + n*k) in the input; the end pad
  // is negative (a crop) when the last stride overhangs the input.
  SmallVector<int64_t> pads(2 * rank);
  for (size_t d = 0; d < rank; ++d) {
    pads[d] = start[d];
    pads[d + rank] = in[d] - start[d] - sizes[d] * step[d];
  }
  if (llvm::any_of(pads, [](int64_t p) { return p != 0; }))
    g = b.create<PadOp>(loc, g, Value(), pads, "constant");
  operandGrads[0] = g;
  return success();
}

LogicalResult GatherOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                 SmallVectorImpl<Value> &operandGrads) {
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  RankedTensorType dataType = typeOf(getData());
  ArrayRef<int64_t> data = dataType.getShape();
  ArrayRef<int64_t> idx = typeOf(getIndices()).getShape();
  int64_t rank = dataType.getRank(), q = static_cast<int64_t>(idx.size());
  int64_t axis = vjp::normaliseAxis(getAxis(), rank);
  // Scatter-add the gradient slices back where they were read from (an
  // index read twice collects both). scatter_nd addresses leading dims, so
  // work in a layout with the gathered axis first: the gradient as
  // [idx..., data[:axis]..., data[axis+1:]...] and the data as
  // [data[axis], data[:axis]..., data[axis+1:]...].
  int64_t gRank = typeOf(g).getRank();
  SmallVector<int64_t> gPerm;
  for (int64_t i = 0; i < q; ++i)
    gPerm.push_back(axis + i);
  for (int64_t i = 0; i < gRank; ++i)
    if (i < axis || i >= axis + q)
      gPerm.push_back(i);
  SmallVector<int64_t> movedShape{data[axis]};
  for (int64_t d = 0; d < rank; ++d)
    if (d != axis)
      movedShape.push_back(data[d]);
  if (axis > 0 && q > 0)
    g = b.create<TransposeOp>(loc, g, gPerm);
  SmallVector<int64_t> tupleShape(idx);
  tupleShape.push_back(1);
  Value tuples = vjp::reshape(b, loc, getIndices(), tupleShape);
  Value zero = vjp::zeros(
      b, loc, RankedTensorType::get(movedShape, dataType.getElementType()));
  Value grad = b.create<ScatterNDOp>(loc, zero, tuples, g, "add");
  // Back to the data's layout: data dim d < axis sits at d + 1.
  if (axis > 0) {
    SmallVector<int64_t> back;
    for (int64_t d = 0; d < rank; ++d)
      back.push_back(d < axis ? d + 1 : d == axis ? 0 : d);
    grad = b.create<TransposeOp>(loc, grad, back);
  }
  operandGrads[0] = grad;
  return success();
}

} // namespace lathe
