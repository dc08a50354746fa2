#include "passes/LoweringUtils.h"

using namespace mlir;

namespace lathe {

AffineMap broadcastMap(MLIRContext *ctx, ArrayRef<int64_t> inShape,
                       ArrayRef<int64_t> outShape) {
  SmallVector<AffineExpr> exprs;
  size_t offset = outShape.size() - inShape.size();
  for (size_t i = 0; i < inShape.size(); ++i) {
    if (inShape[i] == 1 && outShape[i + offset] != 1)
      exprs.push_back(getAffineConstantExpr(0, ctx));
    else
      exprs.push_back(getAffineDimExpr(i + offset, ctx));
  }
  return AffineMap::get(outShape.size(), 0, exprs, ctx);
}

SmallVector<utils::IteratorType> iterators(unsigned parallel,
                                           unsigned reduction) {
  SmallVector<utils::IteratorType> its(parallel, utils::IteratorType::parallel);
  its.append(reduction, utils::IteratorType::reduction);
  return its;
}

Value emptyTensor(OpBuilder &b, Location loc, RankedTensorType type) {
  return b.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType());
}

Value filledTensor(OpBuilder &b, Location loc, RankedTensorType type,
                   TypedAttr value) {
  Value scalar = b.create<arith::ConstantOp>(loc, value);
  return b.create<linalg::FillOp>(loc, scalar, emptyTensor(b, loc, type))
      .getResult(0);
}

Value buildElementwise(OpBuilder &b, Location loc, RankedTensorType outType,
                       ValueRange inputs, BodyFn body) {
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps;
  for (Value in : inputs)
    maps.push_back(broadcastMap(ctx,
                                cast<RankedTensorType>(in.getType()).getShape(),
                                outType.getShape()));
  maps.push_back(AffineMap::getMultiDimIdentityMap(outType.getRank(), ctx));
  auto generic = b.create<linalg::GenericOp>(
      loc, outType, inputs, ValueRange{emptyTensor(b, loc, outType)}, maps,
      iterators(outType.getRank()),
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value v = body(nb, nloc, args.drop_back());
        nb.create<linalg::YieldOp>(nloc, v);
      });
  return generic.getResult(0);
}

Value reshapeTo(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(v.getType());
  if (type.getShape() == shape)
    return v;
  auto outType = RankedTensorType::get(shape, type.getElementType());
  if (type.getRank() == 0)
    return b.create<tensor::ExpandShapeOp>(loc, outType, v,
                                           ArrayRef<ReassociationIndices>{});
  if (shape.empty())
    return b.create<tensor::CollapseShapeOp>(loc, outType, v,
                                             ArrayRef<ReassociationIndices>{});
  Value flat = v;
  if (type.getRank() != 1) {
    ReassociationIndices all;
    for (int64_t i = 0; i < type.getRank(); ++i)
      all.push_back(i);
    flat = b.create<tensor::CollapseShapeOp>(
        loc, v, ArrayRef<ReassociationIndices>{all});
  }
  if (shape.size() == 1)
    return flat;
  ReassociationIndices all;
  for (size_t i = 0; i < shape.size(); ++i)
    all.push_back(i);
  return b.create<tensor::ExpandShapeOp>(loc, outType, flat,
                                         ArrayRef<ReassociationIndices>{all});
}

Value padSpatial(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> low,
                 ArrayRef<int64_t> high, TypedAttr padValue) {
  bool any = false;
  for (int64_t p : low)
    any |= p != 0;
  for (int64_t p : high)
    any |= p != 0;
  if (!any)
    return v;
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> lo = {0, 0}, hi = {0, 0}, shape;
  lo.append(low.begin(), low.end());
  hi.append(high.begin(), high.end());
  SmallVector<OpFoldResult> loAttrs, hiAttrs;
  for (int64_t i = 0; i < type.getRank(); ++i) {
    shape.push_back(type.getDimSize(i) + lo[i] + hi[i]);
    loAttrs.push_back(b.getIndexAttr(lo[i]));
    hiAttrs.push_back(b.getIndexAttr(hi[i]));
  }
  auto outType = RankedTensorType::get(shape, type.getElementType());
  Value pad = b.create<arith::ConstantOp>(loc, padValue);
  return b.create<tensor::PadOp>(loc, outType, v, loAttrs, hiAttrs, pad);
}

Type signlessType(Type t) {
  if (auto tensor = dyn_cast<RankedTensorType>(t))
    return RankedTensorType::get(tensor.getShape(),
                                 signlessType(tensor.getElementType()));
  if (auto i = dyn_cast<IntegerType>(t); i && !i.isSignless())
    return IntegerType::get(t.getContext(), i.getWidth());
  return t;
}

RankedTensorType resultType(Operation *op, unsigned i) {
  return cast<RankedTensorType>(signlessType(op->getResult(i).getType()));
}

bool isUnsigned(Value v) {
  Type t = v.getType();
  if (auto shaped = dyn_cast<ShapedType>(t))
    t = shaped.getElementType();
  return t.isUnsignedInteger();
}

TypedAttr floatAttr(Type t, double v) { return FloatAttr::get(t, v); }

Value floatConst(OpBuilder &b, Location loc, Type t, double v) {
  return b.create<arith::ConstantOp>(loc, floatAttr(t, v));
}

Value buildIndexedGeneric(OpBuilder &b, Location loc, RankedTensorType outType,
                          ValueRange inputs, ArrayRef<AffineMap> inputMaps,
                          IndexedBodyFn body) {
  SmallVector<AffineMap> maps(inputMaps.begin(), inputMaps.end());
  maps.push_back(
      AffineMap::getMultiDimIdentityMap(outType.getRank(), b.getContext()));
  auto generic = b.create<linalg::GenericOp>(
      loc, outType, inputs, ValueRange{emptyTensor(b, loc, outType)}, maps,
      iterators(outType.getRank()),
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        SmallVector<Value> ivs;
        for (int64_t d = 0; d < outType.getRank(); ++d)
          ivs.push_back(nb.create<linalg::IndexOp>(nloc, d));
        nb.create<linalg::YieldOp>(nloc, body(nb, nloc, args.drop_back(), ivs));
      });
  return generic.getResult(0);
}

Value normalisedIndex(OpBuilder &b, Location loc, Value idx, int64_t dim,
                      bool isUnsigned) {
  Value i = isUnsigned
                ? b.create<arith::IndexCastUIOp>(loc, b.getIndexType(), idx)
                      .getResult()
                : b.create<arith::IndexCastOp>(loc, b.getIndexType(), idx)
                      .getResult();
  if (isUnsigned)
    return i;
  Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
  Value negative =
      b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, i, zero);
  Value wrapped = b.create<arith::AddIOp>(
      loc, i, b.create<arith::ConstantIndexOp>(loc, dim));
  return b.create<arith::SelectOp>(loc, negative, wrapped, i);
}

bool replaceIfEmpty(Operation *op, ConversionPatternRewriter &rewriter) {
  RankedTensorType type = resultType(op);
  if (type.getNumElements() != 0)
    return false;
  rewriter.replaceOp(op, emptyTensor(rewriter, op->getLoc(), type));
  return true;
}

} // namespace lathe
