// Vector-Jacobian product of lathe.einsum (DifferentiableOpInterface,
// ir/LatheAutodiff.td), itself written as an einsum.
#include "ir/VJPUtils.h"

#include <algorithm>

using namespace mlir;

namespace lathe {

using vjp::isFloatTensor;
using vjp::typeOf;

LogicalResult EinsumOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                 SmallVectorImpl<Value> &operandGrads) {
  // y[O] = sum over the labels not in O of prod_j x_j[L_j], so the
  // derivative of y[O] with respect to one element x_k[t] is the product of
  // the other operands, summed over the labels outside O, wherever t agrees
  // with the label assignment. Hence
  //   dL/dx_k[L_k] = sum over the labels outside L_k of g[O] prod_{j!=k} x_j,
  // an einsum of g with the other operands whose output labels are L_k.
  // Two things keep L_k from being a valid einsum output as it stands:
  // - a label repeated in L_k (x_k enters through its diagonal only): each
  //   repeat gets a fresh label tied to the first by an identity matrix
  //   operand, so the off-diagonal elements get exactly zero and the
  //   diagonal the gradient above;
  // - a label found in no other operand and not in O (x_k is summed over it
  //   alone): every element along it has the same gradient, supplied as a
  //   ones vector operand that carries the label.
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  Type et = typeOf(g).getElementType();
  ValueRange inputs = getInputs();
  ArrayRef<int64_t> labels = getLabels(), outLabels = getOutputLabels();

  // Each operand's labels, and every label's size.
  SmallVector<ArrayRef<int64_t>> operandLabels;
  llvm::DenseMap<int64_t, int64_t> sizes;
  int64_t nextLabel = 0;
  size_t pos = 0;
  for (Value v : inputs) {
    ArrayRef<int64_t> shape = typeOf(v).getShape();
    operandLabels.push_back(labels.slice(pos, shape.size()));
    for (size_t d = 0; d < shape.size(); ++d) {
      sizes[labels[pos + d]] = shape[d];
      nextLabel = std::max(nextLabel, labels[pos + d] + 1);
    }
    pos += shape.size();
  }
  for (int64_t l : outLabels)
    nextLabel = std::max(nextLabel, l + 1);

  for (size_t k = 0; k < inputs.size(); ++k) {
    if (!isFloatTensor(inputs[k]))
      continue;
    SmallVector<Value> operands{g};
    SmallVector<int64_t> gradLabels(outLabels);
    llvm::DenseSet<int64_t> available(outLabels.begin(), outLabels.end());
    for (size_t j = 0; j < inputs.size(); ++j) {
      if (j == k)
        continue;
      operands.push_back(inputs[j]);
      gradLabels.append(operandLabels[j].begin(), operandLabels[j].end());
      available.insert(operandLabels[j].begin(), operandLabels[j].end());
    }
    SmallVector<int64_t> resultLabels;
    llvm::DenseSet<int64_t> seen;
    for (int64_t l : operandLabels[k]) {
      int64_t n = sizes[l];
      if (seen.insert(l).second) {
        resultLabels.push_back(l);
        if (available.contains(l))
          continue;
        auto type = RankedTensorType::get({n}, et);
        operands.push_back(b.create<ConstantOp>(
            loc, DenseElementsAttr::get(type, b.getFloatAttr(et, 1.0))));
        gradLabels.push_back(l);
        continue;
      }
      // A repeat: a fresh label on the diagonal of an n x n identity.
      int64_t fresh = nextLabel++;
      resultLabels.push_back(fresh);
      SmallVector<Attribute> eye(n * n, b.getFloatAttr(et, 0.0));
      for (int64_t i = 0; i < n; ++i)
        eye[i * n + i] = b.getFloatAttr(et, 1.0);
      operands.push_back(b.create<ConstantOp>(
          loc, DenseElementsAttr::get(RankedTensorType::get({n, n}, et), eye)));
      gradLabels.append({l, fresh});
    }
    operandGrads[k] =
        b.create<EinsumOp>(loc, operands, gradLabels, resultLabels);
  }
  return success();
}

} // namespace lathe
