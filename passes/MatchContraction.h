// What lathe-tile-matmul (passes/TileMatmul.cpp) tiles: the vector unit it
// targets and the contractions it recognises in linalg ops on buffers
// (passes/MatchContraction.cpp), kept apart from the code it emits.
#ifndef LATHE_PASSES_MATCHCONTRACTION_H
#define LATHE_PASSES_MATCHCONTRACTION_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>
#include <string>

namespace lathe {

/// What the vector unit offers: from the pass options, or the host.
struct VectorTarget {
  int64_t bits = 256;
  int64_t registers = 16;
};

/// The host's vector width and register count.
VectorTarget hostVectorTarget();

/// A contraction C[batch, m, n] += A[.., m, .., k, ..] * B[.., k, .., n, ..],
/// as read from a linalg op on buffers.
struct Contraction {
  mlir::linalg::LinalgOp op;
  unsigned m, n, k;
  // Every reduction loop, outermost first; more than one for a convolution
  // (input channels and kernel window), where k is the innermost.
  llvm::SmallVector<unsigned> ks;
  llvm::SmallVector<unsigned> batch;    // loop dims of C other than m and n
  unsigned aInput, bInput;              // input operand numbers of A and B
  std::optional<double> aScale, bScale; // Gemm's alpha, on one factor
  llvm::SmallVector<int64_t> ranges;
  // Layouts: which loop dim runs along an operand's contiguous last dim.
  bool aAlongK = false, bAlongK = false, bAlongN = false;
  int64_t bStepN = 0; // B's elements per step of n along its last dim
  // C's initial value instead of its contents (kContractionInitAttr).
  std::optional<unsigned> initInput;
  std::optional<double> initValue;
};

/// Reads `op` as a contraction the micro-kernel handles, or says in `why`
/// what it cannot handle.
mlir::FailureOr<Contraction> matchContraction(mlir::linalg::LinalgOp op,
                                              std::string &why);

/// Whether `a` and `b` are the same memory: one value, or equal views of
/// the same memory (bufferization builds a new subview for each side of an
/// in-place insert_slice, and the arena planner a new view per use).
bool sameMemory(mlir::Value a, mlir::Value b);

/// On a contraction's linalg.generic (lathe-fold-contraction-init): its
/// output starts as this value (a FloatAttr) or as this input operand (an
/// IntegerAttr, read through its indexing map) instead of its previous
/// contents. The body says so too: it adds the product to
/// `select(first, init, out)`, `first` being "every reduction index is 0".
inline constexpr llvm::StringLiteral kContractionInitAttr =
    "lathe.contraction_init";

/// A reduction over a product of two inputs indexed by plain loop dims
/// (upstream's isaContractionOpInterface refuses Gemm's alpha and broadcast
/// batch dims): the ops that get a remark when they stay scalar.
bool looksLikeContraction(mlir::linalg::LinalgOp op);

} // namespace lathe

#endif // LATHE_PASSES_MATCHCONTRACTION_H
