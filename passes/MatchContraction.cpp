// The matching half of lathe-tile-matmul: see MatchContraction.h.
#include "passes/MatchContraction.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;

namespace lathe {

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

namespace {

/// Whether `e` is built from loop dims and constants with + and *, and mod
/// or floordiv by a positive constant (a convolution window `o * stride +
/// k * dilation`, a flipped kernel, a strided window read from the input's
/// phases: `(k * d) mod s` and `o + (k * d) floordiv s`).
bool isQuasiLinear(AffineExpr e) {
  if (isa<AffineDimExpr, AffineConstantExpr>(e))
    return true;
  auto bin = dyn_cast<AffineBinaryOpExpr>(e);
  if (!bin)
    return false;
  switch (e.getKind()) {
  case AffineExprKind::Add:
  case AffineExprKind::Mul:
    return isQuasiLinear(bin.getLHS()) && isQuasiLinear(bin.getRHS());
  case AffineExprKind::Mod:
  case AffineExprKind::FloorDiv: {
    auto c = dyn_cast<AffineConstantExpr>(bin.getRHS());
    return c && c.getValue() > 0 && isQuasiLinear(bin.getLHS());
  }
  default:
    return false;
  }
}

/// Whether loop `dim` appears in `e` outside every mod and floordiv (so that
/// `e` moves by a fixed step per step of `dim`).
bool linearIn(AffineExpr e, unsigned dim) {
  auto bin = dyn_cast<AffineBinaryOpExpr>(e);
  if (!bin)
    return true;
  if (e.getKind() == AffineExprKind::Mod ||
      e.getKind() == AffineExprKind::FloorDiv)
    return !e.isFunctionOfDim(dim);
  return linearIn(bin.getLHS(), dim) && linearIn(bin.getRHS(), dim);
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
  return isQuasiLinear(last) && linearIn(last, dim)
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
} // namespace

FailureOr<Contraction> matchContraction(linalg::LinalgOp op, std::string &why) {
  auto fail = [&](const char *reason) {
    why = reason;
    return failure();
  };
  // ConvTranspose's generic has a third, shape-only input (its kernel
  // window) that the body never reads.
  unsigned numInputs = op.getNumDpsInputs();
  // The input that C starts as (lathe-fold-contraction-init) is one more.
  std::optional<unsigned> initInput;
  std::optional<double> initValue;
  if (Attribute init = op->getAttr(kContractionInitAttr)) {
    if (auto i = dyn_cast<IntegerAttr>(init))
      initInput = i.getInt();
    else if (auto f = dyn_cast<FloatAttr>(init))
      initValue = f.getValueAsDouble();
    else
      return fail("malformed initial value");
  }
  unsigned factorInputs = numInputs - (initInput ? 1 : 0);
  if (!op.hasPureBufferSemantics() || factorInputs < 2 || factorInputs > 3 ||
      op.getNumDpsInits() != 1 || (initInput && *initInput != factorInputs))
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
  if (!add || (!initInput && !initValue && body.getOperations().size() > 5))
    return fail("body is not out + a * b");
  Value outArg = body.getArgument(numInputs), product;
  if (initInput || initValue) {
    // The sum starts from select(first, init, out).
    auto select = [&](Value v) {
      auto s = v.getDefiningOp<arith::SelectOp>();
      return s && s.getFalseValue() == outArg ? s : arith::SelectOp();
    };
    arith::SelectOp start = select(add.getLhs());
    if (!start)
      start = select(add.getRhs());
    if (!start)
      return fail("body is not init-or-out + a * b");
    outArg = start.getResult();
  }
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
  if (!f0 || !f1 || *f0 == *f1 || *f0 >= factorInputs || *f1 >= factorInputs ||
      (s0 && s1))
    return fail("body is not out + a * b");
  for (unsigned i = 0; i < factorInputs; ++i)
    if (i != *f0 && i != *f1 && !body.getArgument(i).use_empty())
      return fail("body is not out + a * b");
  std::optional<double> scaleOf[3];
  scaleOf[*f0] = s0;
  scaleOf[*f1] = s1;

  Contraction c;
  c.op = op;
  c.initInput = initInput;
  c.initValue = initValue;
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
      if (!isQuasiLinear(e))
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

/// Whether `a` and `b` are the same memory: one value, or equal views of
/// the same memory (bufferization builds a new subview for each side of an
/// in-place insert_slice, and the arena planner a new view per use).
bool sameMemory(Value a, Value b) {
  if (a == b)
    return true;
  Operation *x = a.getDefiningOp(), *y = b.getDefiningOp();
  if (!x || !y || x->getName() != y->getName() || a.getType() != b.getType() ||
      x->getNumOperands() != y->getNumOperands() ||
      x->getAttrDictionary() != y->getAttrDictionary())
    return false;
  if (!isa<memref::SubViewOp, memref::ViewOp, memref::ExpandShapeOp,
           memref::CollapseShapeOp, memref::ReinterpretCastOp>(x))
    return false;
  if (!sameMemory(x->getOperand(0), y->getOperand(0)))
    return false;
  // Offsets, sizes and byte shifts: equal when they are one value or the
  // same constant.
  for (unsigned i = 1; i < x->getNumOperands(); ++i) {
    Value p = x->getOperand(i), q = y->getOperand(i);
    if (p == q)
      continue;
    auto pc = getConstantIntValue(p), qc = getConstantIntValue(q);
    if (!pc || !qc || *pc != *qc)
      return false;
  }
  return true;
}

/// A reduction over a product of two inputs indexed by plain loop dims
/// (upstream's isaContractionOpInterface refuses Gemm's alpha and broadcast
/// batch dims): the ops that get a remark when they stay scalar.
bool looksLikeContraction(linalg::LinalgOp op) {
  if (op.getNumReductionLoops() == 0 || op.getNumDpsInputs() < 2)
    return false;
  for (AffineMap map : op.getIndexingMapsArray())
    for (AffineExpr e : map.getResults())
      if (!isQuasiLinear(e))
        return false; // not a product of operands read in place
  bool product = false;
  op->getRegion(0).walk([&](Operation *inner) {
    product |= isa<arith::MulFOp, arith::MulIOp>(inner);
  });
  return product;
}

} // namespace lathe
