// Vector-Jacobian products of the scans and index-driven data movement ops
// (DifferentiableOpInterface, ir/LatheAutodiff.td): CumSum, TopK, the
// element and N-d gathers and scatters, Trilu and ReverseSequence. Each
// sends the gradient back along the same indices; indices, sequence lengths
// and Trilu's k get none.
#include "ir/VJPUtils.h"

using namespace mlir;

namespace lathe {

using vjp::isFloatTensor;
using vjp::typeOf;

LogicalResult CumSumOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                 SmallVectorImpl<Value> &operandGrads) {
  // y_i sums x_j over j <= i (or j < i, or from the end): x_j reaches every
  // y_i whose range holds j, the same relation seen from the other end, so
  // the gradient is the cumulative sum of g in the opposite direction with
  // the same exclusivity.
  if (Value g = vjp::start(*this, resultGrads, operandGrads))
    operandGrads[0] = b.create<CumSumOp>(getLoc(), g, getAxis(), getExclusive(),
                                         !getReverse());
  return success();
}

LogicalResult TopKOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  // Each selected value came from its index along the axis (distinct
  // within a row): scatter the gradient there, zero elsewhere.
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  Value zero = vjp::zeros(b, loc, typeOf(getInput()));
  operandGrads[0] =
      b.create<ScatterElementsOp>(loc, zero, getIndices(), g, getAxis(), "add");
  return success();
}

LogicalResult GatherElementsOp::buildVJP(OpBuilder &b,
                                         ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  // Scatter-add: an element read several times collects every read.
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  Value zero = vjp::zeros(b, loc, typeOf(getData()));
  operandGrads[0] =
      b.create<ScatterElementsOp>(loc, zero, getIndices(), g, getAxis(), "add");
  return success();
}

LogicalResult GatherNDOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  Value indices = getIndices();
  int64_t batchDims = getBatchDims();
  if (batchDims > 0) {
    // scatter_nd has no batch dims: prefix every index tuple with its batch
    // coordinates (a constant, the shapes being static), which addresses
    // the same elements of the whole data tensor.
    ArrayRef<int64_t> idx = typeOf(indices).getShape();
    SmallVector<int64_t> coordShape(idx.drop_back());
    coordShape.push_back(batchDims);
    auto coordType = RankedTensorType::get(coordShape, b.getI64Type());
    SmallVector<int64_t> coords;
    coords.reserve(coordType.getNumElements());
    int64_t tuples = coordType.getNumElements() / batchDims;
    for (int64_t t = 0; t < tuples; ++t) {
      // Row-major position t over idx[:-1]; its first batchDims digits.
      SmallVector<int64_t> digits(idx.size() - 1);
      int64_t rest = t;
      for (int64_t d = static_cast<int64_t>(idx.size()) - 2; d >= 0; --d) {
        digits[d] = rest % idx[d];
        rest /= idx[d];
      }
      coords.append(digits.begin(), digits.begin() + batchDims);
    }
    Value prefix = b.create<ConstantOp>(
        loc, DenseElementsAttr::get(coordType, ArrayRef<int64_t>(coords)));
    if (typeOf(indices).getElementType() != b.getI64Type())
      indices = b.create<CastOp>(loc, indices, TypeAttr::get(b.getI64Type()));
    int64_t last = static_cast<int64_t>(idx.size()) - 1;
    indices = b.create<ConcatOp>(loc, ValueRange{prefix, indices}, last);
  }
  Value zero = vjp::zeros(b, loc, typeOf(getData()));
  operandGrads[0] = b.create<ScatterNDOp>(loc, zero, indices, g, "add");
  return success();
}

/// Scatters with reduction none (the updates overwrite) or add (they add
/// up): the data's gradient is g with the overwritten elements zeroed
/// (none) or g itself (add); the updates' gradient is g gathered at their
/// targets. With duplicate indices and reduction none every duplicate gets
/// the gradient of the element, as PyTorch's scatter does.
template <typename ScatterOp, typename GatherOp, typename... Axis>
static LogicalResult
buildScatterVJP(OpBuilder &b, ScatterOp op, ArrayRef<Value> resultGrads,
                SmallVectorImpl<Value> &operandGrads, Axis... axis) {
  Value g = vjp::start(op, resultGrads, operandGrads);
  if (!g)
    return success();
  StringRef reduction = op.getReduction();
  if (reduction != "none" && reduction != "add")
    return op.emitError("no gradient for ")
           << op->getName() << " with reduction " << reduction
           << " (only none and add)";
  Location loc = op.getLoc();
  Value updates = op.getUpdates();
  if (isFloatTensor(op.getData()))
    operandGrads[0] =
        reduction == "add"
            ? g
            : b.create<ScatterOp>(loc, g, op.getIndices(),
                                  vjp::zeros(b, loc, typeOf(updates)), axis...,
                                  "none")
                  .getResult();
  if (isFloatTensor(updates))
    operandGrads[2] = b.create<GatherOp>(loc, g, op.getIndices(), axis...);
  return success();
}

LogicalResult
ScatterElementsOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                            SmallVectorImpl<Value> &operandGrads) {
  return buildScatterVJP<ScatterElementsOp, GatherElementsOp>(
      b, *this, resultGrads, operandGrads, getAxis());
}

LogicalResult ScatterNDOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  // gather_nd with batch_dims 0 reads exactly the slices scatter_nd wrote.
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  StringRef reduction = getReduction();
  if (reduction != "none" && reduction != "add")
    return emitError("no gradient for lathe.scatter_nd with reduction ")
           << reduction << " (only none and add)";
  Location loc = getLoc();
  Value updates = getUpdates();
  if (isFloatTensor(getData()))
    operandGrads[0] =
        reduction == "add"
            ? g
            : b.create<ScatterNDOp>(loc, g, getIndices(),
                                    vjp::zeros(b, loc, typeOf(updates)), "none")
                  .getResult();
  if (isFloatTensor(updates))
    operandGrads[2] = b.create<GatherNDOp>(loc, g, getIndices(), 0);
  return success();
}

LogicalResult TriluOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                SmallVectorImpl<Value> &operandGrads) {
  // The kept triangle passes the gradient, the zeroed one does not: the
  // same Trilu of g.
  if (Value g = vjp::start(*this, resultGrads, operandGrads))
    operandGrads[0] =
        b.create<TriluOp>(getLoc(), g, getKValue(), getUpper(), getK());
  return success();
}

LogicalResult
ReverseSequenceOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                            SmallVectorImpl<Value> &operandGrads) {
  // A permutation that is its own inverse.
  if (Value g = vjp::start(*this, resultGrads, operandGrads))
    operandGrads[0] = b.create<ReverseSequenceOp>(
        getLoc(), g, getSeqLens(), getBatchAxis(), getTimeAxis());
  return success();
}

} // namespace lathe
