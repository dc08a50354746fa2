// lathe-tile-reductions: reductions on buffers whose innermost loop runs
// along a contiguous last dim (ReduceSum over the spatial dims, a
// convolution's bias gradient, BatchNorm's mean, variance and backward sums
// such as sum(dy * x), softmax's max and sum of exp) become vector code.
// LLVM keeps such a loop scalar: reassociating a float sum is not allowed
// to it, and the accumulator is a memory location it cannot prove
// unaliased, so each element costs a load, an add and a store in one chain.
// Here each output element gets four vector accumulators in registers over
// every reduction loop, combined and added to the output once:
//
//   for parallel dims p...             (outermost: one output element each)
//     acc[0..3] = identity
//     for the other reduction dims r...
//       for k in K step 4 * lanes:     acc[u] = acc[u] op term(x[p, r, k + u *
//       lanes], ..) tail: whole vectors, then one masked (masked lanes keep
//       acc)
//     out[p] = out[p] op reduce(acc[0] op acc[1] op acc[2] op acc[3])
//
// `term` is the body's elementwise expression applied to vectors: inputs
// indexed by the innermost loop are loaded a vector at a time, the others
// (a per-channel mean) once per step and broadcast. The summation order
// changes (as in any vectorised BLAS or framework); it is fixed at compile
// time, so results do not depend on the thread count.
#include "passes/MatchContraction.h"
#include "passes/Passes.h"
#include "passes/VectorBody.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"

#include <limits>

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_TILEREDUCTIONS
#include "passes/Passes.h.inc"

namespace {

/// How the body combines: `out = in op out`.
enum class Combine { Add, Max, Min };

/// A reduction the pass rewrites: `out = out op term(inputs)`, with `term`
/// an elementwise expression (arith and math ops) of the inputs. An input
/// indexed by the innermost loop (a reduction) must have it as its last,
/// contiguous dim: it is read a vector at a time; the others are read once
/// per vector step and broadcast. The output is indexed by parallel loops.
struct Reduction {
  linalg::GenericOp op;
  Combine combine;
  Operation *combineOp;
  Value term;
  SmallVector<int64_t> ranges;
  SmallVector<bool> alongInner; // per input: indexed by the innermost loop
};

std::optional<Reduction> matchReduction(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
      op.getNumDpsInputs() < 1)
    return std::nullopt;
  auto outType = dyn_cast<MemRefType>(op.getDpsInitOperand(0)->get().getType());
  if (!outType || !outType.hasStaticShape() ||
      !isa<FloatType>(outType.getElementType()))
    return std::nullopt;
  unsigned loops = op.getNumLoops();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (loops < 1 || loops > 8 || llvm::any_of(ranges, ShapedType::isDynamic))
    return std::nullopt;
  auto iterators = op.getIteratorTypesArray();
  if (iterators.back() != utils::IteratorType::reduction)
    return std::nullopt;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  // The output is indexed by parallel loops only: each of its elements is
  // one reduction's result.
  AffineMap outMap = maps.back();
  if (!outMap.isProjectedPermutation(/*allowZeroInResults=*/true))
    return std::nullopt;
  for (AffineExpr e : outMap.getResults())
    if (auto d = dyn_cast<AffineDimExpr>(e);
        d && iterators[d.getPosition()] != utils::IteratorType::parallel)
      return std::nullopt;
  Reduction red{op, Combine::Add, nullptr, Value(), ranges, {}};
  std::optional<SmallVector<bool>> along = classifyInputs(op, loops - 1);
  if (!along || !llvm::is_contained(*along, true))
    return std::nullopt;
  red.alongInner = *along;
  // The body: yield (out op term) or (term op out); the other ops scalar
  // arith or math on the inputs.
  Block &body = op.getRegion().front();
  Value out = body.getArguments().back();
  Operation *yield = body.getTerminator();
  Operation *combineOp = yield->getOperand(0).getDefiningOp();
  if (!combineOp || combineOp->getBlock() != &body ||
      combineOp->getNumOperands() != 2 || !out.hasOneUse())
    return std::nullopt;
  Value l = combineOp->getOperand(0), r = combineOp->getOperand(1);
  if (l != out && r != out)
    return std::nullopt;
  red.term = l == out ? r : l;
  red.combineOp = combineOp;
  if (isa<arith::AddFOp>(combineOp))
    red.combine = Combine::Add;
  else if (isa<arith::MaximumFOp>(combineOp))
    red.combine = Combine::Max;
  else if (isa<arith::MinimumFOp>(combineOp))
    red.combine = Combine::Min;
  else
    return std::nullopt;
  if (!hasVectorBody(op, combineOp))
    return std::nullopt;
  return red;
}

class ReductionEmitter {
public:
  ReductionEmitter(Reduction r, int64_t vectorBits)
      : r(r), b(r.op), loc(r.op.getLoc()) {
    out = r.op.getDpsInitOperand(0)->get();
    et = cast<MemRefType>(out.getType()).getElementType();
    lanes = vectorBits / et.getIntOrFloatBitWidth();
    vecType = VectorType::get({lanes}, et);
    outMap = r.op.getIndexingMapsArray().back();
    auto iterators = r.op.getIteratorTypesArray();
    for (unsigned d = 0; d + 1 < iterators.size(); ++d)
      (iterators[d] == utils::IteratorType::parallel ? parallel : outer)
          .push_back(d);
    inner = iterators.size() - 1;
    ivs.resize(iterators.size());
  }

  void emit() {
    identity =
        b.create<arith::ConstantOp>(loc, b.getFloatAttr(et, identityValue()));
    emitParallel(0);
    r.op->erase();
  }

private:
  double identityValue() const {
    switch (r.combine) {
    case Combine::Add:
      return 0.0;
    case Combine::Max:
      return -std::numeric_limits<double>::infinity();
    case Combine::Min:
      return std::numeric_limits<double>::infinity();
    }
    return 0.0;
  }

  Value combine(Value x, Value y) {
    switch (r.combine) {
    case Combine::Add:
      return b.create<arith::AddFOp>(loc, x, y);
    case Combine::Max:
      return b.create<arith::MaximumFOp>(loc, x, y);
    case Combine::Min:
      return b.create<arith::MinimumFOp>(loc, x, y);
    }
    return Value();
  }

  vector::CombiningKind kind() const {
    switch (r.combine) {
    case Combine::Add:
      return vector::CombiningKind::ADD;
    case Combine::Max:
      return vector::CombiningKind::MAXIMUMF;
    case Combine::Min:
      return vector::CombiningKind::MINIMUMF;
    }
    return vector::CombiningKind::ADD;
  }

  Value idx(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }

  void emitParallel(unsigned level) {
    if (level == parallel.size())
      return emitOutputElement();
    unsigned d = parallel[level];
    auto f = b.create<scf::ForOp>(loc, idx(0), idx(r.ranges[d]), idx(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(f.getBody());
    ivs[d] = f.getInductionVar();
    emitParallel(level + 1);
  }

  SmallVector<Value> outerNest(unsigned level, ValueRange acc) {
    if (level == outer.size())
      return innerLoop(acc);
    unsigned d = outer[level];
    auto f = b.create<scf::ForOp>(loc, idx(0), idx(r.ranges[d]), idx(1), acc);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(f.getBody());
    ivs[d] = f.getInductionVar();
    b.create<scf::YieldOp>(loc, outerNest(level + 1, f.getRegionIterArgs()));
    return SmallVector<Value>(f.getResults());
  }

  /// The term at innermost position k (lanes k..k+lanes), vectorised.
  Value term(Value k, Value mask) {
    ivs[inner] = k;
    return emitVectorBody(b, loc, r.op, r.alongInner, ivs, inner, lanes, mask,
                          r.combineOp, r.term);
  }

  /// acc op term(k), the lanes past the end (mask) keeping acc.
  Value accumulate(Value acc, Value k, Value mask) {
    Value next = combine(acc, term(k, mask));
    if (mask)
      next = b.create<arith::SelectOp>(loc, mask, next, acc);
    return next;
  }

  SmallVector<Value> innerLoop(ValueRange accIn) {
    SmallVector<Value> acc(accIn.begin(), accIn.end());
    int64_t K = r.ranges[inner];
    int64_t unroll = acc.size();
    int64_t step = unroll * lanes;
    int64_t kFull = K - K % step;
    if (kFull > 0) {
      auto f = b.create<scf::ForOp>(loc, idx(0), idx(kFull), idx(step), acc);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(f.getBody());
      SmallVector<Value> next;
      for (int64_t u = 0; u < unroll; ++u) {
        Value k =
            b.create<arith::AddIOp>(loc, f.getInductionVar(), idx(u * lanes));
        next.push_back(accumulate(f.getRegionIterArgs()[u], k, Value()));
      }
      b.create<scf::YieldOp>(loc, next);
      b.setInsertionPointAfter(f);
      acc.assign(f.getResults().begin(), f.getResults().end());
    }
    // The tail: whole vectors, then a masked one.
    int64_t k = kFull, u = 0;
    for (; k + lanes <= K; k += lanes, u = (u + 1) % unroll)
      acc[u] = accumulate(acc[u], idx(k), Value());
    if (k < K) {
      Value mask = b.create<vector::CreateMaskOp>(
          loc, VectorType::get({lanes}, b.getI1Type()), ValueRange{idx(K - k)});
      acc[u] = accumulate(acc[u], idx(k), mask);
    }
    return acc;
  }

  void emitOutputElement() {
    // Four accumulators hide the add latency; fewer when the innermost
    // loop is short.
    int64_t K = r.ranges[inner];
    int64_t unroll = std::clamp<int64_t>((K + lanes - 1) / lanes, 1, 4);
    Value start = b.create<vector::SplatOp>(loc, vecType, identity);
    SmallVector<Value> acc(unroll, start);
    acc = outerNest(0, acc);
    Value total = acc[0];
    for (int64_t u = 1; u < unroll; ++u)
      total = combine(total, acc[u]);
    Value reduced = b.create<vector::ReductionOp>(loc, kind(), total);
    SmallVector<Value> at = indicesAt(b, loc, outMap, ivs);
    Value old = b.create<memref::LoadOp>(loc, out, at);
    b.create<memref::StoreOp>(loc, combine(old, reduced), out, at);
  }

  Reduction r;
  OpBuilder b;
  Location loc;
  Type et;
  int64_t lanes;
  VectorType vecType;
  Value out, identity;
  AffineMap outMap;
  SmallVector<unsigned> parallel, outer;
  unsigned inner;
  SmallVector<Value> ivs;
};

struct TileReductionsPass : impl::TileReductionsBase<TileReductionsPass> {
  using TileReductionsBase::TileReductionsBase;

  void runOnOperation() override {
    int64_t bits = vectorBits > 0 ? vectorBits : hostVectorTarget().bits;
    SmallVector<Reduction> found;
    getOperation().walk([&](linalg::GenericOp op) {
      if (std::optional<Reduction> r = matchReduction(op))
        found.push_back(*r);
    });
    for (Reduction &r : found) {
      // Too short to fill one vector: the loop nest is as good.
      auto outType =
          cast<MemRefType>(r.op.getDpsInitOperand(0)->get().getType());
      if (r.ranges.back() < bits / outType.getElementTypeBitWidth())
        continue;
      ReductionEmitter(r, bits).emit();
    }
  }
};

} // namespace
} // namespace lathe
