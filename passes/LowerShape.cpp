// Lowering of the data-movement ops: Flatten and Reshape become
// collapse/expand (views after bufferization), Transpose a permuted copy,
// Concat a sequence of slice insertions, Slice a strided view or a strided
// read, Expand/Tile broadcasts, Pad tensor.pad or an index-mapping copy,
// Trilu/OneHot/ReverseSequence generics over the result's indices.
#include "ir/LatheOps.h"
#include "passes/LoweringUtils.h"

using namespace mlir;

namespace lathe {
namespace {

template <typename OpT> struct ReshapeLikeLowering : OpConversionPattern<OpT> {
  using OpConversionPattern<OpT>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpT op, typename OpT::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = resultType(op);
    rewriter.replaceOp(op, reshapeTo(rewriter, op.getLoc(), adaptor.getInput(),
                                     type.getShape()));
    return success();
  }
};

struct TransposeLowering : OpConversionPattern<TransposeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = resultType(op);
    Value init = emptyTensor(rewriter, op.getLoc(), type);
    auto t = rewriter.create<linalg::TransposeOp>(
        op.getLoc(), adaptor.getInput(), init, op.getPerm());
    rewriter.replaceOp(op, t.getResult());
    return success();
  }
};

struct ConcatLowering : OpConversionPattern<ConcatOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConcatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = resultType(op);
    int64_t rank = type.getRank();
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += rank;
    Value result = emptyTensor(rewriter, loc, type);
    int64_t offset = 0;
    for (Value in : adaptor.getInputs()) {
      auto inType = cast<RankedTensorType>(in.getType());
      if (inType.getDimSize(axis) == 0)
        continue;
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
      SmallVector<OpFoldResult> sizes, strides(rank, rewriter.getIndexAttr(1));
      offsets[axis] = rewriter.getIndexAttr(offset);
      for (int64_t d : inType.getShape())
        sizes.push_back(rewriter.getIndexAttr(d));
      result = rewriter.create<tensor::InsertSliceOp>(loc, in, result, offsets,
                                                      sizes, strides);
      offset += inType.getDimSize(axis);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct SliceLowering : OpConversionPattern<SliceOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SliceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (replaceIfEmpty(op, rewriter))
      return success();
    Location loc = op.getLoc();
    auto type = resultType(op);
    ArrayRef<int64_t> offsets = op.getOffsets(), strides = op.getStrides();
    if (llvm::all_of(strides, [](int64_t s) { return s > 0; })) {
      rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
          op, type, adaptor.getInput(), ValueRange{}, ValueRange{},
          ValueRange{}, offsets, type.getShape(), strides);
      return success();
    }
    // Negative strides: read input[offset + stride * i] through the map.
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<AffineExpr> exprs;
    for (int64_t d = 0; d < type.getRank(); ++d)
      exprs.push_back(getAffineConstantExpr(offsets[d], ctx) +
                      getAffineDimExpr(d, ctx) * strides[d]);
    AffineMap map = AffineMap::get(type.getRank(), 0, exprs, ctx);
    Value v =
        buildIndexedGeneric(rewriter, loc, type, {adaptor.getInput()}, {map},
                            [](OpBuilder &, Location, ValueRange args,
                               ValueRange) { return args[0]; });
    rewriter.replaceOp(op, v);
    return success();
  }
};

struct ExpandLowering : OpConversionPattern<ExpandOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ExpandOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (replaceIfEmpty(op, rewriter))
      return success();
    Value v = buildElementwise(
        rewriter, op.getLoc(), resultType(op), {adaptor.getInput()},
        [](OpBuilder &, Location, ValueRange a) { return a[0]; });
    rewriter.replaceOp(op, v);
    return success();
  }
};

/// Tile broadcasts the input to [r0, d0, r1, d1, ...] and collapses each
/// (r, d) pair: only projected maps, and the collapse is a view.
struct TileLowering : OpConversionPattern<TileOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TileOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (replaceIfEmpty(op, rewriter))
      return success();
    Location loc = op.getLoc();
    auto type = resultType(op);
    auto inType = cast<RankedTensorType>(adaptor.getInput().getType());
    int64_t rank = inType.getRank();
    if (rank == 0) {
      rewriter.replaceOp(op, adaptor.getInput());
      return success();
    }
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<int64_t> wide;
    SmallVector<AffineExpr> exprs;
    SmallVector<ReassociationIndices> groups;
    for (int64_t d = 0; d < rank; ++d) {
      wide.push_back(op.getRepeats()[d]);
      wide.push_back(inType.getDimSize(d));
      exprs.push_back(getAffineDimExpr(2 * d + 1, ctx));
      groups.push_back({2 * d, 2 * d + 1});
    }
    auto wideType = RankedTensorType::get(wide, type.getElementType());
    Value v = buildIndexedGeneric(rewriter, loc, wideType, {adaptor.getInput()},
                                  {AffineMap::get(2 * rank, 0, exprs, ctx)},
                                  [](OpBuilder &, Location, ValueRange args,
                                     ValueRange) { return args[0]; });
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(op, type, v, groups);
    return success();
  }
};

/// The first element of a (one-element) tensor.
Value firstElement(OpBuilder &b, Location loc, Value t) {
  auto type = cast<RankedTensorType>(t.getType());
  SmallVector<Value> zeros(type.getRank(),
                           b.create<arith::ConstantIndexOp>(loc, 0));
  return b.create<tensor::ExtractOp>(loc, t, zeros);
}

struct PadLowering : OpConversionPattern<PadOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(PadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (replaceIfEmpty(op, rewriter))
      return success();
    Location loc = op.getLoc();
    auto type = resultType(op);
    Value input = adaptor.getInput();
    auto inType = cast<RankedTensorType>(input.getType());
    int64_t rank = inType.getRank();
    ArrayRef<int64_t> pads = op.getPads();
    if (op.getMode() == "constant") {
      // Negative pads crop first; the rest is tensor.pad.
      SmallVector<int64_t> offsets, sizes, strides(rank, 1);
      SmallVector<OpFoldResult> low, high;
      bool crop = false;
      for (int64_t d = 0; d < rank; ++d) {
        int64_t lo = pads[d], hi = pads[d + rank];
        offsets.push_back(std::max<int64_t>(-lo, 0));
        sizes.push_back(inType.getDimSize(d) + std::min<int64_t>(lo, 0) +
                        std::min<int64_t>(hi, 0));
        crop |= lo < 0 || hi < 0;
        low.push_back(rewriter.getIndexAttr(std::max<int64_t>(lo, 0)));
        high.push_back(rewriter.getIndexAttr(std::max<int64_t>(hi, 0)));
      }
      if (crop)
        input = rewriter.create<tensor::ExtractSliceOp>(
            loc, RankedTensorType::get(sizes, inType.getElementType()), input,
            ValueRange{}, ValueRange{}, ValueRange{}, offsets, sizes, strides);
      if (cast<RankedTensorType>(input.getType()) == type) {
        rewriter.replaceOp(op, input);
        return success();
      }
      Value value =
          adaptor.getValue()
              ? firstElement(rewriter, loc, adaptor.getValue())
              : rewriter
                    .create<arith::ConstantOp>(
                        loc, rewriter.getZeroAttr(type.getElementType()))
                    .getResult();
      rewriter.replaceOpWithNewOp<tensor::PadOp>(op, type, input, low, high,
                                                 value);
      return success();
    }
    // Reflect and edge: every result element reads one input element.
    bool reflect = op.getMode() == "reflect";
    Value v = buildIndexedGeneric(
        rewriter, loc, type, {}, {},
        [&](OpBuilder &b, Location l, ValueRange, ValueRange ivs) {
          SmallVector<Value> idx;
          for (int64_t d = 0; d < rank; ++d) {
            int64_t n = inType.getDimSize(d);
            auto c = [&](int64_t x) {
              return b.create<arith::ConstantIndexOp>(l, x).getResult();
            };
            // j = i - lo, as a signed index.
            Value j = b.create<arith::SubIOp>(l, ivs[d], c(pads[d]));
            if (!reflect || n == 1) {
              Value lo = b.create<arith::MaxSIOp>(l, j, c(0));
              idx.push_back(b.create<arith::MinSIOp>(l, lo, c(n - 1)));
              continue;
            }
            // Mirror with period 2(n-1): |j| mod period, folded back.
            Value period = c(2 * (n - 1));
            Value neg = b.create<arith::SubIOp>(l, c(0), j);
            Value a = b.create<arith::MaxSIOp>(l, j, neg);
            Value m = b.create<arith::RemSIOp>(l, a, period);
            Value back = b.create<arith::SubIOp>(l, period, m);
            Value past =
                b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, m, c(n));
            idx.push_back(b.create<arith::SelectOp>(l, past, back, m));
          }
          return b.create<tensor::ExtractOp>(l, input, idx).getResult();
        });
    rewriter.replaceOp(op, v);
    return success();
  }
};

struct TriluLowering : OpConversionPattern<TriluOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TriluOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (replaceIfEmpty(op, rewriter))
      return success();
    Location loc = op.getLoc();
    auto type = resultType(op);
    int64_t rank = type.getRank();
    Value k = adaptor.getKValue()
                  ? firstElement(rewriter, loc, adaptor.getKValue())
                  : rewriter
                        .create<arith::ConstantOp>(
                            loc, rewriter.getI64IntegerAttr(op.getK()))
                        .getResult();
    Value zero = rewriter.create<arith::ConstantOp>(
        loc, rewriter.getZeroAttr(type.getElementType()));
    bool upper = op.getUpper();
    Value v = buildIndexedGeneric(
        rewriter, loc, type, {adaptor.getInput()},
        {AffineMap::getMultiDimIdentityMap(rank, rewriter.getContext())},
        [&](OpBuilder &b, Location l, ValueRange args, ValueRange ivs) {
          Value diff = b.create<arith::SubIOp>(l, ivs[rank - 1], ivs[rank - 2]);
          Value d = b.create<arith::IndexCastOp>(l, b.getI64Type(), diff);
          Value keep = b.create<arith::CmpIOp>(
              l, upper ? arith::CmpIPredicate::sge : arith::CmpIPredicate::sle,
              d, k);
          return b.create<arith::SelectOp>(l, keep, args[0], zero).getResult();
        });
    rewriter.replaceOp(op, v);
    return success();
  }
};

struct OneHotLowering : OpConversionPattern<OneHotOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OneHotOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (replaceIfEmpty(op, rewriter))
      return success();
    Location loc = op.getLoc();
    auto type = resultType(op);
    int64_t rank = type.getRank();
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += rank;
    int64_t depth = op.getDepth();
    MLIRContext *ctx = rewriter.getContext();
    Value c0 = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value c1 = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    Value off = rewriter.create<tensor::ExtractOp>(loc, adaptor.getValues(),
                                                   ValueRange{c0});
    Value on = rewriter.create<tensor::ExtractOp>(loc, adaptor.getValues(),
                                                  ValueRange{c1});
    SmallVector<AffineExpr> exprs;
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis)
        exprs.push_back(getAffineDimExpr(d, ctx));
    bool isUnsignedIdx = isUnsigned(op.getIndices());
    Value v = buildIndexedGeneric(
        rewriter, loc, type, {adaptor.getIndices()},
        {AffineMap::get(rank, 0, exprs, ctx)},
        [&](OpBuilder &b, Location l, ValueRange args, ValueRange ivs) {
          Value idx = args[0];
          Type i64 = b.getI64Type();
          // Float indices are truncated toward zero, as ONNX casts them.
          if (isa<FloatType>(idx.getType()))
            idx = b.create<arith::FPToSIOp>(l, i64, idx);
          else if (idx.getType() != i64)
            idx = isUnsignedIdx
                      ? b.create<arith::ExtUIOp>(l, i64, idx).getResult()
                      : b.create<arith::ExtSIOp>(l, i64, idx).getResult();
          Value i = normalisedIndex(b, l, idx, depth);
          Value hit = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, i,
                                              ivs[axis]);
          return b.create<arith::SelectOp>(l, hit, on, off).getResult();
        });
    rewriter.replaceOp(op, v);
    return success();
  }
};

struct ReverseSequenceLowering : OpConversionPattern<ReverseSequenceOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ReverseSequenceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (replaceIfEmpty(op, rewriter))
      return success();
    Location loc = op.getLoc();
    auto type = resultType(op);
    int64_t rank = type.getRank();
    int64_t batch = op.getBatchAxis(), time = op.getTimeAxis();
    Value input = adaptor.getInput();
    MLIRContext *ctx = rewriter.getContext();
    Value v = buildIndexedGeneric(
        rewriter, loc, type, {adaptor.getSeqLens()},
        {AffineMap::get(rank, 0, {getAffineDimExpr(batch, ctx)}, ctx)},
        [&](OpBuilder &b, Location l, ValueRange args, ValueRange ivs) {
          Value len =
              b.create<arith::IndexCastOp>(l, b.getIndexType(), args[0]);
          Value t = ivs[time];
          Value inside =
              b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, t, len);
          Value last = b.create<arith::SubIOp>(
              l, len, b.create<arith::ConstantIndexOp>(l, 1));
          Value mirrored = b.create<arith::SubIOp>(l, last, t);
          SmallVector<Value> idx(ivs.begin(), ivs.end());
          idx[time] = b.create<arith::SelectOp>(l, inside, mirrored, t);
          return b.create<tensor::ExtractOp>(l, input, idx).getResult();
        });
    rewriter.replaceOp(op, v);
    return success();
  }
};

} // namespace

void populateShapeLowering(const TypeConverter &converter,
                           RewritePatternSet &patterns) {
  patterns.add<ReshapeLikeLowering<FlattenOp>, ReshapeLikeLowering<ReshapeOp>,
               TransposeLowering, ConcatLowering, SliceLowering, ExpandLowering,
               TileLowering, PadLowering, TriluLowering, OneHotLowering,
               ReverseSequenceLowering>(converter, patterns.getContext());
}

} // namespace lathe
