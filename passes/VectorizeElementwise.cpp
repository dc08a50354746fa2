// lathe-vectorize-elementwise: elementwise linalg.generic ops on buffers
// (every loop parallel, one result written along its contiguous last dim)
// become vector code along the innermost loop:
//
//   for the outer dims p...
//     for k in K step lanes:   out[p, k..] = body(in[p, k..] or broadcast
//     in[p]) tail: one masked step
//
// LLVM's loop vectoriser leaves many of these scalar: every buffer is a
// view of the one arena, so it cannot prove that the output does not
// alias an input, and an input read per channel (BatchNorm's mean and
// scale, a bias) is reloaded for every element. Here such inputs are read
// once per vector step and broadcast.
#include "passes/MatchContraction.h"
#include "passes/Passes.h"
#include "passes/VectorBody.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_VECTORIZEELEMENTWISE
#include "passes/Passes.h.inc"

namespace {

struct Elementwise {
  linalg::GenericOp op;
  SmallVector<bool> alongInner;
  SmallVector<int64_t> ranges;
  int64_t lanes;
};

std::optional<Elementwise> matchElementwise(linalg::GenericOp op,
                                            int64_t vectorBits) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
      op.getNumLoops() < 1 || op.getNumLoops() > 8 ||
      op.getNumParallelLoops() != op.getNumLoops())
    return std::nullopt;
  unsigned inner = op.getNumLoops() - 1;
  OpOperand *init = op.getDpsInitOperand(0);
  auto outType = dyn_cast<MemRefType>(init->get().getType());
  AffineMap outMap = op.getMatchingIndexingMap(init);
  Block &body = op.getRegion().front();
  // The output is written, not read (no accumulation), along its last dim.
  if (!outType || !outType.hasStaticShape() || !byteSized(outType) ||
      !outMap.isPermutation() ||
      outMap.getResults().back() != getAffineDimExpr(inner, op.getContext()) ||
      !contiguousLastDim(outType) || !body.getArguments().back().use_empty())
    return std::nullopt;
  std::optional<SmallVector<bool>> along = classifyInputs(op, inner);
  if (!along || !hasVectorBody(op, nullptr))
    return std::nullopt;
  Elementwise e{op, *along, op.getStaticLoopRanges(), 0};
  e.lanes = vectorBits / outType.getElementTypeBitWidth();
  // Too short to fill one vector: the loop nest is as good.
  if (e.lanes < 2 || e.ranges[inner] < e.lanes)
    return std::nullopt;
  return e;
}

void emit(const Elementwise &e) {
  linalg::GenericOp op = e.op;
  OpBuilder b(op);
  Location loc = op.getLoc();
  unsigned inner = op.getNumLoops() - 1;
  OpOperand *init = op.getDpsInitOperand(0);
  Value out = init->get();
  AffineMap outMap = op.getMatchingIndexingMap(init);
  Value yielded = op.getRegion().front().getTerminator()->getOperand(0);
  auto idx = [&](int64_t v) {
    return b.create<arith::ConstantIndexOp>(loc, v).getResult();
  };
  SmallVector<Value> ivs(op.getNumLoops());
  auto store = [&](Value k, Value mask) {
    ivs[inner] = k;
    Value v = emitVectorBody(b, loc, op, e.alongInner, ivs, inner, e.lanes,
                             mask, nullptr, yielded);
    SmallVector<Value> at = indicesAt(b, loc, outMap, ivs);
    if (mask)
      b.create<vector::MaskedStoreOp>(loc, out, at, mask, v);
    else
      b.create<vector::StoreOp>(loc, v, out, at);
  };
  std::function<void(unsigned)> nest = [&](unsigned d) {
    if (d == inner) {
      int64_t K = e.ranges[inner], kFull = K - K % e.lanes;
      auto f = b.create<scf::ForOp>(loc, idx(0), idx(kFull), idx(e.lanes));
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(f.getBody());
        store(f.getInductionVar(), Value());
      }
      if (K % e.lanes)
        store(idx(kFull), b.create<vector::CreateMaskOp>(
                              loc, VectorType::get({e.lanes}, b.getI1Type()),
                              ValueRange{idx(K % e.lanes)}));
      return;
    }
    auto f = b.create<scf::ForOp>(loc, idx(0), idx(e.ranges[d]), idx(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(f.getBody());
    ivs[d] = f.getInductionVar();
    nest(d + 1);
  };
  nest(0);
  op->erase();
}

struct VectorizeElementwisePass
    : impl::VectorizeElementwiseBase<VectorizeElementwisePass> {
  using VectorizeElementwiseBase::VectorizeElementwiseBase;

  void runOnOperation() override {
    int64_t bits = vectorBits > 0 ? vectorBits : hostVectorTarget().bits;
    SmallVector<Elementwise> found;
    getOperation().walk([&](linalg::GenericOp op) {
      if (std::optional<Elementwise> e = matchElementwise(op, bits))
        found.push_back(*e);
    });
    for (const Elementwise &e : found)
      emit(e);
  }
};

} // namespace
} // namespace lathe
