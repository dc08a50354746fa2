// Lowering of loss functions to linalg.
#include "ir/LatheOps.h"
#include "passes/LoweringUtils.h"

using namespace mlir;

namespace lathe {
namespace {

/// NLL loss. The loop runs over the target's dims [N, d...]; the class
/// picked by each target is read with tensor.extract. `none` writes one loss
/// per target; `sum`/`mean` reduce into 0-d accumulators (the loss and the
/// weight of the targets that count), `mean` then divides.
struct NllLossLowering : OpConversionPattern<NllLossOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(NllLossOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value input = adaptor.getInput(), target = adaptor.getTarget(),
          weight = adaptor.getWeight();
    auto inType = cast<RankedTensorType>(input.getType());
    auto targetType = cast<RankedTensorType>(target.getType());
    Type et = inType.getElementType();
    Type it = targetType.getElementType();
    int64_t rank = targetType.getRank();
    int64_t classes = inType.getDimSize(1);
    std::optional<int64_t> ignore = op.getIgnoreIndex();
    StringRef reduction = op.getReduction();

    // (loss, weight that counts) of one target, at loop position `ivs`.
    auto element = [&](OpBuilder &b, Location l,
                       Value t) -> std::pair<Value, Value> {
      SmallVector<Value> ivs;
      for (int64_t i = 0; i < rank; ++i)
        ivs.push_back(b.create<linalg::IndexOp>(l, i));
      Value zeroT = b.create<arith::ConstantOp>(l, IntegerAttr::get(it, 0));
      Value countT =
          b.create<arith::ConstantOp>(l, IntegerAttr::get(it, classes));
      Value inRange = b.create<arith::AndIOp>(
          l, b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, t, zeroT),
          b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, t, countT));
      Value counts = b.create<arith::ConstantOp>(l, b.getBoolAttr(true));
      if (ignore) {
        Value ii =
            b.create<arith::ConstantOp>(l, IntegerAttr::get(it, *ignore));
        counts = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::ne, t, ii);
      }
      Value safe = b.create<arith::SelectOp>(
          l, b.create<arith::AndIOp>(l, inRange, counts), t, zeroT);
      Value cls = b.create<arith::IndexCastOp>(l, b.getIndexType(), safe);
      SmallVector<Value> at = {ivs[0], cls};
      at.append(ivs.begin() + 1, ivs.end());
      Value x = b.create<tensor::ExtractOp>(l, input, at);
      Value zero = floatConst(b, l, et, 0.0);
      Value w = weight ? b.create<tensor::ExtractOp>(l, weight, ValueRange{cls})
                             .getResult()
                       : floatConst(b, l, et, 1.0);
      Value loss = b.create<arith::NegFOp>(l, b.create<arith::MulFOp>(l, x, w));
      return {b.create<arith::SelectOp>(l, counts, loss, zero),
              b.create<arith::SelectOp>(l, counts, w, zero)};
    };

    auto type = resultType(op);
    AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
    if (reduction == "none") {
      auto generic = rewriter.create<linalg::GenericOp>(
          loc, type, ValueRange{target},
          ValueRange{emptyTensor(rewriter, loc, type)},
          ArrayRef<AffineMap>{id, id}, iterators(rank),
          [&](OpBuilder &b, Location l, ValueRange a) {
            b.create<linalg::YieldOp>(l, element(b, l, a[0]).first);
          });
      rewriter.replaceOp(op, generic.getResult(0));
      return success();
    }

    auto scalar = RankedTensorType::get({}, et);
    Value zeroAcc = filledTensor(rewriter, loc, scalar, floatAttr(et, 0.0));
    AffineMap toScalar = AffineMap::get(rank, 0, {}, ctx);
    bool mean = reduction == "mean";
    SmallVector<Value> inits = {zeroAcc};
    SmallVector<Type> types = {scalar};
    SmallVector<AffineMap> maps = {id, toScalar};
    if (mean) {
      inits.push_back(zeroAcc);
      types.push_back(scalar);
      maps.push_back(toScalar);
    }
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, types, ValueRange{target}, inits, maps, iterators(0, rank),
        [&](OpBuilder &b, Location l, ValueRange a) {
          auto [loss, w] = element(b, l, a[0]);
          SmallVector<Value> sums = {b.create<arith::AddFOp>(l, a[1], loss)};
          if (mean)
            sums.push_back(b.create<arith::AddFOp>(l, a[2], w));
          b.create<linalg::YieldOp>(l, sums);
        });
    Value result = generic.getResult(0);
    if (mean)
      result = buildElementwise(
          rewriter, loc, scalar, {generic.getResult(0), generic.getResult(1)},
          [](OpBuilder &b, Location l, ValueRange a) -> Value {
            return b.create<arith::DivFOp>(l, a[0], a[1]);
          });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void populateLossLowering(const TypeConverter &converter,
                          RewritePatternSet &patterns) {
  patterns.add<NllLossLowering>(converter, patterns.getContext());
}

} // namespace lathe
