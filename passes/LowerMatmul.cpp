// Lowering of Gemm, MatMul and Einsum to contractions (linalg.generic with a
// reduction loop). Operand transposes and broadcast batch dims live in the
// indexing maps, so nothing is copied. The CPU performance work replaces
// these with tiled, packed kernels.
#include "ir/LatheOps.h"
#include "passes/LoweringUtils.h"

using namespace mlir;

namespace lathe {
namespace {

Value multiplyAdd(OpBuilder &b, Location loc, Value acc, Value x, Value y) {
  if (isa<FloatType>(acc.getType()))
    return b.create<arith::AddFOp>(loc, acc,
                                   b.create<arith::MulFOp>(loc, x, y));
  return b.create<arith::AddIOp>(loc, acc, b.create<arith::MulIOp>(loc, x, y));
}

TypedAttr zeroAttr(Type t) {
  if (isa<FloatType>(t))
    return FloatAttr::get(t, 0.0);
  return IntegerAttr::get(t, 0);
}

/// Y = alpha * op(A) * op(B) + beta * C. Loops (m, n, k).
struct GemmLowering : OpConversionPattern<GemmOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GemmOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto type = resultType(op);
    Type et = type.getElementType();
    float alpha = op.getAlpha().convertToFloat();
    float beta = op.getBeta().convertToFloat();

    Value init;
    if (adaptor.getC() && beta != 0.0f) {
      init = buildElementwise(
          rewriter, loc, type, {adaptor.getC()},
          [&](OpBuilder &b, Location l, ValueRange a) -> Value {
            if (beta == 1.0f)
              return a[0];
            return b.create<arith::MulFOp>(l, a[0], floatConst(b, l, et, beta));
          });
    } else {
      init = filledTensor(rewriter, loc, type, zeroAttr(et));
    }
    AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
               k = getAffineDimExpr(2, ctx);
    AffineMap aMap = AffineMap::get(3, 0,
                                    op.getTransA() ? ArrayRef<AffineExpr>{k, m}
                                                   : ArrayRef<AffineExpr>{m, k},
                                    ctx);
    AffineMap bMap = AffineMap::get(3, 0,
                                    op.getTransB() ? ArrayRef<AffineExpr>{n, k}
                                                   : ArrayRef<AffineExpr>{k, n},
                                    ctx);
    AffineMap cMap = AffineMap::get(3, 0, {m, n}, ctx);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, type, ValueRange{adaptor.getA(), adaptor.getB()}, init,
        ArrayRef<AffineMap>{aMap, bMap, cMap}, iterators(2, 1),
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value x = a[0];
          if (alpha != 1.0f)
            x = b.create<arith::MulFOp>(l, x, floatConst(b, l, et, alpha));
          b.create<linalg::YieldOp>(l, multiplyAdd(b, l, a[2], x, a[1]));
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// numpy matmul. Loops: broadcast batch dims, then m, n (each only when the
/// operand is not a vector), then k.
struct MatMulLowering : OpConversionPattern<MatMulOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MatMulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto type = resultType(op);
    ArrayRef<int64_t> aShape =
        cast<RankedTensorType>(adaptor.getA().getType()).getShape();
    ArrayRef<int64_t> bShape =
        cast<RankedTensorType>(adaptor.getB().getType()).getShape();
    bool vecA = aShape.size() == 1, vecB = bShape.size() == 1;
    int64_t batchRank = type.getRank() - (vecA ? 0 : 1) - (vecB ? 0 : 1);
    ArrayRef<int64_t> batchShape = type.getShape().take_front(batchRank);
    unsigned numLoops = batchRank + (vecA ? 0 : 1) + (vecB ? 0 : 1) + 1;
    unsigned mDim = batchRank, nDim = batchRank + (vecA ? 0 : 1),
             kDim = numLoops - 1;

    auto batchExprs = [&](ArrayRef<int64_t> operandBatch) {
      SmallVector<AffineExpr> exprs;
      size_t offset = batchShape.size() - operandBatch.size();
      for (size_t i = 0; i < operandBatch.size(); ++i)
        exprs.push_back(operandBatch[i] == 1 && batchShape[i + offset] != 1
                            ? getAffineConstantExpr(0, ctx)
                            : getAffineDimExpr(i + offset, ctx));
      return exprs;
    };
    SmallVector<AffineExpr> aExprs, bExprs, outExprs;
    if (!vecA) {
      aExprs = batchExprs(aShape.drop_back(2));
      aExprs.push_back(getAffineDimExpr(mDim, ctx));
    }
    aExprs.push_back(getAffineDimExpr(kDim, ctx));
    if (!vecB) {
      bExprs = batchExprs(bShape.drop_back(2));
      bExprs.push_back(getAffineDimExpr(kDim, ctx));
      bExprs.push_back(getAffineDimExpr(nDim, ctx));
    } else {
      bExprs.push_back(getAffineDimExpr(kDim, ctx));
    }
    for (unsigned i = 0; i < kDim; ++i)
      outExprs.push_back(getAffineDimExpr(i, ctx));
    SmallVector<AffineMap> maps = {AffineMap::get(numLoops, 0, aExprs, ctx),
                                   AffineMap::get(numLoops, 0, bExprs, ctx),
                                   AffineMap::get(numLoops, 0, outExprs, ctx)};
    Value init =
        filledTensor(rewriter, loc, type, zeroAttr(type.getElementType()));
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, type, ValueRange{adaptor.getA(), adaptor.getB()}, init, maps,
        iterators(kDim, 1), [&](OpBuilder &b, Location l, ValueRange a) {
          b.create<linalg::YieldOp>(l, multiplyAdd(b, l, a[2], a[0], a[1]));
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// Einsum as one linalg.generic: a loop per label (output labels first, as
/// parallel loops; the summed ones as reductions), each operand read through
/// its labels (a repeated label reads the diagonal), the product summed.
struct EinsumLowering : OpConversionPattern<EinsumOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(EinsumOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto type = resultType(op);
    SmallVector<int64_t> order(op.getOutputLabels());
    for (int64_t l : op.getLabels())
      if (!llvm::is_contained(order, l))
        order.push_back(l);
    auto dim = [&](int64_t label) {
      return getAffineDimExpr(llvm::find(order, label) - order.begin(), ctx);
    };
    SmallVector<AffineMap> maps;
    ArrayRef<int64_t> labels = op.getLabels();
    for (Value in : adaptor.getInputs()) {
      int64_t rank = cast<RankedTensorType>(in.getType()).getRank();
      SmallVector<AffineExpr> exprs;
      for (int64_t l : labels.take_front(rank))
        exprs.push_back(dim(l));
      labels = labels.drop_front(rank);
      maps.push_back(AffineMap::get(order.size(), 0, exprs, ctx));
    }
    SmallVector<AffineExpr> outExprs;
    for (int64_t l : op.getOutputLabels())
      outExprs.push_back(dim(l));
    maps.push_back(AffineMap::get(order.size(), 0, outExprs, ctx));
    unsigned parallel = op.getOutputLabels().size();
    Value init =
        filledTensor(rewriter, loc, type, zeroAttr(type.getElementType()));
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, type, adaptor.getInputs(), init, maps,
        iterators(parallel, order.size() - parallel),
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value prod = a[0];
          bool isFloat = isa<FloatType>(prod.getType());
          for (Value v : a.drop_front().drop_back())
            prod = isFloat ? b.create<arith::MulFOp>(l, prod, v).getResult()
                           : b.create<arith::MulIOp>(l, prod, v).getResult();
          Value sum =
              isFloat ? b.create<arith::AddFOp>(l, a.back(), prod).getResult()
                      : b.create<arith::AddIOp>(l, a.back(), prod).getResult();
          b.create<linalg::YieldOp>(l, sum);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

} // namespace

void populateMatmulLowering(const TypeConverter &converter,
                            RewritePatternSet &patterns) {
  patterns.add<GemmLowering, MatMulLowering, EinsumLowering>(
      converter, patterns.getContext());
}

} // namespace lathe
