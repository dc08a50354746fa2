// lathe-vectorize-max-pool: max pooling over 2x2 windows at stride 2, and
// its gradient where the windows tile the input (passes/LowerConvPool.cpp's
// generics, marked with kMaxPool2x2Attr and kMaxPoolGradAttr), become
// vector code on buffers. In the generics each output element reads its
// window through a strided map (the pool) or each input element its
// window's elements again (the gradient, whose stores then run two
// apart); LLVM keeps both scalar. Here one step takes `lanes` windows along
// a row pair:
//
//   row0 = x[n, c, 2o, 2j : 2j + 2 lanes]     (one vector of 2 lanes)
//   row1 = x[n, c, 2o + 1, 2j : 2j + 2 lanes]
//   w00, w01 = even, odd lanes of row0; w10, w11 of row1
//
// The pool: y[n, c, o, j ..] = max(max(max(max(y, w00), w01), w10), w11),
// the generic's order from its initial value. The gradient:
// best = w00, at = 0; for p in 1..3: at = w_p > best ? p : at (best too)
//   out[n, c, o, 0, 2j ..] = interleave(at == 0 ? g : 0, at == 1 ? g : 0)
//   out[n, c, o, 1, 2j ..] = interleave(at == 2 ? g : 0, at == 3 ? g : 0)
// with g = output_grad[n, c, o, j : j + lanes]: the same comparisons in the
// same order as the generic, so the same element wins (ties: the first,
// NaN never replaces). Other windows, and rows whose window count is not
// a multiple of 4, keep the generic.
#include "passes/LoweringUtils.h"
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
#define GEN_PASS_DEF_VECTORIZEMAXPOOL
#include "passes/Passes.h.inc"

namespace {

/// The generic's operands when it is a 2x2 gradient the pass handles:
/// x [N, C, O1, 2, O2, 2] (four times), g [N, C, O1, O2], out like x.
struct PoolGrad {
  Value x, g, out;
  MemRefType xType;
  int64_t lanes;
};

std::optional<PoolGrad> matchPoolGrad(linalg::GenericOp op,
                                      int64_t vectorBits) {
  auto kernel = op->getAttrOfType<DenseI64ArrayAttr>(kMaxPoolGradAttr);
  if (!kernel || kernel.asArrayRef() != ArrayRef<int64_t>{2, 2} ||
      !op.hasPureBufferSemantics() || op.getNumDpsInputs() != 5 ||
      op.getNumDpsInits() != 1)
    return std::nullopt;
  PoolGrad pg;
  pg.x = op.getDpsInputOperand(0)->get();
  pg.g = op.getDpsInputOperand(4)->get();
  pg.out = op.getDpsInitOperand(0)->get();
  pg.xType = cast<MemRefType>(pg.x.getType());
  auto outType = cast<MemRefType>(pg.out.getType());
  if (pg.xType.getRank() != 6 || !pg.xType.hasStaticShape() ||
      outType.getShape() != pg.xType.getShape())
    return std::nullopt;
  // The four window positions read the same input (lathe-parallelize may
  // have given each its own, identical, subview).
  for (unsigned i = 1; i < 4; ++i)
    if (op.getDpsInputOperand(i)->get().getType() != pg.xType)
      return std::nullopt;
  // A row (o2, k2) must be contiguous in x, out and g.
  auto rowContiguous = [](MemRefType t, int64_t dims) {
    int64_t offset;
    SmallVector<int64_t> strides;
    if (failed(getStridesAndOffset(t, strides, offset)))
      return false;
    int64_t expected = 1;
    for (int64_t i = t.getRank() - 1; i >= t.getRank() - dims; --i) {
      if (strides[i] != expected)
        return false;
      expected *= t.getDimSize(i);
    }
    return true;
  };
  if (!rowContiguous(pg.xType, 2) || !rowContiguous(outType, 2) ||
      !contiguousLastDim(cast<MemRefType>(pg.g.getType())))
    return std::nullopt;
  Type et = pg.xType.getElementType();
  if (!isa<FloatType>(et))
    return std::nullopt;
  int64_t windows = pg.xType.getDimSize(4);
  pg.lanes = vectorBits / et.getIntOrFloatBitWidth();
  while (pg.lanes > 1 && windows % pg.lanes)
    pg.lanes /= 2;
  if (pg.lanes < 4)
    return std::nullopt;
  return pg;
}

/// The loops both forms share: n, c and the window row o over `dims`, then
/// the windows j in steps of `lanes` up to `windows`. `step` builds one
/// step from (n, c, o), j and the first input column 2j; `split` gives the
/// even and odd lanes of a row of 2 x lanes inputs (the window's left and
/// right column).
struct RowPairs {
  OpBuilder &b;
  Location loc;
  int64_t lanes;
  SmallVector<int64_t> even, odd;

  RowPairs(OpBuilder &b, Location loc, int64_t lanes)
      : b(b), loc(loc), lanes(lanes) {
    for (int64_t i = 0; i < lanes; ++i) {
      even.push_back(2 * i);
      odd.push_back(2 * i + 1);
    }
  }

  Value idx(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }

  std::pair<Value, Value> split(Value row) {
    return {b.create<vector::ShuffleOp>(loc, row, row, even),
            b.create<vector::ShuffleOp>(loc, row, row, odd)};
  }

  /// `step` gets a mask of the windows left on the last step when `lanes`
  /// does not divide `windows` (null on whole steps).
  void nest(ArrayRef<int64_t> dims, int64_t windows,
            function_ref<void(ArrayRef<Value>, Value, Value, Value)> step) {
    OpBuilder::InsertionGuard guard(b);
    SmallVector<Value> ivs;
    for (int64_t d : dims) {
      auto f = b.create<scf::ForOp>(loc, idx(0), idx(d), idx(1));
      b.setInsertionPointToStart(f.getBody());
      ivs.push_back(f.getInductionVar());
    }
    int64_t full = windows - windows % lanes;
    if (full > 0) {
      OpBuilder::InsertionGuard inner(b);
      auto f = b.create<scf::ForOp>(loc, idx(0), idx(full), idx(lanes));
      b.setInsertionPointToStart(f.getBody());
      Value j = f.getInductionVar();
      step(ivs, j, b.create<arith::MulIOp>(loc, j, idx(2)), Value());
    }
    if (windows % lanes)
      step(ivs, idx(full), idx(2 * full),
           b.create<vector::CreateMaskOp>(
               loc, VectorType::get({lanes}, b.getI1Type()),
               ValueRange{idx(windows % lanes)}));
  }
};

void emit(linalg::GenericOp op, const PoolGrad &pg) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Type et = pg.xType.getElementType();
  int64_t lanes = pg.lanes;
  RowPairs rows(b, loc, lanes);
  // [N, C, O1, 2, 2 * O2]: a row pair's elements along the last dim.
  SmallVector<ReassociationIndices> collapse = {{0}, {1}, {2}, {3}, {4, 5}};
  Value x = b.create<memref::CollapseShapeOp>(loc, pg.x, collapse);
  Value out = b.create<memref::CollapseShapeOp>(loc, pg.out, collapse);
  auto vec = VectorType::get({lanes}, et);
  auto wide = VectorType::get({2 * lanes}, et);
  auto ints = VectorType::get({lanes}, b.getI32Type());
  SmallVector<int64_t> interleave;
  for (int64_t i = 0; i < lanes; ++i) {
    interleave.push_back(i);
    interleave.push_back(lanes + i);
  }
  Value zero = b.create<arith::ConstantOp>(
      loc, DenseElementsAttr::get(vec, b.getFloatAttr(et, 0)));
  SmallVector<Value> position;
  for (int64_t p = 0; p < 4; ++p)
    position.push_back(b.create<arith::ConstantOp>(
        loc, DenseElementsAttr::get(ints, b.getI32IntegerAttr(p))));

  ArrayRef<int64_t> shape = pg.xType.getShape();
  // matchPoolGrad chose lanes that divide the windows: no masked step.
  rows.nest(shape.take_front(3), shape[4],
            [&](ArrayRef<Value> ivs, Value j, Value col, Value) {
              Value w[4];
              for (int64_t r = 0; r < 2; ++r) {
                Value row = b.create<vector::LoadOp>(
                    loc, wide, x,
                    ValueRange{ivs[0], ivs[1], ivs[2], rows.idx(r), col});
                std::tie(w[2 * r], w[2 * r + 1]) = rows.split(row);
              }
              Value best = w[0], at = position[0];
              for (int64_t p = 1; p < 4; ++p) {
                Value greater = b.create<arith::CmpFOp>(
                    loc, arith::CmpFPredicate::OGT, w[p], best);
                best = b.create<arith::SelectOp>(loc, greater, w[p], best);
                at = b.create<arith::SelectOp>(loc, greater, position[p], at);
              }
              Value g = b.create<vector::LoadOp>(
                  loc, vec, pg.g, ValueRange{ivs[0], ivs[1], ivs[2], j});
              Value taken[4];
              for (int64_t p = 0; p < 4; ++p)
                taken[p] = b.create<arith::SelectOp>(
                    loc,
                    b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, at,
                                            position[p]),
                    g, zero);
              for (int64_t r = 0; r < 2; ++r) {
                Value row = b.create<vector::ShuffleOp>(
                    loc, taken[2 * r], taken[2 * r + 1], interleave);
                b.create<vector::StoreOp>(
                    loc, row, out,
                    ValueRange{ivs[0], ivs[1], ivs[2], rows.idx(r), col});
              }
            });
  op->erase();
}

/// The forward pool's generic: x [N, C, H, W] read at (2o + k1, 2j + k2),
/// a 2x2 window operand, y [N, C, O1, O2] holding the initial value.
struct Pool {
  Value x, y;
  MemRefType yType;
  int64_t lanes;
};

std::optional<Pool> matchPool(linalg::GenericOp op, int64_t vectorBits) {
  if (!op->hasAttr(kMaxPool2x2Attr) || !op.hasPureBufferSemantics() ||
      op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1)
    return std::nullopt;
  Pool p;
  p.x = op.getDpsInputOperand(0)->get();
  p.y = op.getDpsInitOperand(0)->get();
  auto xType = cast<MemRefType>(p.x.getType());
  p.yType = cast<MemRefType>(p.y.getType());
  if (xType.getRank() != 4 || p.yType.getRank() != 4 ||
      !xType.hasStaticShape() || !p.yType.hasStaticShape() ||
      !contiguousLastDim(xType) || !contiguousLastDim(p.yType) ||
      !isa<FloatType>(xType.getElementType()))
    return std::nullopt;
  // A width that the lanes do not divide ends in a masked step (LeNet's
  // 28 -> 14 and 10 -> 5 ran as scalar loops at 0.7 GFLOP/s, 30% of its run).
  int64_t windows = p.yType.getDimSize(3);
  p.lanes = vectorBits / xType.getElementTypeBitWidth();
  if (p.lanes < 4 || 2 * windows > xType.getDimSize(3))
    return std::nullopt;
  return p;
}

void emitPool(linalg::GenericOp op, const Pool &p) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Type et = p.yType.getElementType();
  RowPairs rows(b, loc, p.lanes);
  auto vec = VectorType::get({p.lanes}, et);
  auto wide = VectorType::get({2 * p.lanes}, et);
  ArrayRef<int64_t> shape = p.yType.getShape();
  rows.nest(
      shape.take_front(3), shape[3],
      [&](ArrayRef<Value> ivs, Value j, Value col, Value mask) {
        SmallVector<Value> at = {ivs[0], ivs[1], ivs[2], j};
        // A masked step reads 2 x its windows of each input row.
        Value wideMask, pass, widePass;
        if (mask) {
          Value rem = mask.getDefiningOp<vector::CreateMaskOp>().getOperand(0);
          wideMask = b.create<vector::CreateMaskOp>(
              loc, VectorType::get({2 * p.lanes}, b.getI1Type()),
              ValueRange{b.create<arith::MulIOp>(loc, rem, rows.idx(2))});
          pass = b.create<arith::ConstantOp>(
              loc, DenseElementsAttr::get(vec, b.getFloatAttr(et, 0.0)));
          widePass = b.create<arith::ConstantOp>(
              loc, DenseElementsAttr::get(wide, b.getFloatAttr(et, 0.0)));
        }
        Value acc =
            mask ? b.create<vector::MaskedLoadOp>(loc, vec, p.y, at, mask, pass)
                       .getResult()
                 : b.create<vector::LoadOp>(loc, vec, p.y, at).getResult();
        Value top = b.create<arith::MulIOp>(loc, ivs[2], rows.idx(2));
        for (int64_t r = 0; r < 2; ++r) {
          Value h = b.create<arith::AddIOp>(loc, top, rows.idx(r));
          SmallVector<Value> from = {ivs[0], ivs[1], h, col};
          Value row =
              mask ? b.create<vector::MaskedLoadOp>(loc, wide, p.x, from,
                                                    wideMask, widePass)
                         .getResult()
                   : b.create<vector::LoadOp>(loc, wide, p.x, from).getResult();
          auto [left, right] = rows.split(row);
          acc = b.create<arith::MaximumFOp>(loc, acc, left);
          acc = b.create<arith::MaximumFOp>(loc, acc, right);
        }
        if (mask)
          b.create<vector::MaskedStoreOp>(loc, p.y, at, mask, acc);
        else
          b.create<vector::StoreOp>(loc, acc, p.y, at);
      });
  op->erase();
}

struct VectorizeMaxPoolPass : impl::VectorizeMaxPoolBase<VectorizeMaxPoolPass> {
  using VectorizeMaxPoolBase::VectorizeMaxPoolBase;

  void runOnOperation() override {
    int64_t bits = vectorBits > 0 ? vectorBits : hostVectorTarget().bits;
    SmallVector<std::pair<linalg::GenericOp, PoolGrad>> grads;
    SmallVector<std::pair<linalg::GenericOp, Pool>> pools;
    getOperation().walk([&](linalg::GenericOp op) {
      if (std::optional<PoolGrad> pg = matchPoolGrad(op, bits))
        grads.push_back({op, *pg});
      else if (std::optional<Pool> p = matchPool(op, bits))
        pools.push_back({op, *p});
    });
    for (auto &[op, pg] : grads)
      emit(op, pg);
    for (auto &[op, p] : pools)
      emitPool(op, p);
  }
};

} // namespace
} // namespace lathe
