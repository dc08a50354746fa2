// Lowering of the data-movement ops: Flatten and Reshape become
// collapse/expand (views after bufferization), Transpose a permuted copy,
// Concat a sequence of slice insertions.
#include "ir/LatheOps.h"
#include "passes/LoweringUtils.h"

using namespace mlir;

namespace lathe {
namespace {

template <typename OpT>
struct ReshapeLikeLowering : OpConversionPattern<OpT> {
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
    auto t = rewriter.create<linalg::TransposeOp>(op.getLoc(), adaptor.getInput(),
                                                  init, op.getPerm());
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

} // namespace

void populateShapeLowering(const TypeConverter &converter, RewritePatternSet &patterns) {
  patterns.add<ReshapeLikeLowering<FlattenOp>, ReshapeLikeLowering<ReshapeOp>,
               TransposeLowering, ConcatLowering>(converter, patterns.getContext());
}

} // namespace lathe
