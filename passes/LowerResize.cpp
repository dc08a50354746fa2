// Lowering of Resize (and Upsample, imported as Resize) and GridSample.
//
// Resize: the sampling positions depend only on static shapes and
// attributes, so the compiler computes, per resized dimension, a table of
// source indices and weights for every output coordinate (the ONNX reference
// algorithm, in double). The op becomes one linalg.generic whose reduction
// loops run over the taps of each dimension and gather with tensor.extract.
// GridSample reads its positions from a runtime tensor, so its generic
// computes the coordinates and taps in the body, by the sampling rule its
// vector-Jacobian product shares (ir/GridSampleRule.h).
#include "ir/GridSampleRule.h"
#include "ir/LatheOps.h"
#include "ir/ResizeTaps.h"
#include "passes/LoweringUtils.h"

#include <cmath>

using namespace mlir;

namespace lathe {
namespace {

//===----------------------------------------------------------------------===//
// Resize
//===----------------------------------------------------------------------===//

struct ResizeLowering : OpConversionPattern<ResizeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ResizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto outType = resultType(op);
    Type et = outType.getElementType();
    Value x = adaptor.getInput();
    auto inType = cast<RankedTensorType>(x.getType());
    int64_t rank = outType.getRank();
    bool weighted = op.getMode() != "nearest";

    // Per dim: a direct index (unchanged dim), or tables [out, taps].
    struct DimPlan {
      bool direct = true;
      int64_t numTaps = 1;
      int64_t loop = -1; // reduction loop of the taps, when numTaps > 1
      Value index, weight, outside;
    };
    SmallVector<DimPlan> plans(rank);
    unsigned numLoops = rank;
    for (int64_t d = 0; d < rank; ++d) {
      int64_t in = inType.getDimSize(d), out = outType.getDimSize(d);
      std::vector<ResizeTaps> taps = resizeTaps(op, d, in, out);
      DimPlan &p = plans[d];
      bool anyOutside = false;
      for (int64_t o = 0; o < out; ++o) {
        p.numTaps = std::max<int64_t>(p.numTaps, taps[o].taps.size());
        anyOutside |= taps[o].outside;
        p.direct &= !taps[o].outside && taps[o].taps.size() == 1 &&
                    taps[o].taps[0].first == o && taps[o].taps[0].second == 1.0;
      }
      p.direct &= in == out;
      if (p.direct)
        continue;
      if (p.numTaps > 1)
        p.loop = numLoops++;
      SmallVector<int64_t> idx;
      SmallVector<Attribute> w;
      for (int64_t o = 0; o < out; ++o)
        for (int64_t k = 0; k < p.numTaps; ++k) {
          bool has = k < static_cast<int64_t>(taps[o].taps.size());
          idx.push_back(has ? taps[o].taps[k].first : 0);
          w.push_back(floatAttr(weighted ? et : rewriter.getF32Type(),
                                has ? taps[o].taps[k].second : 0.0));
        }
      auto idxType =
          RankedTensorType::get({out, p.numTaps}, rewriter.getI64Type());
      p.index = rewriter.create<arith::ConstantOp>(
          loc, DenseElementsAttr::get(idxType, ArrayRef<int64_t>(idx)));
      if (weighted)
        p.weight = rewriter.create<arith::ConstantOp>(
            loc, DenseElementsAttr::get(
                     RankedTensorType::get({out, p.numTaps}, et), w));
      if (anyOutside) {
        SmallVector<bool> flags;
        for (int64_t o = 0; o < out; ++o)
          flags.push_back(taps[o].outside);
        p.outside = rewriter.create<arith::ConstantOp>(
            loc, DenseElementsAttr::get(
                     RankedTensorType::get({out}, rewriter.getI1Type()),
                     ArrayRef<bool>(flags)));
      }
    }

    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    SmallVector<Value> inputs;
    SmallVector<AffineMap> maps;
    for (int64_t k = 0; k < rank; ++k) {
      DimPlan &p = plans[k];
      if (p.direct)
        continue;
      AffineExpr tap = p.loop >= 0 ? d(p.loop) : getAffineConstantExpr(0, ctx);
      AffineMap m = AffineMap::get(numLoops, 0, {d(k), tap}, ctx);
      inputs.push_back(p.index);
      maps.push_back(m);
      if (weighted) {
        inputs.push_back(p.weight);
        maps.push_back(m);
      }
    }
    SmallVector<AffineExpr> outExprs;
    for (int64_t k = 0; k < rank; ++k)
      outExprs.push_back(d(k));
    maps.push_back(AffineMap::get(numLoops, 0, outExprs, ctx));
    Value init = weighted
                     ? filledTensor(rewriter, loc, outType, floatAttr(et, 0.0))
                     : emptyTensor(rewriter, loc, outType);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, outType, inputs, init, maps, iterators(rank, numLoops - rank),
        [&](OpBuilder &b, Location l, ValueRange a) {
          SmallVector<Value> at;
          Value weight;
          unsigned next = 0;
          for (int64_t k = 0; k < rank; ++k) {
            if (plans[k].direct) {
              at.push_back(b.create<linalg::IndexOp>(l, k));
              continue;
            }
            at.push_back(
                b.create<arith::IndexCastOp>(l, b.getIndexType(), a[next++]));
            if (weighted) {
              Value w = a[next++];
              weight = weight
                           ? b.create<arith::MulFOp>(l, weight, w).getResult()
                           : w;
            }
          }
          Value v = b.create<tensor::ExtractOp>(l, x, at);
          if (weighted && weight)
            v = b.create<arith::AddFOp>(l, a.back(),
                                        b.create<arith::MulFOp>(l, v, weight));
          else if (weighted)
            v = b.create<arith::AddFOp>(l, a.back(), v);
          b.create<linalg::YieldOp>(l, v);
        });
    Value result = generic.getResult(0);

    // tf_crop_and_resize: a sample outside the roi in any dim is the
    // extrapolation value.
    SmallVector<Value> flagInputs = {result};
    SmallVector<AffineMap> flagMaps = {
        AffineMap::getMultiDimIdentityMap(rank, ctx)};
    for (int64_t k = 0; k < rank; ++k)
      if (plans[k].outside) {
        flagInputs.push_back(plans[k].outside);
        flagMaps.push_back(AffineMap::get(rank, 0, d(k)));
      }
    if (flagInputs.size() > 1) {
      double ext = op.getExtrapolationValue().convertToDouble();
      flagMaps.push_back(AffineMap::getMultiDimIdentityMap(rank, ctx));
      result =
          rewriter
              .create<linalg::GenericOp>(
                  loc, outType, flagInputs,
                  ValueRange{emptyTensor(rewriter, loc, outType)}, flagMaps,
                  iterators(rank),
                  [&](OpBuilder &b, Location l, ValueRange a) {
                    Value any = a[1];
                    for (Value f : a.drop_front(2).drop_back())
                      any = b.create<arith::OrIOp>(l, any, f);
                    Value e;
                    if (isa<FloatType>(et))
                      e = floatConst(b, l, et, ext);
                    else
                      e = b.create<arith::ConstantOp>(
                          l, IntegerAttr::get(et, static_cast<int64_t>(ext)));
                    b.create<linalg::YieldOp>(
                        l,
                        b.create<arith::SelectOp>(l, any, e, a[0]).getResult());
                  })
              .getResult(0);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// GridSample
//===----------------------------------------------------------------------===//

/// Scalar float arithmetic for the GridSample body: the arithmetic `M` of
/// the shared sampling rule (ir/GridSampleRule.h).
struct FloatMath {
  using V = Value;
  using B = Value;
  OpBuilder &b;
  Location l;
  Type et;
  Value c(double v) { return floatConst(b, l, et, v); }
  Value add(Value x, Value y) { return b.create<arith::AddFOp>(l, x, y); }
  Value sub(Value x, Value y) { return b.create<arith::SubFOp>(l, x, y); }
  Value mul(Value x, Value y) { return b.create<arith::MulFOp>(l, x, y); }
  Value div(Value x, Value y) { return b.create<arith::DivFOp>(l, x, y); }
  Value floor(Value x) { return b.create<math::FloorOp>(l, x); }
  Value roundEven(Value x) { return b.create<math::RoundEvenOp>(l, x); }
  Value abs(Value x) { return b.create<math::AbsFOp>(l, x); }
  Value clamp(Value x, double lo, double hi) {
    Value v = b.create<arith::MaximumFOp>(l, x, c(lo));
    return b.create<arith::MinimumFOp>(l, v, c(hi));
  }
  Value cmp(arith::CmpFPredicate p, Value x, Value y) {
    return b.create<arith::CmpFOp>(l, p, x, y);
  }
  Value equal(Value x, Value y) { return cmp(arith::CmpFPredicate::OEQ, x, y); }
  Value select(Value cond, Value x, Value y) {
    return b.create<arith::SelectOp>(l, cond, x, y);
  }
};

struct GridSampleLowering : OpConversionPattern<GridSampleOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GridSampleOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto outType = resultType(op);
    Type et = outType.getElementType();
    Value x = adaptor.getInput();
    auto inType = cast<RankedTensorType>(x.getType());
    int64_t height = inType.getDimSize(2), width = inType.getDimSize(3);
    gridsample::Attrs attrs(op.getMode(), op.getPaddingMode(),
                            op.getAlignCorners());

    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    auto gridMap = [&](int64_t k) {
      return AffineMap::get(
          4, 0, {d(0), d(2), d(3), getAffineConstantExpr(k, ctx)}, ctx);
    };
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, outType, ValueRange{adaptor.getGrid(), adaptor.getGrid()},
        ValueRange{emptyTensor(rewriter, loc, outType)},
        ArrayRef<AffineMap>{gridMap(0), gridMap(1),
                            AffineMap::getMultiDimIdentityMap(4, ctx)},
        iterators(4), [&](OpBuilder &b, Location l, ValueRange a) {
          FloatMath m{b, l, et};
          Value n = b.create<linalg::IndexOp>(l, 0);
          Value ch = b.create<linalg::IndexOp>(l, 1);
          // The input at integral float coordinates, 0 outside.
          auto read = [&](Value fx, Value fy) {
            Value inside = b.create<arith::AndIOp>(
                l,
                b.create<arith::AndIOp>(
                    l, m.cmp(arith::CmpFPredicate::OGE, fx, m.c(0.0)),
                    m.cmp(arith::CmpFPredicate::OLE, fx,
                          m.c(double(width - 1)))),
                b.create<arith::AndIOp>(
                    l, m.cmp(arith::CmpFPredicate::OGE, fy, m.c(0.0)),
                    m.cmp(arith::CmpFPredicate::OLE, fy,
                          m.c(double(height - 1)))));
            auto toIndex = [&](Value f, int64_t size) {
              Value cl = m.clamp(f, 0.0, double(size - 1));
              Value i = b.create<arith::FPToSIOp>(l, b.getI64Type(), cl);
              return b.create<arith::IndexCastOp>(l, b.getIndexType(), i)
                  .getResult();
            };
            Value v = b.create<tensor::ExtractOp>(
                l, x,
                ValueRange{n, ch, toIndex(fy, height), toIndex(fx, width)});
            return m.select(inside, v, m.c(0.0));
          };
          auto tx = gridsample::axisTaps(m, a[0], width, attrs);
          auto ty = gridsample::axisTaps(m, a[1], height, attrs);
          Value result;
          switch (attrs.mode) {
          case gridsample::Mode::Nearest:
            result = read(tx.pos[0], ty.pos[0]);
            break;
          case gridsample::Mode::Bilinear: {
            auto tap = [&](int i, int j) {
              return m.mul(read(tx.pos[i], ty.pos[j]),
                           m.mul(tx.weight[i], ty.weight[j]));
            };
            result =
                m.add(m.add(tap(0, 0), tap(1, 0)), m.add(tap(0, 1), tap(1, 1)));
            break;
          }
          case gridsample::Mode::Bicubic:
            result = m.c(0.0);
            for (int j = 0; j < 4; ++j) {
              Value row = m.c(0.0);
              for (int i = 0; i < 4; ++i)
                row =
                    m.add(row, m.mul(read(tx.pos[i], ty.pos[j]), tx.weight[i]));
              result = m.add(result, m.mul(row, ty.weight[j]));
            }
            break;
          }
          b.create<linalg::YieldOp>(l, result);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

} // namespace

void populateResizeLowering(const TypeConverter &converter,
                            RewritePatternSet &patterns) {
  patterns.add<ResizeLowering, GridSampleLowering>(converter,
                                                   patterns.getContext());
}

} // namespace lathe
