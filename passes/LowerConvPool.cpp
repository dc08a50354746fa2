// Lowering of Conv, MaxPool, AveragePool and GlobalAveragePool to windowed
// linalg.generic ops over padded inputs. Groups become an explicit loop
// dimension (input and weights are expanded to [.., G, C/G, ..]), so every
// indexing map stays a plain projection plus the strided window access.
#include "ir/LatheOps.h"
#include "ir/ShapeInference.h"
#include "passes/LoweringUtils.h"

using namespace mlir;

namespace lathe {
namespace {

/// Splits dim `dim` of `v` into [outer, size/outer].
Value splitDim(OpBuilder &b, Location loc, Value v, int64_t dim, int64_t outer) {
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape;
  SmallVector<ReassociationIndices> reassoc;
  int64_t next = 0;
  for (int64_t i = 0; i < type.getRank(); ++i) {
    if (i == dim) {
      shape.push_back(outer);
      shape.push_back(type.getDimSize(i) / outer);
      reassoc.push_back({next, next + 1});
      next += 2;
    } else {
      shape.push_back(type.getDimSize(i));
      reassoc.push_back({next++});
    }
  }
  auto outType = RankedTensorType::get(shape, type.getElementType());
  return b.create<tensor::ExpandShapeOp>(loc, outType, v, reassoc);
}

/// Merges dims `dim` and `dim + 1` of `v`.
Value mergeDims(OpBuilder &b, Location loc, Value v, int64_t dim) {
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<ReassociationIndices> reassoc;
  for (int64_t i = 0; i < type.getRank(); ++i) {
    if (i == dim) {
      reassoc.push_back({i, i + 1});
      ++i;
    } else {
      reassoc.push_back({i});
    }
  }
  return b.create<tensor::CollapseShapeOp>(loc, v, reassoc);
}

/// End padding so that every output window fits: the explicit end pads, or
/// more under ceil_mode.
SmallVector<int64_t> highPads(ArrayRef<int64_t> inShape,
                              ArrayRef<int64_t> outShape,
                              ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                              ArrayRef<int64_t> dilations,
                              ArrayRef<int64_t> pads) {
  size_t n = kernel.size();
  SmallVector<int64_t> high;
  for (size_t i = 0; i < n; ++i) {
    int64_t extent =
        (outShape[i + 2] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1;
    high.push_back(std::max(pads[i + n], extent - inShape[i + 2] - pads[i]));
  }
  return high;
}

/// Indexing expressions `o * stride + k * dilation` for each spatial dim.
SmallVector<AffineExpr> windowExprs(MLIRContext *ctx, unsigned firstOut,
                                    unsigned firstKernel,
                                    ArrayRef<int64_t> strides,
                                    ArrayRef<int64_t> dilations) {
  SmallVector<AffineExpr> exprs;
  for (size_t i = 0; i < strides.size(); ++i)
    exprs.push_back(getAffineDimExpr(firstOut + i, ctx) * strides[i] +
                    getAffineDimExpr(firstKernel + i, ctx) * dilations[i]);
  return exprs;
}

struct ConvLowering : OpConversionPattern<ConvOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConvOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto outType = resultType(op);
    auto inType = cast<RankedTensorType>(adaptor.getInput().getType());
    auto wType = cast<RankedTensorType>(adaptor.getWeight().getType());
    Type et = outType.getElementType();
    int64_t s = inType.getRank() - 2;
    int64_t groups = static_cast<int64_t>(op.getGroup());
    int64_t filters = wType.getDimSize(0);
    ArrayRef<int64_t> pads = op.getPads();
    SmallVector<int64_t> kernel(wType.getShape().drop_front(2));

    Value x = padSpatial(rewriter, loc, adaptor.getInput(), pads.take_front(s),
                         pads.drop_front(s), floatAttr(et, 0.0));
    x = splitDim(rewriter, loc, x, 1, groups);                  // N G Cg P...
    Value w = splitDim(rewriter, loc, adaptor.getWeight(), 0, groups); // G Fg Cg K...

    SmallVector<int64_t> groupedShape = {outType.getDimSize(0), groups,
                                         filters / groups};
    groupedShape.append(outType.getShape().begin() + 2, outType.getShape().end());
    auto groupedType = RankedTensorType::get(groupedShape, et);
    Value init;
    if (Value bias = adaptor.getBias()) {
      Value b2 = splitDim(rewriter, loc, bias, 0, groups); // G Fg
      AffineMap biasMap = AffineMap::get(
          groupedShape.size(), 0,
          {getAffineDimExpr(1, ctx), getAffineDimExpr(2, ctx)}, ctx);
      init = rewriter
                 .create<linalg::GenericOp>(
                     loc, groupedType, b2,
                     ValueRange{emptyTensor(rewriter, loc, groupedType)},
                     ArrayRef<AffineMap>{biasMap,
                                         AffineMap::getMultiDimIdentityMap(
                                             groupedShape.size(), ctx)},
                     iterators(groupedShape.size()),
                     [](OpBuilder &b, Location l, ValueRange a) {
                       b.create<linalg::YieldOp>(l, a[0]);
                     })
                 .getResult(0);
    } else {
      init = filledTensor(rewriter, loc, groupedType, floatAttr(et, 0.0));
    }

    // Loops: n g f o... | c k...
    unsigned numLoops = 3 + s + 1 + s;
    unsigned oFirst = 3, cDim = 3 + s, kFirst = 4 + s;
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    SmallVector<AffineExpr> xExprs = {d(0), d(1), d(cDim)};
    xExprs.append(windowExprs(ctx, oFirst, kFirst, op.getStrides(),
                              op.getDilations()));
    SmallVector<AffineExpr> wExprs = {d(1), d(2), d(cDim)};
    SmallVector<AffineExpr> outExprs = {d(0), d(1), d(2)};
    for (int64_t i = 0; i < s; ++i) {
      wExprs.push_back(d(kFirst + i));
      outExprs.push_back(d(oFirst + i));
    }
    auto conv = rewriter.create<linalg::GenericOp>(
        loc, groupedType, ValueRange{x, w}, init,
        ArrayRef<AffineMap>{AffineMap::get(numLoops, 0, xExprs, ctx),
                            AffineMap::get(numLoops, 0, wExprs, ctx),
                            AffineMap::get(numLoops, 0, outExprs, ctx)},
        iterators(3 + s, 1 + s), [](OpBuilder &b, Location l, ValueRange a) {
          Value prod = b.create<arith::MulFOp>(l, a[0], a[1]);
          b.create<linalg::YieldOp>(
              l, b.create<arith::AddFOp>(l, a[2], prod).getResult());
        });
    rewriter.replaceOp(op, mergeDims(rewriter, loc, conv.getResult(0), 1));
    return success();
  }
};

/// A pooling window reduction: loops n c o... | k...; a shape-only window
/// operand gives the kernel loops their extent.
Value poolWindow(OpBuilder &b, Location loc, Value padded,
                 RankedTensorType outType, ArrayRef<int64_t> kernel,
                 ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations,
                 TypedAttr init, bool isMax) {
  MLIRContext *ctx = b.getContext();
  int64_t s = kernel.size();
  unsigned numLoops = 2 + 2 * s;
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineExpr> xExprs = {d(0), d(1)}, winExprs, outExprs = {d(0), d(1)};
  xExprs.append(windowExprs(ctx, 2, 2 + s, strides, dilations));
  for (int64_t i = 0; i < s; ++i) {
    winExprs.push_back(d(2 + s + i));
    outExprs.push_back(d(2 + i));
  }
  Value window = b.create<tensor::EmptyOp>(loc, kernel, outType.getElementType());
  auto generic = b.create<linalg::GenericOp>(
      loc, outType, ValueRange{padded, window},
      filledTensor(b, loc, outType, init),
      ArrayRef<AffineMap>{AffineMap::get(numLoops, 0, xExprs, ctx),
                          AffineMap::get(numLoops, 0, winExprs, ctx),
                          AffineMap::get(numLoops, 0, outExprs, ctx)},
      iterators(2 + s, s), [&](OpBuilder &nb, Location l, ValueRange a) {
        Value v = isMax ? nb.create<arith::MaximumFOp>(l, a[2], a[0]).getResult()
                        : nb.create<arith::AddFOp>(l, a[2], a[0]).getResult();
        nb.create<linalg::YieldOp>(l, v);
      });
  return generic.getResult(0);
}

struct MaxPoolLowering : OpConversionPattern<MaxPoolOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MaxPoolOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto outType = resultType(op);
    auto inType = cast<RankedTensorType>(adaptor.getInput().getType());
    Type et = outType.getElementType();
    int64_t s = op.getKernelShape().size();
    TypedAttr lowest = floatAttr(et, -std::numeric_limits<double>::infinity());
    SmallVector<int64_t> high =
        highPads(inType.getShape(), outType.getShape(), op.getKernelShape(),
                 op.getStrides(), op.getDilations(), op.getPads());
    Value x = padSpatial(rewriter, loc, adaptor.getInput(),
                         op.getPads().take_front(s), high, lowest);
    rewriter.replaceOp(op, poolWindow(rewriter, loc, x, outType,
                                      op.getKernelShape(), op.getStrides(),
                                      op.getDilations(), lowest, true));
    return success();
  }
};

struct AveragePoolLowering : OpConversionPattern<AveragePoolOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(AveragePoolOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto outType = resultType(op);
    auto inType = cast<RankedTensorType>(adaptor.getInput().getType());
    Type et = outType.getElementType();
    ArrayRef<int64_t> kernel = op.getKernelShape(), strides = op.getStrides(),
                      pads = op.getPads();
    int64_t s = kernel.size();
    SmallVector<int64_t> ones(s, 1);
    SmallVector<int64_t> high = highPads(inType.getShape(), outType.getShape(),
                                         kernel, strides, ones, pads);
    Value x = padSpatial(rewriter, loc, adaptor.getInput(), pads.take_front(s),
                         high, floatAttr(et, 0.0));
    Value sum = poolWindow(rewriter, loc, x, outType, kernel, strides, ones,
                           floatAttr(et, 0.0), false);

    // Divisors depend only on the output position: count the window's
    // elements inside the input (and the explicit pads if asked).
    SmallVector<int64_t> spatialOut(outType.getShape().drop_front(2));
    std::vector<std::vector<double>> perDim(s);
    for (int64_t i = 0; i < s; ++i) {
      int64_t lo = op.getCountIncludePad() ? -pads[i] : 0;
      int64_t hi = inType.getDimSize(i + 2) +
                   (op.getCountIncludePad() ? pads[i + s] : 0);
      for (int64_t o = 0; o < spatialOut[i]; ++o) {
        int64_t start = o * strides[i] - pads[i];
        int64_t end = start + kernel[i];
        perDim[i].push_back(
            std::max<int64_t>(1, std::min(end, hi) - std::max(start, lo)));
      }
    }
    int64_t total = numElements(Shape(spatialOut.begin(), spatialOut.end()));
    SmallVector<double> divisors(total, 1.0);
    for (int64_t flat = 0; flat < total; ++flat) {
      int64_t rest = flat;
      for (int64_t i = s - 1; i >= 0; --i) {
        divisors[flat] *= perDim[i][rest % spatialOut[i]];
        rest /= spatialOut[i];
      }
    }
    auto divType = RankedTensorType::get(spatialOut, et);
    SmallVector<Attribute> divAttrs;
    for (double v : divisors)
      divAttrs.push_back(floatAttr(et, v));
    Value div = rewriter.create<arith::ConstantOp>(
        loc, DenseElementsAttr::get(divType, divAttrs));
    rewriter.replaceOp(op, buildElementwise(
                               rewriter, loc, outType, {sum, div},
                               [](OpBuilder &b, Location l, ValueRange a) -> Value {
                                 return b.create<arith::DivFOp>(l, a[0], a[1]);
                               }));
    return success();
  }
};

struct GlobalAveragePoolLowering : OpConversionPattern<GlobalAveragePoolOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GlobalAveragePoolOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto outType = resultType(op);
    auto inType = cast<RankedTensorType>(adaptor.getInput().getType());
    Type et = outType.getElementType();
    int64_t rank = inType.getRank();
    int64_t count = 1;
    for (int64_t i = 2; i < rank; ++i)
      count *= inType.getDimSize(i);
    auto sumType = RankedTensorType::get(
        {inType.getDimSize(0), inType.getDimSize(1)}, et);
    auto sum = rewriter.create<linalg::GenericOp>(
        loc, sumType, adaptor.getInput(),
        filledTensor(rewriter, loc, sumType, floatAttr(et, 0.0)),
        ArrayRef<AffineMap>{
            AffineMap::getMultiDimIdentityMap(rank, ctx),
            AffineMap::get(rank, 0,
                           {getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx)},
                           ctx)},
        iterators(2, rank - 2), [](OpBuilder &b, Location l, ValueRange a) {
          b.create<linalg::YieldOp>(
              l, b.create<arith::AddFOp>(l, a[1], a[0]).getResult());
        });
    Value mean = buildElementwise(
        rewriter, loc, sumType, {sum.getResult(0)},
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          return b.create<arith::DivFOp>(l, a[0],
                                         floatConst(b, l, et, double(count)));
        });
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, mean, outType.getShape()));
    return success();
  }
};

} // namespace

void populateConvPoolLowering(const TypeConverter &converter, RewritePatternSet &patterns) {
  patterns.add<ConvLowering, MaxPoolLowering, AveragePoolLowering,
               GlobalAveragePoolLowering>(converter, patterns.getContext());
}

} // namespace lathe
