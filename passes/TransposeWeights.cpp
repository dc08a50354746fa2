// lathe-transpose-weights: a contraction's constant factor stored along the
// output's columns. Gemm with transB (every nn.Linear) and the recurrent
// layers multiply by W^T, a factor contiguous along the reduction: with more
// than a few rows, lathe-tile-matmul would have to take dot products (a
// horizontal reduction per output) or transpose W into its panel on every
// call. A constant W is transposed once, here, at compile time.
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_TRANSPOSEWEIGHTS
#include "passes/Passes.h.inc"

namespace {

/// The body yields out + in0 * in1 (either order of the sum and product).
bool isMulAdd(linalg::GenericOp op) {
  Block &body = op.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (body.getOperations().size() != 3 || yield.getNumOperands() != 1)
    return false;
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add)
    return false;
  Value out = body.getArgument(2);
  Value other = add.getLhs() == out   ? add.getRhs()
                : add.getRhs() == out ? add.getLhs()
                                      : Value();
  auto mul = other ? other.getDefiningOp<arith::MulFOp>() : nullptr;
  if (!mul)
    return false;
  Value a = body.getArgument(0), b = body.getArgument(1);
  return (mul.getLhs() == a && mul.getRhs() == b) ||
         (mul.getLhs() == b && mul.getRhs() == a);
}

/// The transpose of the rank-2 `v` (row-major raw bytes of a cols x rows
/// matrix), when `v` is a constant or a static unit-stride slice of one; the
/// slice may drop unit dims.
std::optional<std::vector<char>> transposedConstant(Value v, int64_t &rows,
                                                    int64_t &cols) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type || type.getRank() != 2 || !type.hasStaticShape())
    return std::nullopt;
  rows = type.getDimSize(0);
  cols = type.getDimSize(1);
  auto slice = v.getDefiningOp<tensor::ExtractSliceOp>();
  Value source = slice ? slice.getSource() : v;
  DenseElementsAttr attr;
  if (!matchPattern(source, m_Constant(&attr)))
    return std::nullopt;
  if (!attr.getElementType().isIntOrFloat())
    return std::nullopt;
  unsigned bits = attr.getElementType().getIntOrFloatBitWidth();
  if (bits % 8)
    return std::nullopt;
  unsigned bytes = bits / 8;
  auto sourceType = cast<RankedTensorType>(attr.getType());
  int64_t rank = sourceType.getRank();
  // Where element (0, 0) is, and how far one row and one column step.
  SmallVector<int64_t> offsets(rank, 0), strides(rank, 1);
  for (int64_t i = rank - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * sourceType.getDimSize(i + 1);
  SmallVector<int64_t> kept;
  if (slice) {
    if (!slice.hasUnitStride() ||
        ShapedType::isDynamicShape(slice.getStaticOffsets()))
      return std::nullopt;
    offsets.assign(slice.getStaticOffsets().begin(),
                   slice.getStaticOffsets().end());
    llvm::SmallBitVector dropped = slice.getDroppedDims();
    for (int64_t i = 0; i < rank; ++i)
      if (!dropped.test(i))
        kept.push_back(i);
  } else {
    kept = {0, 1};
  }
  if (kept.size() != 2)
    return std::nullopt;
  int64_t base = 0;
  for (int64_t i = 0; i < rank; ++i)
    base += offsets[i] * strides[i];
  int64_t rowStep = strides[kept[0]], colStep = strides[kept[1]];

  std::vector<char> out(rows * cols * bytes);
  ArrayRef<char> raw = attr.getRawData();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      int64_t from = attr.isSplat() ? 0 : base + r * rowStep + c * colStep;
      std::memcpy(&out[(c * rows + r) * bytes], &raw[from * bytes], bytes);
    }
  return out;
}

struct TransposeWeightsPass : impl::TransposeWeightsBase<TransposeWeightsPass> {
  using TransposeWeightsBase::TransposeWeightsBase;

  void runOnOperation() override {
    getOperation().walk([&](linalg::GenericOp op) { transpose(op); });
  }

  void transpose(linalg::GenericOp op) {
    if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
        !op.hasPureTensorSemantics() || op.getNumReductionLoops() != 1 ||
        !isMulAdd(op))
      return;
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    AffineMap cMap = maps[2];
    if (!cMap.isProjectedPermutation() || cMap.getNumResults() == 0)
      return;
    SmallVector<unsigned> reductions;
    op.getReductionDims(reductions);
    unsigned k = reductions.front();
    unsigned n = cast<AffineDimExpr>(cMap.getResults().back()).getPosition();
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    for (unsigned w = 0; w < 2; ++w) {
      AffineMap wMap = maps[w], aMap = maps[1 - w];
      // W[n, k]: contiguous along the reduction, and n not a dim of A.
      if (wMap.getNumResults() != 2 ||
          wMap.getResult(0) != getAffineDimExpr(n, &getContext()) ||
          wMap.getResult(1) != getAffineDimExpr(k, &getContext()) ||
          aMap.isFunctionOfDim(n) || !aMap.isFunctionOfDim(k))
        continue;
      // A matrix-vector product (one row) reads W once either way, and its
      // dot products along k stream it contiguously.
      int64_t rows = 1;
      bool dynamic = false;
      for (unsigned d = 0; d < ranges.size(); ++d)
        if (d != k && aMap.isFunctionOfDim(d)) {
          dynamic |= ShapedType::isDynamic(ranges[d]);
          rows *= dynamic ? 1 : ranges[d];
        }
      if (dynamic || rows < minRows)
        continue;
      Value weight = op.getDpsInputOperand(w)->get();
      int64_t wRows, wCols;
      std::optional<std::vector<char>> transposed =
          transposedConstant(weight, wRows, wCols);
      if (!transposed)
        continue;
      auto type = RankedTensorType::get(
          {wCols, wRows}, cast<ShapedType>(weight.getType()).getElementType());
      OpBuilder b(op);
      // Outside any loop: the constant is the same on every trip.
      Operation *root = weight.getDefiningOp();
      if (auto slice = dyn_cast<tensor::ExtractSliceOp>(root))
        root = slice.getSource().getDefiningOp();
      b.setInsertionPointAfter(root);
      Value t = b.create<arith::ConstantOp>(
          weight.getLoc(), DenseElementsAttr::getFromRawBuffer(
                               type, ArrayRef<char>(*transposed)));
      op->setOperand(w, t);
      maps[w] =
          AffineMap::get(wMap.getNumDims(), 0,
                         {wMap.getResult(1), wMap.getResult(0)}, &getContext());
      op.setIndexingMapsAttr(
          Builder(&getContext()).getAffineMapArrayAttr(maps));
      return;
    }
  }
};

} // namespace
} // namespace lathe
