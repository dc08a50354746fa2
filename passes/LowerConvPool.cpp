// Lowering of Conv, ConvTranspose, MaxPool (also with indices, and on
// integers), AveragePool and GlobalAveragePool to windowed linalg.generic
// ops over padded inputs, of the backward graph's max_pool_grad to an
// elementwise op over the windows, and of MaxUnpool to a scatter loop. Groups
// become an explicit loop dimension (input and weights are expanded to [.., G,
// C/G, ..]), so every indexing map stays a plain projection plus the strided
// window access.
#include "ir/LatheOps.h"
#include "ir/ShapeInference.h"
#include "passes/FusionGroups.h"
#include "passes/LoweringUtils.h"

using namespace mlir;

namespace lathe {
namespace {

/// Splits dim `dim` of `v` into [outer, size/outer].
Value splitDim(OpBuilder &b, Location loc, Value v, int64_t dim,
               int64_t outer) {
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

/// The accumulator of a grouped convolution, [N, G, F/G, spatial...]: the
/// bias broadcast along N and the spatial dims, or zeros without a bias.
Value groupedBiasInit(OpBuilder &b, Location loc, Value bias, int64_t groups,
                      RankedTensorType groupedType) {
  Type et = groupedType.getElementType();
  if (!bias)
    return filledTensor(b, loc, groupedType, floatAttr(et, 0.0));
  MLIRContext *ctx = b.getContext();
  unsigned rank = groupedType.getRank();
  Value b2 = splitDim(b, loc, bias, 0, groups); // G F/G
  AffineMap biasMap = AffineMap::get(
      rank, 0, {getAffineDimExpr(1, ctx), getAffineDimExpr(2, ctx)}, ctx);
  return b
      .create<linalg::GenericOp>(
          loc, groupedType, b2, ValueRange{emptyTensor(b, loc, groupedType)},
          ArrayRef<AffineMap>{biasMap,
                              AffineMap::getMultiDimIdentityMap(rank, ctx)},
          iterators(rank),
          [](OpBuilder &nb, Location l, ValueRange a) {
            nb.create<linalg::YieldOp>(l, a[0]);
          })
      .getResult(0);
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
SmallVector<int64_t>
highPads(ArrayRef<int64_t> inShape, ArrayRef<int64_t> outShape,
         ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
         ArrayRef<int64_t> dilations, ArrayRef<int64_t> pads) {
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

/// A convolution strided along its last spatial dim would read every
/// `stride`-th input element there, and its vector loads along the output's
/// last dim would be gathers, which cores without fast gathers (Zen 3) split
/// into scalar loads. The padded input `x` (last dim `phases * width`) is
/// copied once into its phases instead, x'[.., p, j] = x[.., j * phases + p],
/// and the window `o * s + k * d` reads x'[.., (k * d) mod s,
/// o + (k * d) floordiv s]: contiguous along o.
Value splitPhases(OpBuilder &b, Location loc, Value x, int64_t phases) {
  MLIRContext *ctx = b.getContext();
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  SmallVector<int64_t> shape(type.getShape());
  int64_t width = shape.back() / phases;
  shape.back() = phases;
  shape.push_back(width);
  auto outType = RankedTensorType::get(shape, type.getElementType());
  SmallVector<AffineExpr> in;
  for (int64_t i = 0; i + 1 < rank; ++i)
    in.push_back(getAffineDimExpr(i, ctx));
  in.push_back(getAffineDimExpr(rank, ctx) * phases +
               getAffineDimExpr(rank - 1, ctx));
  return b
      .create<linalg::GenericOp>(
          loc, outType, x, ValueRange{emptyTensor(b, loc, outType)},
          ArrayRef<AffineMap>{AffineMap::get(rank + 1, 0, in, ctx),
                              AffineMap::getMultiDimIdentityMap(rank + 1, ctx)},
          iterators(rank + 1),
          [](OpBuilder &nb, Location l, ValueRange a) {
            nb.create<linalg::YieldOp>(l, a[0]);
          })
      .getResult(0);
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

    // Strided along the last dim: the padded width becomes phases x
    // `width`, where `width` holds every window's reads in each phase.
    SmallVector<int64_t> low(pads.take_front(s)), high(pads.drop_front(s));
    Value input = adaptor.getInput();
    int64_t stride = op.getStrides().back(),
            dilation = op.getDilations().back();
    int64_t inWidth = inType.getShape().back();
    int64_t width =
        outType.getShape().back() +
        (kernel.back() - 1) * dilation / std::max<int64_t>(stride, 1);
    int64_t extra = width * stride - inWidth - low.back();
    bool phased = stride > 1 && inWidth + std::min<int64_t>(extra, 0) > 0;
    if (phased && extra < 0) {
      // Columns past the last window are never read.
      auto rank = inType.getRank();
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0)), sizes,
          strides(rank, rewriter.getIndexAttr(1));
      for (int64_t i = 0; i < rank; ++i)
        sizes.push_back(rewriter.getIndexAttr(inType.getDimSize(i)));
      sizes.back() = rewriter.getIndexAttr(inWidth + extra);
      input = rewriter.create<tensor::ExtractSliceOp>(loc, input, offsets,
                                                      sizes, strides);
      high.back() = 0;
    } else if (phased) {
      high.back() = extra;
    }
    Value x = padSpatial(rewriter, loc, input, low, high, floatAttr(et, 0.0));
    if (phased)
      x = splitPhases(rewriter, withoutFusionGroup(loc), x, stride);
    x = splitDim(rewriter, loc, x, 1, groups); // N G Cg P...
    Value w =
        splitDim(rewriter, loc, adaptor.getWeight(), 0, groups); // G Fg Cg K...

    SmallVector<int64_t> groupedShape = {outType.getDimSize(0), groups,
                                         filters / groups};
    groupedShape.append(outType.getShape().begin() + 2,
                        outType.getShape().end());
    auto groupedType = RankedTensorType::get(groupedShape, et);
    Value init =
        groupedBiasInit(rewriter, loc, adaptor.getBias(), groups, groupedType);

    // Loops: n g f o... | c k...
    unsigned numLoops = 3 + s + 1 + s;
    unsigned oFirst = 3, cDim = 3 + s, kFirst = 4 + s;
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    SmallVector<AffineExpr> xExprs = {d(0), d(1), d(cDim)};
    xExprs.append(
        windowExprs(ctx, oFirst, kFirst, op.getStrides(), op.getDilations()));
    if (phased) {
      AffineExpr k = d(kFirst + s - 1) * dilation;
      xExprs.back() = k % stride;
      xExprs.push_back(d(oFirst + s - 1) + k.floorDiv(stride));
    }
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

enum class Combine { Sum, MaxF, MaxSI, MaxUI };

/// A pooling window reduction: loops n c o... | k...; a shape-only window
/// operand gives the kernel loops their extent.
Value poolWindow(OpBuilder &b, Location loc, Value padded,
                 RankedTensorType outType, ArrayRef<int64_t> kernel,
                 ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations,
                 TypedAttr init, Combine combine) {
  MLIRContext *ctx = b.getContext();
  int64_t s = kernel.size();
  unsigned numLoops = 2 + 2 * s;
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineExpr> xExprs = {d(0), d(1)}, winExprs,
                          outExprs = {d(0), d(1)};
  xExprs.append(windowExprs(ctx, 2, 2 + s, strides, dilations));
  for (int64_t i = 0; i < s; ++i) {
    winExprs.push_back(d(2 + s + i));
    outExprs.push_back(d(2 + i));
  }
  Value window =
      b.create<tensor::EmptyOp>(loc, kernel, outType.getElementType());
  auto generic = b.create<linalg::GenericOp>(
      loc, outType, ValueRange{padded, window},
      filledTensor(b, loc, outType, init),
      ArrayRef<AffineMap>{AffineMap::get(numLoops, 0, xExprs, ctx),
                          AffineMap::get(numLoops, 0, winExprs, ctx),
                          AffineMap::get(numLoops, 0, outExprs, ctx)},
      iterators(2 + s, s), [&](OpBuilder &nb, Location l, ValueRange a) {
        Value v;
        switch (combine) {
        case Combine::Sum:
          v = nb.create<arith::AddFOp>(l, a[2], a[0]);
          break;
        case Combine::MaxF:
          v = nb.create<arith::MaximumFOp>(l, a[2], a[0]);
          break;
        case Combine::MaxSI:
          v = nb.create<arith::MaxSIOp>(l, a[2], a[0]);
          break;
        case Combine::MaxUI:
          v = nb.create<arith::MaxUIOp>(l, a[2], a[0]);
          break;
        }
        nb.create<linalg::YieldOp>(l, v);
      });
  return generic.getResult(0);
}

/// The smallest value of a (signless) element type: -inf, or the integer
/// minimum of the signed or unsigned reading.
TypedAttr lowestAttr(Type et, bool isUnsignedType) {
  if (isa<FloatType>(et))
    return floatAttr(et, -std::numeric_limits<double>::infinity());
  unsigned width = et.getIntOrFloatBitWidth();
  return IntegerAttr::get(et, isUnsignedType ? APInt::getZero(width)
                                             : APInt::getSignedMinValue(width));
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
    bool isUnsignedInput = isUnsigned(op.getInput());
    TypedAttr lowest = lowestAttr(et, isUnsignedInput);
    Combine combine = isa<FloatType>(et) ? Combine::MaxF
                      : isUnsignedInput  ? Combine::MaxUI
                                         : Combine::MaxSI;
    SmallVector<int64_t> high =
        highPads(inType.getShape(), outType.getShape(), op.getKernelShape(),
                 op.getStrides(), op.getDilations(), op.getPads());
    Value x = padSpatial(rewriter, loc, adaptor.getInput(),
                         op.getPads().take_front(s), high, lowest);
    Value pooled =
        poolWindow(rewriter, loc, x, outType, op.getKernelShape(),
                   op.getStrides(), op.getDilations(), lowest, combine);
    // 2x2 windows at stride 2 over the unpadded input: vector code in
    // lathe-vectorize-max-pool.
    const int64_t twoByTwo[] = {2, 2};
    ArrayRef<int64_t> two(twoByTwo);
    if (combine == Combine::MaxF && op.getKernelShape() == two &&
        op.getStrides() == two &&
        llvm::all_of(op.getDilations(), [](int64_t d) { return d == 1; }) &&
        x == adaptor.getInput())
      pooled.getDefiningOp()->setAttr(kMaxPool2x2Attr, rewriter.getUnitAttr());
    rewriter.replaceOp(op, pooled);
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
                           floatAttr(et, 0.0), Combine::Sum);

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
    rewriter.replaceOp(
        op,
        buildElementwise(rewriter, loc, outType, {sum, div},
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
    auto sumType =
        RankedTensorType::get({inType.getDimSize(0), inType.getDimSize(1)}, et);
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
    Value mean =
        buildElementwise(rewriter, loc, sumType, {sum.getResult(0)},
                         [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                           return b.create<arith::DivFOp>(
                               l, a[0], floatConst(b, l, et, double(count)));
                         });
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, mean, outType.getShape()));
    return success();
  }
};

/// Transposed convolution as a stride-1 convolution with the flipped kernel
/// over the input spread out by the strides (zeros between elements) and
/// padded by (k - 1) * dilation; the begin pads shift the window. Loops:
/// n g m o... | c k...
struct ConvTransposeLowering : OpConversionPattern<ConvTransposeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConvTransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto outType = resultType(op);
    auto inType = cast<RankedTensorType>(adaptor.getInput().getType());
    auto wType = cast<RankedTensorType>(adaptor.getWeight().getType());
    Type et = outType.getElementType();
    int64_t s = inType.getRank() - 2;
    int64_t groups = static_cast<int64_t>(op.getGroup());
    ArrayRef<int64_t> strides = op.getStrides(), dilations = op.getDilations(),
                      pads = op.getPads();
    SmallVector<int64_t> kernel(wType.getShape().drop_front(2));

    Value x =
        splitDim(rewriter, loc, adaptor.getInput(), 1, groups); // N G Cg D...
    auto xType = cast<RankedTensorType>(x.getType());
    SmallVector<int64_t> spreadShape(xType.getShape().take_front(3));
    SmallVector<OpFoldResult> offsets(3, rewriter.getIndexAttr(0)), sizes,
        steps(3, rewriter.getIndexAttr(1));
    for (int64_t d : xType.getShape())
      sizes.push_back(rewriter.getIndexAttr(d));
    for (int64_t i = 0; i < s; ++i) {
      int64_t in = inType.getDimSize(i + 2), out = outType.getDimSize(i + 2);
      int64_t low = (kernel[i] - 1) * dilations[i];
      int64_t high =
          std::max<int64_t>(0, out + pads[i] - (in - 1) * strides[i] - 1);
      spreadShape.push_back(low + (in - 1) * strides[i] + 1 + high);
      offsets.push_back(rewriter.getIndexAttr(low));
      steps.push_back(rewriter.getIndexAttr(strides[i]));
    }
    Value spread =
        filledTensor(rewriter, loc, RankedTensorType::get(spreadShape, et),
                     floatAttr(et, 0.0));
    spread = rewriter.create<tensor::InsertSliceOp>(loc, x, spread, offsets,
                                                    sizes, steps);
    Value w =
        splitDim(rewriter, loc, adaptor.getWeight(), 0, groups); // G Cg Mg K...

    int64_t perGroup = wType.getDimSize(1);
    SmallVector<int64_t> groupedShape = {outType.getDimSize(0), groups,
                                         perGroup};
    groupedShape.append(outType.getShape().begin() + 2,
                        outType.getShape().end());
    auto groupedType = RankedTensorType::get(groupedShape, et);
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    Value init =
        groupedBiasInit(rewriter, loc, adaptor.getBias(), groups, groupedType);

    unsigned numLoops = 3 + s + 1 + s;
    unsigned oFirst = 3, cDim = 3 + s, kFirst = 4 + s;
    SmallVector<AffineExpr> xExprs = {d(0), d(1), d(cDim)};
    SmallVector<AffineExpr> wExprs = {d(1), d(cDim), d(2)};
    SmallVector<AffineExpr> outExprs = {d(0), d(1), d(2)};
    for (int64_t i = 0; i < s; ++i) {
      xExprs.push_back(d(oFirst + i) + d(kFirst + i) * dilations[i] + pads[i]);
      wExprs.push_back(kernel[i] - 1 - d(kFirst + i));
      outExprs.push_back(d(oFirst + i));
    }
    // The kernel loops appear only flipped in the weight map: a shape-only
    // window operand gives them their extent.
    SmallVector<AffineExpr> winExprs;
    for (int64_t i = 0; i < s; ++i)
      winExprs.push_back(d(kFirst + i));
    Value window = rewriter.create<tensor::EmptyOp>(loc, kernel, et);
    auto conv = rewriter.create<linalg::GenericOp>(
        loc, groupedType, ValueRange{spread, w, window}, init,
        ArrayRef<AffineMap>{AffineMap::get(numLoops, 0, xExprs, ctx),
                            AffineMap::get(numLoops, 0, wExprs, ctx),
                            AffineMap::get(numLoops, 0, winExprs, ctx),
                            AffineMap::get(numLoops, 0, outExprs, ctx)},
        iterators(3 + s, 1 + s), [](OpBuilder &b, Location l, ValueRange a) {
          Value prod = b.create<arith::MulFOp>(l, a[0], a[1]);
          b.create<linalg::YieldOp>(
              l, b.create<arith::AddFOp>(l, a[3], prod).getResult());
        });
    rewriter.replaceOp(op, mergeDims(rewriter, loc, conv.getResult(0), 1));
    return success();
  }
};

/// Max pooling with argmax: one reduction with two accumulators, the value
/// and the flat input index. Windows are read through padding (the lowest
/// value), and a position inside the padding is never taken.
struct MaxPoolWithIndicesLowering : OpConversionPattern<MaxPoolWithIndicesOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MaxPoolWithIndicesOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto outType = resultType(op, 0), idxType = resultType(op, 1);
    auto inType = cast<RankedTensorType>(adaptor.getInput().getType());
    Type et = outType.getElementType();
    ArrayRef<int64_t> kernel = op.getKernelShape(), strides = op.getStrides(),
                      dilations = op.getDilations(), pads = op.getPads();
    int64_t s = kernel.size();
    bool uns = isUnsigned(op.getInput());
    TypedAttr lowest = lowestAttr(et, uns);
    SmallVector<int64_t> high = highPads(inType.getShape(), outType.getShape(),
                                         kernel, strides, dilations, pads);
    Value x = padSpatial(rewriter, loc, adaptor.getInput(), pads.take_front(s),
                         high, lowest);

    unsigned numLoops = 2 + 2 * s;
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    SmallVector<AffineExpr> xExprs = {d(0), d(1)}, winExprs,
                            outExprs = {d(0), d(1)};
    xExprs.append(windowExprs(ctx, 2, 2 + s, strides, dilations));
    for (int64_t i = 0; i < s; ++i) {
      winExprs.push_back(d(2 + s + i));
      outExprs.push_back(d(2 + i));
    }
    // Flat index strides of the spatial dims (row- or column-major).
    SmallVector<int64_t> spatialIn(inType.getShape().drop_front(2));
    SmallVector<int64_t> flatStrides(s, 1);
    int64_t spatialSize = 1;
    for (int64_t v : spatialIn)
      spatialSize *= v;
    if (op.getStorageOrder() == 0)
      for (int64_t i = s - 2; i >= 0; --i)
        flatStrides[i] = flatStrides[i + 1] * spatialIn[i + 1];
    else
      for (int64_t i = 1; i < s; ++i)
        flatStrides[i] = flatStrides[i - 1] * spatialIn[i - 1];
    int64_t channels = inType.getDimSize(1);

    Value window = rewriter.create<tensor::EmptyOp>(loc, kernel, et);
    Type i64 = rewriter.getI64Type();
    auto outMap = AffineMap::get(numLoops, 0, outExprs, ctx);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{outType, idxType}, ValueRange{x, window},
        ValueRange{filledTensor(rewriter, loc, outType, lowest),
                   filledTensor(rewriter, loc, idxType,
                                rewriter.getI64IntegerAttr(-1))},
        ArrayRef<AffineMap>{AffineMap::get(numLoops, 0, xExprs, ctx),
                            AffineMap::get(numLoops, 0, winExprs, ctx), outMap,
                            outMap},
        iterators(2 + s, s), [&](OpBuilder &b, Location l, ValueRange a) {
          auto cst = [&](int64_t v) {
            return b.create<arith::ConstantIntOp>(l, v, 64).getResult();
          };
          auto index = [&](unsigned dim) {
            return b
                .create<arith::IndexCastOp>(l, i64,
                                            b.create<linalg::IndexOp>(l, dim))
                .getResult();
          };
          Value inside = b.create<arith::ConstantIntOp>(l, 1, 1);
          Value flat = b.create<arith::AddIOp>(
              l, b.create<arith::MulIOp>(l, index(0), cst(channels)), index(1));
          flat = b.create<arith::MulIOp>(l, flat, cst(spatialSize));
          for (int64_t i = 0; i < s; ++i) {
            Value pos = b.create<arith::AddIOp>(
                l, b.create<arith::MulIOp>(l, index(2 + i), cst(strides[i])),
                b.create<arith::MulIOp>(l, index(2 + s + i),
                                        cst(dilations[i])));
            pos = b.create<arith::SubIOp>(l, pos, cst(pads[i]));
            Value ok = b.create<arith::AndIOp>(
                l,
                b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, pos,
                                        cst(0)),
                b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, pos,
                                        cst(spatialIn[i])));
            inside = b.create<arith::AndIOp>(l, inside, ok);
            flat = b.create<arith::AddIOp>(
                l, flat, b.create<arith::MulIOp>(l, pos, cst(flatStrides[i])));
          }
          Value greater;
          if (isa<FloatType>(et))
            greater = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT,
                                              a[0], a[2]);
          else
            greater = b.create<arith::CmpIOp>(
                l, uns ? arith::CmpIPredicate::ugt : arith::CmpIPredicate::sgt,
                a[0], a[2]);
          Value first = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt,
                                                a[3], cst(0));
          Value take = b.create<arith::AndIOp>(
              l, inside, b.create<arith::OrIOp>(l, greater, first));
          b.create<linalg::YieldOp>(
              l, ValueRange{b.create<arith::SelectOp>(l, take, a[0], a[2]),
                            b.create<arith::SelectOp>(l, take, flat, a[3])});
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

/// The gradient of max pooling over windows that tile the input: over the
/// input viewed as [N, C, o1, k1, o2, k2, ...], each element reads every
/// element of its window (one operand per window position, at constant
/// window indices), finds the window's first maximum as
/// MaxPoolWithIndicesLowering does (strictly greater replaces), and takes
/// the output gradient if that is itself. Every loop is parallel, so
/// lathe-parallelize can cut it, and nothing is written twice. LLVM keeps
/// it scalar (its cost model refuses the stride-k stores), which leaves
/// room for a lowering to vector code.
struct MaxPoolGradLowering : OpConversionPattern<MaxPoolGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MaxPoolGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto inType = cast<RankedTensorType>(adaptor.getInput().getType());
    ArrayRef<int64_t> kernel = op.getKernelShape();
    int64_t s = kernel.size();
    Type et = inType.getElementType();
    // [N, C, o1, k1, ...]: the input and its gradient, windows split out.
    SmallVector<int64_t> split = {inType.getDimSize(0), inType.getDimSize(1)};
    SmallVector<ReassociationIndices> reassoc = {{0}, {1}};
    for (int64_t i = 0; i < s; ++i) {
      split.push_back(inType.getDimSize(2 + i) / kernel[i]);
      split.push_back(kernel[i]);
      reassoc.push_back({2 + 2 * i, 3 + 2 * i});
    }
    auto splitType = RankedTensorType::get(split, et);
    Value x = rewriter.create<tensor::ExpandShapeOp>(
        loc, splitType, adaptor.getInput(), reassoc);

    unsigned numLoops = 2 + 2 * s;
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    auto oDim = [&](int64_t i) -> unsigned { return 2 + 2 * i; };
    auto wDim = [&](int64_t i) -> unsigned { return 3 + 2 * i; };
    SmallVector<AffineMap> maps;
    SmallVector<Value> inputs;
    int64_t positions = 1;
    for (int64_t k : kernel)
      positions *= k;
    for (int64_t p = 0; p < positions; ++p) {
      // Window position p, row-major: its index along each window dim.
      SmallVector<AffineExpr> exprs = {d(0), d(1)};
      SmallVector<int64_t> at(s);
      for (int64_t i = s - 1, rest = p; i >= 0; --i) {
        at[i] = rest % kernel[i];
        rest /= kernel[i];
      }
      for (int64_t i = 0; i < s; ++i) {
        exprs.push_back(d(oDim(i)));
        exprs.push_back(getAffineConstantExpr(at[i], ctx));
      }
      maps.push_back(AffineMap::get(numLoops, 0, exprs, ctx));
      inputs.push_back(x);
    }
    SmallVector<AffineExpr> gExprs = {d(0), d(1)};
    for (int64_t i = 0; i < s; ++i)
      gExprs.push_back(d(oDim(i)));
    maps.push_back(AffineMap::get(numLoops, 0, gExprs, ctx));
    inputs.push_back(adaptor.getOutputGrad());
    SmallVector<AffineExpr> outExprs = {d(0), d(1)};
    for (int64_t i = 0; i < s; ++i) {
      outExprs.push_back(d(oDim(i)));
      outExprs.push_back(d(wDim(i)));
    }
    maps.push_back(AffineMap::get(numLoops, 0, outExprs, ctx));

    auto generic = rewriter.create<linalg::GenericOp>(
        loc, splitType, inputs,
        ValueRange{emptyTensor(rewriter, loc, splitType)}, maps,
        iterators(numLoops), [&](OpBuilder &b, Location l, ValueRange a) {
          auto cst = [&](int64_t v) {
            return b.create<arith::ConstantIndexOp>(l, v).getResult();
          };
          Value best = a[0], bestAt = cst(0);
          for (int64_t p = 1; p < positions; ++p) {
            Value greater = b.create<arith::CmpFOp>(
                l, arith::CmpFPredicate::OGT, a[p], best);
            best = b.create<arith::SelectOp>(l, greater, a[p], best);
            bestAt = b.create<arith::SelectOp>(l, greater, cst(p), bestAt);
          }
          Value self = cst(0);
          for (int64_t i = 0; i < s; ++i)
            self = b.create<arith::AddIOp>(
                l, b.create<arith::MulIOp>(l, self, cst(kernel[i])),
                b.create<linalg::IndexOp>(l, wDim(i)));
          Value taken = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq,
                                                bestAt, self);
          Value zero = b.create<arith::ConstantOp>(l, floatAttr(et, 0.0));
          b.create<linalg::YieldOp>(l, ValueRange{b.create<arith::SelectOp>(
                                           l, taken, a[positions], zero)});
        });
    generic->setAttr(kMaxPoolGradAttr, rewriter.getDenseI64ArrayAttr(kernel));
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(
        op, inType, generic.getResult(0), reassoc);
    return success();
  }
};

/// Scatters each input element to its flat index (out-of-range indices are
/// skipped) in a zero tensor of the index shape, then pads that to the
/// output shape.
struct MaxUnpoolLowering : OpConversionPattern<MaxUnpoolOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MaxUnpoolOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto outType = resultType(op);
    Type et = outType.getElementType();
    auto inType = cast<RankedTensorType>(adaptor.getInput().getType());
    int64_t count = inType.getNumElements();
    int64_t total = 1;
    for (int64_t v : op.getIndexShape())
      total *= v;
    Value values = reshapeTo(rewriter, loc, adaptor.getInput(), {count});
    Value indices = reshapeTo(rewriter, loc, adaptor.getIndices(), {count});
    TypedAttr zero = isa<FloatType>(et) ? floatAttr(et, 0.0)
                                        : TypedAttr(IntegerAttr::get(et, 0));
    Value init =
        filledTensor(rewriter, loc, RankedTensorType::get({total}, et), zero);
    Value lb = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value ub = rewriter.create<arith::ConstantIndexOp>(loc, count);
    Value step = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    auto loop = rewriter.create<scf::ForOp>(
        loc, lb, ub, step, ValueRange{init},
        [&](OpBuilder &b, Location l, Value i, ValueRange iter) {
          Value v = b.create<tensor::ExtractOp>(l, values, i);
          Value idx = b.create<tensor::ExtractOp>(l, indices, i);
          Value ok = b.create<arith::AndIOp>(
              l,
              b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, idx,
                                      b.create<arith::ConstantIntOp>(l, 0, 64)),
              b.create<arith::CmpIOp>(
                  l, arith::CmpIPredicate::slt, idx,
                  b.create<arith::ConstantIntOp>(l, total, 64)));
          auto branch = b.create<scf::IfOp>(
              l, ok,
              [&](OpBuilder &tb, Location tl) {
                Value at =
                    tb.create<arith::IndexCastOp>(tl, tb.getIndexType(), idx);
                Value updated =
                    tb.create<tensor::InsertOp>(tl, v, iter[0], ValueRange{at});
                tb.create<scf::YieldOp>(tl, updated);
              },
              [&](OpBuilder &eb, Location el) {
                eb.create<scf::YieldOp>(el, iter[0]);
              });
          b.create<scf::YieldOp>(l, branch.getResult(0));
        });
    Value unpooled =
        reshapeTo(rewriter, loc, loop.getResult(0), op.getIndexShape());
    // index_shape keeps N and C (checked by the op).
    SmallVector<int64_t> low(outType.getRank() - 2, 0), high;
    for (int64_t i = 2; i < outType.getRank(); ++i)
      high.push_back(outType.getDimSize(i) - op.getIndexShape()[i]);
    unpooled = padSpatial(rewriter, loc, unpooled, low, high, zero);
    rewriter.replaceOp(op, unpooled);
    return success();
  }
};

} // namespace

void populateConvPoolLowering(const TypeConverter &converter,
                              RewritePatternSet &patterns) {
  patterns
      .add<ConvLowering, MaxPoolLowering, AveragePoolLowering,
           GlobalAveragePoolLowering, ConvTransposeLowering,
           MaxPoolWithIndicesLowering, MaxPoolGradLowering, MaxUnpoolLowering>(
          converter, patterns.getContext());
}

} // namespace lathe
