// How much arithmetic an op of the lathe dialect does: the FLOP counts that
// `lathe inspect` reports, with every formula in one place (CostModel.cpp).
//
// One FLOP is one scalar arithmetic operation (a multiply-add counts 2). The
// rules:
//   conv            2 * N * Cout * prod(out spatial) * (Cin / group) * prod(k),
//                   plus 1 per output element for the bias
//   conv_transpose  2 * N * Cin * prod(in spatial) * (Cout / group) * prod(k),
//                   plus 1 per output element for the bias
//   gemm            2 * M * N * K, plus 1 per output element for C, and 1 more
//                   per output element for alpha != 1 and for beta != 1
//   matmul          2 * batch * M * N * K (batch dims broadcast)
//   einsum          the iteration space (every label's extent multiplied)
//                   times (inputs - 1 multiplies + 1 add when summing)
//   elementwise     1 per output element, transcendentals included
//                   (cast, not: 0, they convert or flip bits)
//   reductions      1 per input element (argmax/argmin, cumsum, topk too)
//   pooling         prod(kernel) per output element; global pooling 1 per
//                   input element
//   batch_norm      2 per element (scale and shift per channel)
//   other norms     6 per element (mean 1, variance 3, normalise 2); lrn
//                   2 * size + 3; lp_norm 3
//   softmax         5 per element (max, subtract, exp, sum, divide); hardmax 1
//   recurrences     2 * seq * batch * directions * (|W| + |R|) per step
//                   matrices, plus 4 per gate element for biases and
//                   activations
//   resize, grid_sample  0 (nearest), 4 per output element (linear), 16
//                   (cubic) per interpolated dim
//   data movement   0: reshape, flatten, transpose, concat, slice, gather,
//                   scatter, pad, tile, expand, identity, dropout, constant...
// An op the model has no rule for counts 1 per output element and is
// marked `estimated`.
#ifndef LATHE_PASSES_COSTMODEL_H
#define LATHE_PASSES_COSTMODEL_H

#include <cstdint>

namespace mlir {
class Operation;
} // namespace mlir

namespace lathe {

struct OpCost {
  int64_t flops = 0;
  /// True when no rule covers the op (the count is a guess).
  bool estimated = false;
};

/// The FLOPs of one op of the lathe dialect (0 for ops of other dialects).
OpCost estimateFlops(mlir::Operation *op);

} // namespace lathe

#endif // LATHE_PASSES_COSTMODEL_H
