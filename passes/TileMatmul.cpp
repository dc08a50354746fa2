// lathe-tile-matmul: contractions (matmul, batch matmul, Gemm with either
// operand transposed, Einsum products) on buffers become register-tiled
// vector code, BLIS-style:
//
//   for batch ...                      (every loop dim of C but m and n)
//     for k0 in K step kc              (cache block of the reduction)
//       for n0 in N step nr            (nr = nv vectors)
//         pack B[k0:k0+kc, n0:n0+nr] into a stack panel (zero-padded)
//         for m0 in M step mr
//           acc[mr][nv] = C tile      (vector registers)
//           for k in kc: acc[i][j] = fma(broadcast(A[m0+i, k]), panel[k, j],
//           ..) C tile = acc
//
// The packed panel makes every B read a contiguous vector load whatever B's
// layout (B^T from Gemm transB costs one transposing copy per panel,
// amortised over all of M); A is read one scalar per row and k, which is
// cheap for either layout (the backward graph's dY^T X reads A^T). When M
// is too small to amortise the copy (a fused epilogue's tile of a few rows),
// a B contiguous along n is read in place
// ("direct"), and A B^T with both contiguous along k (nn.Linear's Gemm)
// becomes dot products with vectors along k ("dot"). Shapes are static, so the
// remainders are known here: the last row tile gets fewer rows (tiles are
// balanced so that it keeps enough accumulators), and the last column tile
// masks its C loads and stores while the panel is zero-padded. Nothing is
// left scalar silently: a contraction this pass cannot handle gets a remark.
//
// Convolutions (Conv, ConvTranspose, the backward graph's dX and dW: loops
// n g f o... | c k...) take the same micro-kernel without packing: the
// output channels are the rows, the output's last spatial dim the vectors,
// the input window B is read in place (gathered with stride > 1) and the
// reduction is a nest over channels and kernel window; a tile with few
// channels also spans output rows. A kernel-sized result (dW) becomes dot
// products along the innermost reduction loop instead.
//
// Done on buffers rather than on tensors: the C tile lives in scf.for
// iter_args, so no transfer hoisting is needed, and the code is the same
// whether the contraction is a kernel of its own or the body of a fused
// epilogue tile loop (lathe-fuse-groups).
#include "passes/MatchContraction.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseSet.h"

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_TILEMATMUL
#include "passes/Passes.h.inc"

namespace {
/// Emits the tiled code of one contraction in place of its linalg op.
class MatmulEmitter {
public:
  MatmulEmitter(Contraction c, const VectorTarget &target)
      : c(c), b(c.op), loc(c.op.getLoc()) {
    et = cast<MemRefType>(c.op.getDpsInitOperand(0)->get().getType())
             .getElementType();
    lanes = target.bits / et.getIntOrFloatBitWidth();
    vecType = VectorType::get({lanes}, et);
    // nv vectors per row, mr rows: the accumulators, nv panel loads and one
    // broadcast fit the register file. AVX2: 6x16, AVX-512: 8x32 (capped:
    // more rows only add broadcasts).
    nv = 2;
    mrMax = std::clamp<int64_t>((target.registers - nv - 1) / nv, 1, 8);
    nr = nv * lanes;
    M = c.ranges[c.m];
    N = c.ranges[c.n];
    K = c.ranges[c.k];
    // The panel is kc x nr elements: 16 KiB stays in L1 beside A's rows.
    kc = std::min<int64_t>(
        K,
        std::max<int64_t>(16, 16384 / (nr * (et.getIntOrFloatBitWidth() / 8))));
    // Balanced row tiles: the last tile is never much smaller than the
    // others, so it keeps enough accumulators to hide the FMA latency.
    int64_t rowTiles = (M + mrMax - 1) / mrMax;
    mr = (M + rowTiles - 1) / rowTiles;
    // Packing costs about one copy per element of B, compute M / lanes /
    // 2 cycles per element: for few rows (a fused epilogue's tile of a
    // batch-64 layer has 8) packing would cost more than the product.
    // Then a B contiguous along n is read in place, and A B^T (both
    // contiguous along k: Gemm transB, nn.Linear) becomes dot products.
    // A reduction within one panel (K <= kc) reads B in place too: its
    // K x nr columns stay in L1 for every row tile, as a packed panel
    // would, without the copy (LSTM's recurrent product, 16 x 128 x 512:
    // 1.69 -> 1.41 ms for the model; SGEMM 256^3 ~73 -> ~80 GFLOP/s).
    if (c.aAlongK && c.bAlongK && !c.aScale && !c.bScale && M <= 32)
      strategy = Strategy::Dot;
    else if (c.bAlongN && !c.bScale && (rowTiles <= 2 || K <= kc))
      strategy = Strategy::Direct;
    // A convolution reads its input window in place (the matcher checked
    // it is contiguous along n): packing would copy each input element
    // once per kernel position.
    // dW of a convolution (kernel-sized result, the reduction over the
    // batch and the output image) would fill few lanes along n (3 of 8
    // for a 3x3 kernel): dot products along the innermost reduction loop
    // (the output columns) fill them when both factors are contiguous
    // there.
    auto filled = [&](int64_t len) {
      int64_t vectors = (len + lanes - 1) / lanes;
      return double(len) / double(vectors * lanes);
    };
    if (c.ks.size() > 1) {
      if (c.aAlongK && c.bAlongK && !c.aScale && !c.bScale &&
          filled(K) > filled(N)) {
        strategy = Strategy::Dot;
      } else {
        strategy = Strategy::Direct;
        chooseSecondRowDim(target);
      }
    }
    // Dot products: rows x cols accumulators plus one vector per column of
    // B and one of A fit the register file (AVX2: 3 x 3).
    dotRows = std::clamp<int64_t>((target.registers - 1) / 4, 1, 4);
    dotCols =
        std::clamp<int64_t>((target.registers - 2 - dotRows) / dotRows, 1, 6);
    // A convolution's dW has as many columns as the kernel is wide (3):
    // with the columns' vectors loaded first and each row's streamed, the
    // registers hold cols + 1 + rows x cols values, 4 x 3 with AVX2
    // (loads per FMA 7/12 instead of 6/9; ~7% faster on the CIFAR-style
    // CNN's dW kernels, and 52 -> 66 GFLOP/s on its 3-channel first layer).
    if (c.ks.size() > 1) {
      dotCols = std::min<int64_t>(dotCols, N);
      dotRows =
          std::clamp<int64_t>((target.registers - dotCols - 1) / dotCols, 1, 8);
    }
  }

  void emit() {
    // An empty product adds nothing to C's initial value.
    if (llvm::is_contained(c.ranges, 0)) {
      c.op->erase();
      return;
    }
    A = c.op.getDpsInputOperand(c.aInput)->get();
    B = c.op.getDpsInputOperand(c.bInput)->get();
    C = c.op.getDpsInitOperand(0)->get();
    SmallVector<AffineMap> maps = c.op.getIndexingMapsArray();
    aMap = maps[c.aInput];
    bMap = maps[c.bInput];
    cMap = maps[c.op.getNumDpsInputs()];
    // The panel lives in the function's entry block: an alloca inside a
    // loop (a fused epilogue's tile loop) would grow the stack per trip.
    {
      OpBuilder::InsertionGuard guard(b);
      auto func = c.op->getParentOfType<FunctionOpInterface>();
      b.setInsertionPointToStart(&func.getFunctionBody().front());
      panel = b.create<memref::AllocaOp>(loc, MemRefType::get({kc, nr}, et),
                                         b.getI64IntegerAttr(64));
    }
    zero = b.create<arith::ConstantOp>(loc, b.getFloatAttr(et, 0.0));
    if (c.bStepN > 1) {
      SmallVector<int32_t> offsets;
      for (int64_t e = 0; e < lanes; ++e)
        offsets.push_back(static_cast<int32_t>(e * c.bStepN));
      gatherOffsets = b.create<arith::ConstantOp>(
          loc, DenseIntElementsAttr::get(
                   VectorType::get({lanes}, b.getI32Type()), offsets));
      allLanes = b.create<vector::CreateMaskOp>(
          loc, VectorType::get({lanes}, b.getI1Type()), ValueRange{idx(lanes)});
    }
    prepareInit();
    if (c.aScale)
      aScale = b.create<arith::ConstantOp>(loc, b.getFloatAttr(et, *c.aScale));
    if (c.bScale)
      bScale = b.create<arith::ConstantOp>(loc, b.getFloatAttr(et, *c.bScale));
    emitReductionCacheBlocks();
    c.op->erase();
    if (panel && panel.use_empty())
      panel.getDefiningOp()->erase();
  }

private:
  Value idx(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }

  /// A contraction whose output starts as a value or a broadcast input
  /// (lathe-fold-contraction-init). The micro-kernels start their
  /// accumulators from it when each C tile is visited once (a convolution,
  /// or a matmul whose reduction fits one cache block) and the value is
  /// one per row tile element along n (a per-channel bias, a constant);
  /// otherwise C is set first, as the init op did, and accumulated into.
  void prepareInit() {
    if (!c.initInput && !c.initValue)
      return;
    if (c.initValue)
      initConstant =
          b.create<arith::ConstantOp>(loc, b.getFloatAttr(et, *c.initValue));
    if (c.initInput) {
      initSource = c.op.getDpsInputOperand(*c.initInput)->get();
      initMap = c.op.getIndexingMapsArray()[*c.initInput];
    }
    bool visitedOnce = c.ks.size() > 1 || K <= kc;
    if (strategy != Strategy::Dot && visitedOnce &&
        (!initSource || !initMap.isFunctionOfDim(c.n))) {
      initInRegisters = true;
      return;
    }
    // C = init, over C's dims.
    if (initConstant) {
      b.create<linalg::FillOp>(loc, initConstant, C);
      return;
    }
    SmallVector<AffineExpr> toLoops(c.ranges.size(),
                                    getAffineConstantExpr(0, b.getContext()));
    for (auto [j, e] : llvm::enumerate(cMap.getResults()))
      toLoops[cast<AffineDimExpr>(e).getPosition()] =
          getAffineDimExpr(j, b.getContext());
    int64_t rank = cMap.getNumResults();
    AffineMap fromC = AffineMap::get(rank, 0, toLoops, b.getContext());
    SmallVector<AffineMap> maps = {initMap.compose(fromC),
                                   b.getMultiDimIdentityMap(rank)};
    b.create<linalg::GenericOp>(
        loc, TypeRange(), ValueRange{initSource}, ValueRange{C}, maps,
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [](OpBuilder &nb, Location nl, ValueRange args) {
          nb.create<linalg::YieldOp>(nl, args[0]);
        });
  }

  /// The initial accumulator of a C tile vector at ivs' position.
  Value initVector() {
    if (initConstant)
      return b.create<vector::SplatOp>(loc, vecType, initConstant);
    Value v = b.create<memref::LoadOp>(loc, initSource, indices(initMap, ivs));
    return b.create<vector::BroadcastOp>(loc, vecType, v);
  }

  /// One scf.for; `body` builds the loop body at the builder's insertion
  /// point (the loop is empty when lo >= hi).
  void loop(Value lo, Value hi, int64_t step, function_ref<void(Value)> body) {
    auto f = b.create<scf::ForOp>(loc, lo, hi, idx(step));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(f.getBody());
    body(f.getInductionVar());
  }

  /// The indices of an operand at the loop position `ivs` (dims absent
  /// from the map are ignored; constant results are broadcast dims).
  SmallVector<Value> indices(AffineMap map, ArrayRef<Value> ivs) {
    SmallVector<Value> out;
    for (AffineExpr e : map.getResults())
      out.push_back(evaluate(e, ivs));
    return out;
  }

  /// An index expression (the matcher checked isQuasiLinear) in arith.
  Value evaluate(AffineExpr e, ArrayRef<Value> ivs) {
    if (auto d = dyn_cast<AffineDimExpr>(e))
      return ivs[d.getPosition()];
    if (auto k = dyn_cast<AffineConstantExpr>(e))
      return idx(k.getValue());
    auto bin = cast<AffineBinaryOpExpr>(e);
    Value l = evaluate(bin.getLHS(), ivs), r = evaluate(bin.getRHS(), ivs);
    // Indices are never negative: mod and floordiv are unsigned.
    switch (e.getKind()) {
    case AffineExprKind::Add:
      return b.create<arith::AddIOp>(loc, l, r);
    case AffineExprKind::Mod:
      return b.create<arith::RemUIOp>(loc, l, r);
    case AffineExprKind::FloorDiv:
      return b.create<arith::DivUIOp>(loc, l, r);
    default:
      return b.create<arith::MulIOp>(loc, l, r);
    }
  }

  /// Nested loops over every reduction dim carrying `acc`; `step` gives
  /// the next accumulators at the innermost position.
  SmallVector<Value>
  reductionNest(unsigned level, ValueRange acc,
                function_ref<SmallVector<Value>(ValueRange)> step,
                unsigned end) {
    if (level == end)
      return step(acc);
    unsigned d = c.ks[level];
    Value lo = idx(0), hi = idx(c.ranges[d]);
    if (blockDim && *blockDim == d) {
      lo = blockStart;
      hi = b.create<arith::AddIOp>(loc, blockStart, idx(blockSize));
    }
    auto f = b.create<scf::ForOp>(loc, lo, hi, idx(1), acc);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(f.getBody());
      ivs[d] = f.getInductionVar();
      b.create<scf::YieldOp>(
          loc, reductionNest(level + 1, f.getRegionIterArgs(), step, end));
    }
    return SmallVector<Value>(f.getResults());
  }

  /// dW of a convolution reduces over the batch and the output image for
  /// each few-element tile of the result: with the batch loop innermost the
  /// whole of both factors streams from L3 once per tile. Blocks of the
  /// outermost reduction dim (the batch) whose slices of A and B fit in L2
  /// go outermost instead, each tile adding its partial sums to C.
  void emitReductionCacheBlocks() {
    if (strategy != Strategy::Dot || c.ks.size() < 2)
      return emitBatch(0);
    // The row tiles go outside the batch dims (dW's input channels and
    // kernel rows): a tile's rows of A (the output gradient) then stay in
    // L1 while every channel's B passes, instead of all of A streaming
    // from L2 once per channel and kernel row.
    unsigned d = c.ks[0];
    int64_t range = c.ranges[d];
    auto bytes = [&](Value v) {
      auto t = cast<MemRefType>(v.getType());
      return t.getNumElements() * (t.getElementTypeBitWidth() / 8);
    };
    int64_t perUnit = (bytes(A) + bytes(B)) / range;
    int64_t target =
        std::max<int64_t>(1, kL2BlockBytes / std::max<int64_t>(perUnit, 1));
    if (target >= range)
      return emitDotProducts(/*batchInside=*/true);
    // The largest divisor of the range within the target: static bounds.
    int64_t block = target;
    while (range % block)
      --block;
    loop(idx(0), idx(range), block, [&](Value r0) {
      blockDim = d;
      blockStart = r0;
      blockSize = block;
      emitDotProducts(/*batchInside=*/true);
    });
  }

  void emitBatch(unsigned level) {
    emitBatch(level, [&] { emitReductionBlocks(); });
  }

  /// Loops over the batch dims from `level` in, `inner` at the innermost.
  void emitBatch(unsigned level, function_ref<void()> inner) {
    if (level == c.batch.size())
      return inner();
    unsigned d = c.batch[level];
    loop(idx(0), idx(c.ranges[d]), 1, [&](Value iv) {
      ivs[d] = iv;
      emitBatch(level + 1, inner);
    });
  }

  void emitReductionBlocks() {
    if (strategy == Strategy::Dot)
      return emitDotProducts();
    if (c.ks.size() > 1) {
      // Direct: no panel, so no cache blocking of the reduction.
      int64_t nFull = N - N % nr;
      if (nFull > 0)
        loop(idx(0), idx(nFull), nr,
             [&](Value n0) { emitColumnTile(Value(), Value(), n0, nr); });
      if (N % nr)
        emitColumnTile(Value(), Value(), idx(nFull), N % nr);
      return;
    }
    loop(idx(0), idx(K), kc, [&](Value k0) {
      Value kLen = b.create<arith::MinSIOp>(
          loc, idx(kc), b.create<arith::SubIOp>(loc, idx(K), k0));
      int64_t nFull = N - N % nr;
      if (nFull > 0)
        loop(idx(0), idx(nFull), nr,
             [&](Value n0) { emitColumnTile(k0, kLen, n0, nr); });
      if (N % nr)
        emitColumnTile(k0, kLen, idx(nFull), N % nr);
    });
  }

  /// Packs B[k0:k0+kLen, n0:n0+width] and runs every row tile on it.
  void emitColumnTile(Value k0, Value kLen, Value n0, int64_t width) {
    int64_t vectors = (width + lanes - 1) / lanes;
    if (strategy == Strategy::Pack)
      loop(idx(0), kLen, 1, [&](Value kk) {
        ivs[c.k] = b.create<arith::AddIOp>(loc, k0, kk);
        loop(idx(0), idx(width), 1, [&](Value j) {
          ivs[c.n] = b.create<arith::AddIOp>(loc, n0, j);
          Value v = b.create<memref::LoadOp>(loc, B, indices(bMap, ivs));
          if (bScale)
            v = b.create<arith::MulFOp>(loc, v, bScale);
          b.create<memref::StoreOp>(loc, v, panel, ValueRange{kk, j});
        });
        if (width < vectors * lanes)
          loop(idx(width), idx(vectors * lanes), 1, [&](Value j) {
            b.create<memref::StoreOp>(loc, zero, panel, ValueRange{kk, j});
          });
      });
    int64_t lastLanes = width - (vectors - 1) * lanes;
    int64_t mFull = M - M % mr;
    if (mFull > 0)
      loop(idx(0), idx(mFull), mr, [&](Value m0) {
        emitRowTile(k0, kLen, m0, n0, mr, vectors, lastLanes);
      });
    if (M % mr)
      emitRowTile(k0, kLen, idx(mFull), n0, M % mr, vectors, lastLanes);
  }

  /// C[m0:m0+rows, n0:n0+vectors*lanes] += A[m0.., k0..] * panel, the C
  /// tile in registers across the k loop.
  void emitMicroKernel(Value k0, Value kLen, Value m0, Value n0, int64_t rows,
                       int64_t vectors, int64_t lastLanes, Value r0 = Value(),
                       int64_t rRows = 1) {
    Value mask;
    if (lastLanes != lanes)
      mask = b.create<vector::CreateMaskOp>(
          loc, VectorType::get({lanes}, b.getI1Type()),
          ValueRange{idx(lastLanes)});
    Value passthru = b.create<vector::SplatOp>(loc, vecType, zero);
    auto setRow = [&](int64_t q) {
      if (r0)
        ivs[*rDim] = b.create<arith::AddIOp>(loc, r0, idx(q));
    };
    auto cIndices = [&](int64_t i, int64_t q, int64_t j) {
      ivs[c.m] = b.create<arith::AddIOp>(loc, m0, idx(i));
      setRow(q);
      ivs[c.n] = b.create<arith::AddIOp>(loc, n0, idx(j * lanes));
      return indices(cMap, ivs);
    };
    auto masked = [&](int64_t j) { return mask && j == vectors - 1; };
    SmallVector<Value> acc;
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t q = 0; q < rRows; ++q)
        for (int64_t j = 0; j < vectors; ++j) {
          SmallVector<Value> at = cIndices(i, q, j);
          if (initInRegisters) {
            acc.push_back(initVector());
            continue;
          }
          acc.push_back(
              masked(j)
                  ? b.create<vector::MaskedLoadOp>(loc, vecType, C, at, mask,
                                                   passthru)
                        .getResult()
                  : b.create<vector::LoadOp>(loc, vecType, C, at).getResult());
        }
    SmallVector<Value> rowsAt;
    for (int64_t i = 0; i < rows; ++i)
      rowsAt.push_back(b.create<arith::AddIOp>(loc, m0, idx(i)));
    // One reduction step at ivs' k position (kk: the panel row).
    auto step = [&](Value kk, ValueRange carried) {
      Location l = loc;
      SmallVector<Value> panelRow; // [q][j]
      for (int64_t q = 0; q < rRows; ++q)
        for (int64_t j = 0; j < vectors; ++j) {
          if (strategy == Strategy::Pack) {
            panelRow.push_back(b.create<vector::LoadOp>(
                l, vecType, panel, ValueRange{kk, idx(j * lanes)}));
            continue;
          }
          setRow(q);
          ivs[c.n] = b.create<arith::AddIOp>(l, n0, idx(j * lanes));
          SmallVector<Value> at = indices(bMap, ivs);
          if (c.bStepN > 1) {
            // A strided window (stride > 1): lanes gathered bStepN apart.
            panelRow.push_back(b.create<vector::GatherOp>(
                l, vecType, B, at, gatherOffsets, masked(j) ? mask : allLanes,
                passthru));
            continue;
          }
          panelRow.push_back(
              masked(j)
                  ? b.create<vector::MaskedLoadOp>(l, vecType, B, at, mask,
                                                   passthru)
                        .getResult()
                  : b.create<vector::LoadOp>(l, vecType, B, at).getResult());
        }
      SmallVector<Value> next(carried.begin(), carried.end());
      for (int64_t i = 0; i < rows; ++i) {
        ivs[c.m] = rowsAt[i];
        Value a = b.create<memref::LoadOp>(l, A, indices(aMap, ivs));
        if (aScale)
          a = b.create<arith::MulFOp>(l, a, aScale);
        Value splat = b.create<vector::BroadcastOp>(l, vecType, a);
        for (int64_t q = 0; q < rRows; ++q)
          for (int64_t j = 0; j < vectors; ++j) {
            Value &r = next[(i * rRows + q) * vectors + j];
            r = b.create<vector::FMAOp>(l, splat, panelRow[q * vectors + j], r);
          }
      }
      return next;
    };
    SmallVector<Value> result;
    if (c.ks.size() > 1) {
      result = reductionNest(
          0, acc, [&](ValueRange carried) { return step(Value(), carried); },
          c.ks.size());
    } else {
      auto kLoop = b.create<scf::ForOp>(loc, idx(0), kLen, idx(1), acc);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(kLoop.getBody());
        Value kk = kLoop.getInductionVar();
        ivs[c.k] = b.create<arith::AddIOp>(loc, k0, kk);
        b.create<scf::YieldOp>(loc, step(kk, kLoop.getRegionIterArgs()));
      }
      result.assign(kLoop.getResults().begin(), kLoop.getResults().end());
    }
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t q = 0; q < rRows; ++q)
        for (int64_t j = 0; j < vectors; ++j) {
          Value v = result[(i * rRows + q) * vectors + j];
          SmallVector<Value> at = cIndices(i, q, j);
          if (masked(j))
            b.create<vector::MaskedStoreOp>(loc, C, at, mask, v);
          else
            b.create<vector::StoreOp>(loc, v, C, at);
        }
  }

  /// A convolution with few output channels per tile (a fused epilogue's
  /// tile of one or two channels, a depthwise layer) would keep too few
  /// accumulators to hide the FMA latency: its tile also spans rows of a
  /// second C dim that B reads and A does not (the output rows), which
  /// share each broadcast weight.
  void chooseSecondRowDim(const VectorTarget &target) {
    AffineMap aMap = c.op.getIndexingMapsArray()[c.aInput];
    AffineMap bMap = c.op.getIndexingMapsArray()[c.bInput];
    int64_t vectors = std::min<int64_t>(nv, (N + lanes - 1) / lanes);
    int64_t budget = target.registers - 4; // B vectors, broadcast, spare
    int64_t want = budget / (mr * vectors);
    if (want < 2)
      return;
    for (int i = c.batch.size() - 1; i >= 0; --i) {
      unsigned d = c.batch[i];
      if (c.ranges[d] < 2 || aMap.isFunctionOfDim(d) ||
          !bMap.isFunctionOfDim(d))
        continue;
      int64_t tiles = (c.ranges[d] + want - 1) / want;
      rr = (c.ranges[d] + tiles - 1) / tiles;
      rDim = d;
      c.batch.erase(c.batch.begin() + i);
      return;
    }
  }

  /// The micro-kernels of row tile m0 (and of every tile of the second
  /// row dim, if any).
  void emitRowTile(Value k0, Value kLen, Value m0, Value n0, int64_t rows,
                   int64_t vectors, int64_t lastLanes) {
    if (!rDim)
      return emitMicroKernel(k0, kLen, m0, n0, rows, vectors, lastLanes);
    int64_t R = c.ranges[*rDim], rFull = R - R % rr;
    if (rFull > 0)
      loop(idx(0), idx(rFull), rr, [&](Value r0) {
        emitMicroKernel(k0, kLen, m0, n0, rows, vectors, lastLanes, r0, rr);
      });
    if (R % rr)
      emitMicroKernel(k0, kLen, m0, n0, rows, vectors, lastLanes, idx(rFull),
                      R % rr);
  }

  /// C[m0:m0+rows, n0:n0+cols] += A[m0.., :] . B[n0.., :]^T with vectors
  /// along k (both contiguous there), reduced across lanes at the end.
  /// With `batchInside`, the batch loops run inside each row tile.
  void emitDotProducts(bool batchInside = false) {
    int64_t rowTiles = (M + dotRows - 1) / dotRows;
    int64_t rows = (M + rowTiles - 1) / rowTiles;
    auto columnsOnly = [&](Value m0, int64_t r) {
      int64_t nFull = N - N % dotCols;
      if (nFull > 0)
        loop(idx(0), idx(nFull), dotCols,
             [&](Value n0) { emitDotTile(m0, r, n0, dotCols); });
      if (N % dotCols)
        emitDotTile(m0, r, idx(nFull), N % dotCols);
    };
    auto columns = [&](Value m0, int64_t r) {
      if (batchInside)
        emitBatch(0, [&] { columnsOnly(m0, r); });
      else
        columnsOnly(m0, r);
    };
    int64_t mFull = M - M % rows;
    if (mFull > 0)
      loop(idx(0), idx(mFull), rows, [&](Value m0) { columns(m0, rows); });
    if (M % rows)
      columns(idx(mFull), M % rows);
  }

  void emitDotTile(Value m0, int64_t rows, Value n0, int64_t cols) {
    Value zeros = b.create<vector::SplatOp>(loc, vecType, zero);
    SmallVector<Value> rowAt, colAt;
    for (int64_t i = 0; i < rows; ++i)
      rowAt.push_back(b.create<arith::AddIOp>(loc, m0, idx(i)));
    for (int64_t j = 0; j < cols; ++j)
      colAt.push_back(b.create<arith::AddIOp>(loc, n0, idx(j)));
    // One step: acc[i][j] += A[i, k:k+lanes] * B[j, k:k+lanes], masked
    // on the last, partial step.
    auto step = [&](Value k, Value mask, ValueRange acc) {
      ivs[c.k] = k;
      auto load = [&](Value base, AffineMap map) -> Value {
        SmallVector<Value> at = indices(map, ivs);
        if (mask)
          return b.create<vector::MaskedLoadOp>(loc, vecType, base, at, mask,
                                                zeros);
        return b.create<vector::LoadOp>(loc, vecType, base, at);
      };
      SmallVector<Value> bCols, next(acc.begin(), acc.end());
      for (int64_t j = 0; j < cols; ++j) {
        ivs[c.n] = colAt[j];
        bCols.push_back(load(B, bMap));
      }
      for (int64_t i = 0; i < rows; ++i) {
        ivs[c.m] = rowAt[i];
        Value aRow = load(A, aMap);
        for (int64_t j = 0; j < cols; ++j)
          next[i * cols + j] =
              b.create<vector::FMAOp>(loc, aRow, bCols[j], next[i * cols + j]);
      }
      return next;
    };
    int64_t kFull = K - K % lanes;
    // The innermost reduction loop, vectorised; a convolution's outer
    // reduction loops (channels, kernel rows) are a nest around it.
    auto innerK = [&](ValueRange accIn) {
      SmallVector<Value> acc(accIn.begin(), accIn.end());
      if (kFull > 0) {
        auto kLoop =
            b.create<scf::ForOp>(loc, idx(0), idx(kFull), idx(lanes), acc);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(kLoop.getBody());
        b.create<scf::YieldOp>(loc, step(kLoop.getInductionVar(), Value(),
                                         kLoop.getRegionIterArgs()));
        b.setInsertionPointAfter(kLoop);
        acc.assign(kLoop.getResults().begin(), kLoop.getResults().end());
      }
      if (K % lanes) {
        Value mask = b.create<vector::CreateMaskOp>(
            loc, VectorType::get({lanes}, b.getI1Type()),
            ValueRange{idx(K % lanes)});
        acc = step(idx(kFull), mask, acc);
      }
      return acc;
    };
    SmallVector<Value> acc(rows * cols, zeros);
    acc = reductionNest(0, acc, innerK, c.ks.size() - 1);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) {
        ivs[c.m] = rowAt[i];
        ivs[c.n] = colAt[j];
        SmallVector<Value> at = indices(cMap, ivs);
        Value sum = b.create<vector::ReductionOp>(
            loc, vector::CombiningKind::ADD, acc[i * cols + j]);
        Value old = b.create<memref::LoadOp>(loc, C, at);
        b.create<memref::StoreOp>(loc, b.create<arith::AddFOp>(loc, old, sum),
                                  C, at);
      }
  }

  enum class Strategy { Pack, Direct, Dot };
  Strategy strategy = Strategy::Pack;
  int64_t dotRows, dotCols;
  Contraction c;
  OpBuilder b;
  Location loc;
  Type et;
  VectorType vecType;
  int64_t lanes, nv, mrMax, nr, mr, kc, M, N, K;
  // The second row dim of a convolution's tile and its tile size.
  std::optional<unsigned> rDim;
  int64_t rr = 1;
  // The reduction dim cut into cache blocks, and the current block.
  std::optional<unsigned> blockDim;
  Value blockStart;
  int64_t blockSize = 0;
  // What a cache block of the reduction may read of A and B: half of L2.
  static constexpr int64_t kL2BlockBytes = 256 * 1024;
  Value A, B, C, panel, zero, aScale, bScale, gatherOffsets, allLanes;
  // C's initial value (lathe-fold-contraction-init).
  Value initConstant, initSource;
  AffineMap initMap;
  bool initInRegisters = false;
  AffineMap aMap, bMap, cMap;
  // Current value of each loop dim while emitting (indexed by dim).
  SmallVector<Value, 8> ivs = SmallVector<Value, 8>(8);
};

struct TileMatmulPass : impl::TileMatmulBase<TileMatmulPass> {
  using TileMatmulBase::TileMatmulBase;

  void runOnOperation() override {
    VectorTarget target = hostVectorTarget();
    if (vectorBits > 0)
      target.bits = vectorBits;
    if (vectorRegisters > 0)
      target.registers = vectorRegisters;
    SmallVector<linalg::LinalgOp> ops;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (looksLikeContraction(op))
        ops.push_back(op);
    });
    for (linalg::LinalgOp op : ops) {
      std::string why;
      FailureOr<Contraction> c = matchContraction(op, why);
      if (failed(c)) {
        op.emitRemark("lathe-tile-matmul: contraction stays scalar: ") << why;
        continue;
      }
      if (c->ranges.size() > 8) {
        op.emitRemark("lathe-tile-matmul: contraction stays scalar: more "
                      "than 8 loops");
        continue;
      }
      MatmulEmitter(*c, target).emit();
    }
  }
};

} // namespace
} // namespace lathe