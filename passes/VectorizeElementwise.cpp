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

/// The copy lathe-lower-to-linalg makes of a strided convolution's input,
/// out[.., p, j] = in[.., j * s + p] (s phases, the input's last dim s
/// times the output's): its phases.
std::optional<int64_t> matchPhaseSplit(linalg::GenericOp op) {
  unsigned r = op.getNumLoops();
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 1 ||
      op.getNumDpsInits() != 1 || r < 2 || op.getNumParallelLoops() != r)
    return std::nullopt;
  Block &body = op.getRegion().front();
  if (body.getTerminator()->getOperand(0) != body.getArgument(0))
    return std::nullopt;
  auto inType = dyn_cast<MemRefType>(op.getDpsInputOperand(0)->get().getType());
  auto outType = dyn_cast<MemRefType>(op.getDpsInitOperand(0)->get().getType());
  if (!inType || !outType || !inType.hasStaticShape() ||
      !outType.hasStaticShape() || !byteSized(outType) ||
      !contiguousLastDim(inType) || !contiguousLastDim(outType) ||
      inType.getElementType() != outType.getElementType())
    return std::nullopt;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  int64_t phases = outType.getDimSize(r - 2);
  if (!maps[1].isIdentity() || maps[0].getNumResults() != r - 1 || phases < 2 ||
      inType.getShape().back() != phases * outType.getShape().back())
    return std::nullopt;
  MLIRContext *ctx = op.getContext();
  for (unsigned i = 0; i + 2 < r; ++i)
    if (maps[0].getResult(i) != getAffineDimExpr(i, ctx))
      return std::nullopt;
  AffineExpr want =
      getAffineDimExpr(r - 1, ctx) * phases + getAffineDimExpr(r - 2, ctx);
  if (simplifyAffineExpr(maps[0].getResults().back(), r, 0) !=
      simplifyAffineExpr(want, r, 0))
    return std::nullopt;
  return phases;
}

/// `lanes` elements of every phase come from `phases` contiguous vectors of
/// the input row, which shuffles separate (the lanes p, p + s, ..); LLVM's
/// loop vectoriser leaves the strided reads of the loop nest scalar.
void emitPhaseSplit(linalg::GenericOp op, int64_t phases, int64_t bits) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value in = op.getDpsInputOperand(0)->get();
  Value out = op.getDpsInitOperand(0)->get();
  auto outType = cast<MemRefType>(out.getType());
  Type et = outType.getElementType();
  int64_t lanes = std::max<int64_t>(1, bits / et.getIntOrFloatBitWidth());
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  unsigned r = ranges.size();
  int64_t width = ranges[r - 1], full = width - width % lanes;
  auto idx = [&](int64_t v) {
    return b.create<arith::ConstantIndexOp>(loc, v).getResult();
  };
  SmallVector<Value> ivs(r);
  auto loop = [&](int64_t lo, int64_t hi, int64_t step,
                  function_ref<void(Value)> body) {
    auto f = b.create<scf::ForOp>(loc, idx(lo), idx(hi), idx(step));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(f.getBody());
    body(f.getInductionVar());
  };
  auto inAt = [&](Value j, Value p) {
    SmallVector<Value> at(ivs.begin(), ivs.begin() + (r - 2));
    Value pos = b.create<arith::MulIOp>(loc, j, idx(phases));
    at.push_back(p ? b.create<arith::AddIOp>(loc, pos, p).getResult() : pos);
    return at;
  };
  auto outAt = [&](Value p, Value j) {
    SmallVector<Value> at(ivs.begin(), ivs.begin() + (r - 2));
    at.push_back(p);
    at.push_back(j);
    return at;
  };
  std::function<void(unsigned)> nest = [&](unsigned d) {
    if (d + 2 < r)
      return loop(0, ranges[d], 1, [&](Value iv) {
        ivs[d] = iv;
        nest(d + 1);
      });
    if (full > 0 && lanes > 1)
      loop(0, full, lanes, [&](Value j0) {
        Value row = b.create<vector::LoadOp>(
            loc, VectorType::get({phases * lanes}, et), in, inAt(j0, Value()));
        for (int64_t p = 0; p < phases; ++p) {
          SmallVector<int64_t> pick;
          for (int64_t e = 0; e < lanes; ++e)
            pick.push_back(p + e * phases);
          Value v = b.create<vector::ShuffleOp>(loc, row, row, pick);
          b.create<vector::StoreOp>(loc, v, out, outAt(idx(p), j0));
        }
      });
    loop(lanes > 1 ? full : 0, width, 1, [&](Value j) {
      loop(0, phases, 1, [&](Value p) {
        Value v = b.create<memref::LoadOp>(loc, in, inAt(j, p));
        b.create<memref::StoreOp>(loc, v, out, outAt(p, j));
      });
    });
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
    SmallVector<std::pair<linalg::GenericOp, int64_t>> splits;
    getOperation().walk([&](linalg::GenericOp op) {
      if (std::optional<int64_t> phases = matchPhaseSplit(op))
        splits.push_back({op, *phases});
      else if (std::optional<Elementwise> e = matchElementwise(op, bits))
        found.push_back(*e);
    });
    for (const Elementwise &e : found)
      emit(e);
    for (auto [op, phases] : splits)
      emitPhaseSplit(op, phases, bits);
  }
};

} // namespace
} // namespace lathe
