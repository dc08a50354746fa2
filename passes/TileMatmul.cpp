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
// is too small to amortise the copy (the 8-row tiles lathe-fuse-groups
// makes of a batch-64 layer), a B contiguous along n is read in place
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
#include "llvm/TargetParser/Host.h"

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_TILEMATMUL
#include "passes/Passes.h.inc"

namespace {

/// What the vector unit offers: from the pass options, or the host.
struct VectorTarget {
  int64_t bits = 256;
  int64_t registers = 16;
};

VectorTarget hostVectorTarget() {
  VectorTarget t;
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  auto has = [&](StringRef f) { return features.lookup(f); };
  if (has("avx512f")) {
    t.bits = 512;
    t.registers = 32;
  } else if (has("avx")) {
    t.bits = 256;
    t.registers = 16;
  } else {
    t.bits = 128;
    t.registers = 16;
  }
  return t;
}

/// A contraction C[batch, m, n] += A[.., m, .., k, ..] * B[.., k, .., n, ..],
/// as read from a linalg op on buffers.
struct Contraction {
  linalg::LinalgOp op;
  unsigned m, n, k;
  // Every reduction loop, outermost first; more than one for a convolution
  // (input channels and kernel window), where k is the innermost.
  SmallVector<unsigned> ks;
  SmallVector<unsigned> batch;          // loop dims of C other than m and n
  unsigned aInput, bInput;              // input operand numbers of A and B
  std::optional<double> aScale, bScale; // Gemm's alpha, on one factor
  SmallVector<int64_t> ranges;
  // Layouts: which loop dim runs along an operand's contiguous last dim.
  bool aAlongK = false, bAlongK = false, bAlongN = false;
  int64_t bStepN = 0; // B's elements per step of n along its last dim
};

/// Whether `e` is built from loop dims and constants with + and * only (a
/// convolution window `o * stride + k * dilation`, a flipped kernel).
bool isLinear(AffineExpr e) {
  if (isa<AffineDimExpr, AffineConstantExpr>(e))
    return true;
  auto bin = dyn_cast<AffineBinaryOpExpr>(e);
  return bin &&
         (e.getKind() == AffineExprKind::Add ||
          e.getKind() == AffineExprKind::Mul) &&
         isLinear(bin.getLHS()) && isLinear(bin.getRHS());
}

/// The coefficient of loop `dim` in the linear expression `e`.
int64_t coefficient(AffineExpr e, unsigned dim, unsigned numDims) {
  MLIRContext *ctx = e.getContext();
  auto at = [&](int64_t v) {
    SmallVector<AffineExpr> dims(numDims, getAffineConstantExpr(0, ctx));
    dims[dim] = getAffineConstantExpr(v, ctx);
    auto c = dyn_cast<AffineConstantExpr>(
        simplifyAffineExpr(e.replaceDimsAndSymbols(dims, {}), numDims, 0));
    return c ? c.getValue() : 0;
  };
  return at(1) - at(0);
}

/// How many elements `v` moves by per step of loop `dim` when only its last
/// dim (of unit stride) depends on `dim` (`dim` itself: 1, or a window
/// `dim * stride + k * dilation`: the stride); 0 otherwise.
int64_t stepAlong(Value v, AffineMap map, unsigned dim) {
  auto type = cast<MemRefType>(v.getType());
  SmallVector<int64_t> strides;
  int64_t offset;
  if (map.getNumResults() == 0 ||
      failed(getStridesAndOffset(type, strides, offset)) || strides.back() != 1)
    return 0;
  AffineExpr last = map.getResults().back();
  if (auto d = dyn_cast<AffineDimExpr>(last))
    return d.getPosition() == dim ? 1 : 0;
  for (AffineExpr e : map.getResults().drop_back())
    if (e.isFunctionOfDim(dim))
      return 0;
  return isLinear(last)
             ? std::max<int64_t>(0, coefficient(last, dim, map.getNumDims()))
             : 0;
}

/// Whether `v`'s last dim has unit stride and moves by one with loop `dim`.
bool contiguousAlong(Value v, AffineMap map, unsigned dim) {
  return stepAlong(v, map, dim) == 1;
}

/// `v` is a block argument of `body`, possibly times a float constant.
std::optional<unsigned> factorArg(Value v, Block &body,
                                  std::optional<double> &scale) {
  if (auto arg = dyn_cast<BlockArgument>(v))
    return arg.getOwner() == &body ? std::optional(arg.getArgNumber())
                                   : std::nullopt;
  auto mul = v.getDefiningOp<arith::MulFOp>();
  if (!mul)
    return std::nullopt;
  for (int i = 0; i < 2; ++i) {
    auto arg = dyn_cast<BlockArgument>(mul->getOperand(i));
    FloatAttr c;
    if (arg && arg.getOwner() == &body &&
        matchPattern(mul->getOperand(1 - i), m_Constant(&c))) {
      scale = c.getValueAsDouble();
      return arg.getArgNumber();
    }
  }
  return std::nullopt;
}

/// Why `op` is not a contraction this pass can tile, or the contraction.
FailureOr<Contraction> matchContraction(linalg::LinalgOp op, std::string &why) {
  auto fail = [&](const char *reason) {
    why = reason;
    return failure();
  };
  // ConvTranspose's generic has a third, shape-only input (its kernel
  // window) that the body never reads.
  unsigned numInputs = op.getNumDpsInputs();
  if (!op.hasPureBufferSemantics() || numInputs < 2 || numInputs > 3 ||
      op.getNumDpsInits() != 1)
    return fail("not two inputs and one output buffer");
  Type et = op.getDpsInitOperand(0)->get().getType();
  et = cast<MemRefType>(et).getElementType();
  if (!et.isF32() && !et.isF64())
    return fail("element type is not f32 or f64");
  for (OpOperand *in : op.getDpsInputOperands())
    if (cast<MemRefType>(in->get().getType()).getElementType() != et)
      return fail("operands of mixed element types");
  if (op.getNumReductionLoops() < 1)
    return fail("no reduction loop");

  // Body: out + f0 * f1, each factor an input (one may carry a constant).
  Block &body = op->getRegion(0).front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield->getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add || body.getOperations().size() > 5)
    return fail("body is not out + a * b");
  Value outArg = body.getArgument(numInputs), product;
  if (add.getLhs() == outArg)
    product = add.getRhs();
  else if (add.getRhs() == outArg)
    product = add.getLhs();
  auto mul = product ? product.getDefiningOp<arith::MulFOp>() : nullptr;
  if (!mul)
    return fail("body is not out + a * b");
  std::optional<double> s0, s1;
  auto f0 = factorArg(mul.getLhs(), body, s0);
  auto f1 = factorArg(mul.getRhs(), body, s1);
  if (!f0 || !f1 || *f0 == *f1 || *f0 >= numInputs || *f1 >= numInputs ||
      (s0 && s1))
    return fail("body is not out + a * b");
  for (unsigned i = 0; i < numInputs; ++i)
    if (i != *f0 && i != *f1 && !body.getArgument(i).use_empty())
      return fail("body is not out + a * b");
  std::optional<double> scaleOf[3];
  scaleOf[*f0] = s0;
  scaleOf[*f1] = s1;

  Contraction c;
  c.op = op;
  c.ranges = op.getStaticLoopRanges();
  if (llvm::any_of(c.ranges, ShapedType::isDynamic))
    return fail("dynamic loop range");
  SmallVector<utils::IteratorType> iters = op.getIteratorTypesArray();
  for (unsigned d = 0; d < iters.size(); ++d)
    if (iters[d] == utils::IteratorType::reduction) {
      c.k = d;
      c.ks.push_back(d);
    }
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  // The factors may read through windows (convolutions); C may not.
  for (AffineMap map : maps)
    for (AffineExpr e : map.getResults())
      if (!isLinear(e))
        return fail("an operand is not indexed by sums of loop dims");
  AffineMap cMap = maps[numInputs];
  if (cMap.getNumResults() < 2)
    return fail("result has rank < 2 (a matrix-vector product)");
  SmallVector<unsigned> cDims;
  for (AffineExpr e : cMap.getResults()) {
    auto d = dyn_cast<AffineDimExpr>(e);
    if (!d)
      return fail("result is not indexed by plain loop dims");
    cDims.push_back(d.getPosition());
  }
  if (cDims.size() + c.ks.size() != iters.size() ||
      llvm::SmallDenseSet<unsigned>(cDims.begin(), cDims.end()).size() !=
          cDims.size())
    return fail("result does not use every parallel loop");
  c.n = cDims.back();
  auto uses = [](AffineMap map, unsigned dim) {
    return map.isFunctionOfDim(dim);
  };
  auto usesK = [&](AffineMap map) {
    return llvm::any_of(c.ks, [&](unsigned k) { return uses(map, k); });
  };
  // m: the dim of C above n that one factor reads and the other does not;
  // a matmul's row dim, a convolution's output channels (its rows and
  // columns are both read by the input window).
  unsigned factors[2] = {*f0, *f1};
  bool found = false;
  for (int i = cDims.size() - 2; i >= 0 && !found; --i) {
    c.m = cDims[i];
    for (unsigned j = 0; j < 2; ++j) {
      AffineMap a = maps[factors[j]], bm = maps[factors[1 - j]];
      if (uses(a, c.m) && !uses(a, c.n) && usesK(a) && uses(bm, c.n) &&
          !uses(bm, c.m) && usesK(bm)) {
        c.aInput = factors[j];
        c.bInput = factors[1 - j];
        found = true;
        break;
      }
    }
  }
  if (!found)
    return fail("an input is not indexed by (m, k) or (k, n)");
  for (unsigned d : cDims)
    if (d != c.m && d != c.n)
      c.batch.push_back(d);
  c.aScale = scaleOf[c.aInput];
  c.bScale = scaleOf[c.bInput];
  Value a = op.getDpsInputOperand(c.aInput)->get();
  Value b = op.getDpsInputOperand(c.bInput)->get();
  c.aAlongK = contiguousAlong(a, maps[c.aInput], c.k);
  c.bAlongK = contiguousAlong(b, maps[c.bInput], c.k);
  c.bAlongN = contiguousAlong(b, maps[c.bInput], c.n);
  c.bStepN = stepAlong(b, maps[c.bInput], c.n);
  // Several reduction loops (a convolution) are read in place, B as
  // vectors along n: a window along C's last dim, contiguous (stride 1)
  // or gathered (stride > 1).
  if (c.ks.size() > 1 && c.bStepN < 1)
    return fail("several reduction loops and the input window does not "
                "move along the result's last dim");

  // C's rows are loaded and stored as vectors along n.
  auto cType = cast<MemRefType>(op.getDpsInitOperand(0)->get().getType());
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(getStridesAndOffset(cType, strides, offset)) ||
      strides.back() != 1)
    return fail("the result's last dim is not contiguous");
  return c;
}

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
    if (c.aAlongK && c.bAlongK && !c.aScale && !c.bScale && M <= 32)
      strategy = Strategy::Dot;
    else if (c.bAlongN && !c.bScale && rowTiles <= 2)
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
    // Dot products: rows x cols accumulators plus one vector per row of A
    // and one of B fit the register file (AVX2: 3 x 3).
    dotRows = std::clamp<int64_t>((target.registers - 1) / 4, 1, 4);
    dotCols =
        std::clamp<int64_t>((target.registers - 2 - dotRows) / dotRows, 1, 6);
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
    if (c.aScale)
      aScale = b.create<arith::ConstantOp>(loc, b.getFloatAttr(et, *c.aScale));
    if (c.bScale)
      bScale = b.create<arith::ConstantOp>(loc, b.getFloatAttr(et, *c.bScale));
    emitBatch(0);
    c.op->erase();
    if (panel && panel.use_empty())
      panel.getDefiningOp()->erase();
  }

private:
  Value idx(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }

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

  /// A linear index expression (the matcher checked isLinear) in arith.
  Value evaluate(AffineExpr e, ArrayRef<Value> ivs) {
    if (auto d = dyn_cast<AffineDimExpr>(e))
      return ivs[d.getPosition()];
    if (auto k = dyn_cast<AffineConstantExpr>(e))
      return idx(k.getValue());
    auto bin = cast<AffineBinaryOpExpr>(e);
    Value l = evaluate(bin.getLHS(), ivs), r = evaluate(bin.getRHS(), ivs);
    if (e.getKind() == AffineExprKind::Add)
      return b.create<arith::AddIOp>(loc, l, r);
    return b.create<arith::MulIOp>(loc, l, r);
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
    auto f = b.create<scf::ForOp>(loc, idx(0), idx(c.ranges[d]), idx(1), acc);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(f.getBody());
      ivs[d] = f.getInductionVar();
      b.create<scf::YieldOp>(
          loc, reductionNest(level + 1, f.getRegionIterArgs(), step, end));
    }
    return SmallVector<Value>(f.getResults());
  }

  void emitBatch(unsigned level) {
    if (level == c.batch.size())
      return emitReductionBlocks();
    unsigned d = c.batch[level];
    loop(idx(0), idx(c.ranges[d]), 1, [&](Value iv) {
      ivs[d] = iv;
      emitBatch(level + 1);
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
  void emitDotProducts() {
    int64_t rowTiles = (M + dotRows - 1) / dotRows;
    int64_t rows = (M + rowTiles - 1) / rowTiles;
    auto columns = [&](Value m0, int64_t r) {
      int64_t nFull = N - N % dotCols;
      if (nFull > 0)
        loop(idx(0), idx(nFull), dotCols,
             [&](Value n0) { emitDotTile(m0, r, n0, dotCols); });
      if (N % dotCols)
        emitDotTile(m0, r, idx(nFull), N % dotCols);
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
      SmallVector<Value> aRows, next(acc.begin(), acc.end());
      for (int64_t i = 0; i < rows; ++i) {
        ivs[c.m] = rowAt[i];
        aRows.push_back(load(A, aMap));
      }
      for (int64_t j = 0; j < cols; ++j) {
        ivs[c.n] = colAt[j];
        Value bCol = load(B, bMap);
        for (int64_t i = 0; i < rows; ++i)
          next[i * cols + j] =
              b.create<vector::FMAOp>(loc, aRows[i], bCol, next[i * cols + j]);
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
  Value A, B, C, panel, zero, aScale, bScale, gatherOffsets, allLanes;
  AffineMap aMap, bMap, cMap;
  // Current value of each loop dim while emitting (indexed by dim).
  SmallVector<Value, 8> ivs = SmallVector<Value, 8>(8);
};

/// A reduction over a product of two inputs indexed by plain loop dims
/// (upstream's isaContractionOpInterface refuses Gemm's alpha and broadcast
/// batch dims): the ops that get a remark when they stay scalar.
bool looksLikeContraction(linalg::LinalgOp op) {
  if (op.getNumReductionLoops() == 0 || op.getNumDpsInputs() < 2)
    return false;
  for (AffineMap map : op.getIndexingMapsArray())
    for (AffineExpr e : map.getResults())
      if (!isLinear(e))
        return false; // a modulo or division: not a product of operands
  bool product = false;
  op->getRegion(0).walk([&](Operation *inner) {
    product |= isa<arith::MulFOp, arith::MulIOp>(inner);
  });
  return product;
}

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
