// Lowering of Resize (and Upsample, imported as Resize) and GridSample.
//
// Resize: the sampling positions depend only on static shapes and
// attributes, so the compiler computes, per resized dimension, a table of
// source indices and weights for every output coordinate (the ONNX reference
// algorithm, in double). The op becomes one linalg.generic whose reduction
// loops run over the taps of each dimension and gather with tensor.extract.
// GridSample reads its positions from a runtime tensor, so its generic
// computes the coordinates and taps in the body.
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

/// Scalar float arithmetic for the GridSample body.
struct FloatMath {
  OpBuilder &b;
  Location l;
  Type et;
  Value c(double v) { return floatConst(b, l, et, v); }
  Value add(Value x, Value y) { return b.create<arith::AddFOp>(l, x, y); }
  Value sub(Value x, Value y) { return b.create<arith::SubFOp>(l, x, y); }
  Value mul(Value x, Value y) { return b.create<arith::MulFOp>(l, x, y); }
  Value div(Value x, Value y) { return b.create<arith::DivFOp>(l, x, y); }
  Value floor(Value x) { return b.create<math::FloorOp>(l, x); }
  Value abs(Value x) { return b.create<math::AbsFOp>(l, x); }
  Value clamp(Value x, double lo, double hi) {
    Value v = b.create<arith::MaximumFOp>(l, x, c(lo));
    return b.create<arith::MinimumFOp>(l, v, c(hi));
  }
  Value cmp(arith::CmpFPredicate p, Value x, Value y) {
    return b.create<arith::CmpFOp>(l, p, x, y);
  }
  Value select(Value cond, Value x, Value y) {
    return b.create<arith::SelectOp>(l, cond, x, y);
  }
};

/// PyTorch's reflect_coordinates: folds `x` into [low, high] (given twice).
Value reflect(FloatMath &m, Value x, double twiceLow, double twiceHigh) {
  if (twiceLow == twiceHigh)
    return m.c(0.0);
  double lo = twiceLow / 2, span = (twiceHigh - twiceLow) / 2;
  Value in = m.abs(m.sub(x, m.c(lo)));
  Value flips = m.floor(m.div(in, m.c(span)));
  Value extra = m.sub(in, m.mul(flips, m.c(span)));
  Value half = m.floor(m.mul(flips, m.c(0.5)));
  Value even = m.cmp(arith::CmpFPredicate::OEQ,
                     m.sub(flips, m.mul(half, m.c(2.0))), m.c(0.0));
  return m.select(even, m.add(extra, m.c(lo)),
                  m.add(m.sub(m.c(span), extra), m.c(lo)));
}

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
    bool align = op.getAlignCorners();
    StringRef mode = op.getMode(), padding = op.getPaddingMode();

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
          auto unnormalise = [&](Value g, int64_t size) {
            Value g1 = m.add(g, m.c(1.0));
            if (align)
              return m.mul(m.mul(g1, m.c(0.5)), m.c(double(size - 1)));
            return m.mul(m.sub(m.mul(g1, m.c(double(size))), m.c(1.0)),
                         m.c(0.5));
          };
          // Padding applied to a coordinate (border/reflection).
          auto pad = [&](Value v, int64_t size) {
            if (padding == "border")
              return m.clamp(v, 0.0, double(size - 1));
            if (padding == "reflection") {
              v = align ? reflect(m, v, 0.0, 2.0 * (size - 1))
                        : reflect(m, v, -1.0, 2.0 * size - 1);
              return m.clamp(v, 0.0, double(size - 1));
            }
            return v;
          };
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
          Value ix = unnormalise(a[0], width), iy = unnormalise(a[1], height);
          Value result;
          if (mode == "nearest") {
            ix = b.create<math::RoundEvenOp>(l, pad(ix, width));
            iy = b.create<math::RoundEvenOp>(l, pad(iy, height));
            result = read(ix, iy);
          } else if (mode == "bilinear") {
            ix = pad(ix, width);
            iy = pad(iy, height);
            Value x0 = m.floor(ix), y0 = m.floor(iy);
            Value x1 = m.add(x0, m.c(1.0)), y1 = m.add(y0, m.c(1.0));
            Value wx1 = m.sub(ix, x0), wy1 = m.sub(iy, y0);
            Value wx0 = m.sub(m.c(1.0), wx1), wy0 = m.sub(m.c(1.0), wy1);
            result = m.add(m.add(m.mul(read(x0, y0), m.mul(wx0, wy0)),
                                 m.mul(read(x1, y0), m.mul(wx1, wy0))),
                           m.add(m.mul(read(x0, y1), m.mul(wx0, wy1)),
                                 m.mul(read(x1, y1), m.mul(wx1, wy1))));
          } else { // bicubic: taps are padded one by one
            Value x0 = m.floor(ix), y0 = m.floor(iy);
            Value tx = m.sub(ix, x0), ty = m.sub(iy, y0);
            auto coeffs = [&](Value t) {
              const double A = -0.75;
              auto near = [&](Value v) { // |v| <= 1
                return m.add(
                    m.mul(m.mul(m.sub(m.mul(m.c(A + 2), v), m.c(A + 3)), v), v),
                    m.c(1.0));
              };
              auto far = [&](Value v) { // 1 < |v| < 2
                return m.sub(
                    m.mul(m.add(m.mul(m.sub(m.mul(m.c(A), v), m.c(5 * A)), v),
                                m.c(8 * A)),
                          v),
                    m.c(4 * A));
              };
              Value one = m.c(1.0);
              return SmallVector<Value>{far(m.add(t, one)), near(t),
                                        near(m.sub(one, t)),
                                        far(m.sub(m.c(2.0), t))};
            };
            SmallVector<Value> cx = coeffs(tx), cy = coeffs(ty);
            result = m.c(0.0);
            for (int j = 0; j < 4; ++j) {
              Value row = m.c(0.0);
              Value yj = pad(m.add(y0, m.c(double(j - 1))), height);
              for (int i = 0; i < 4; ++i) {
                Value xi = pad(m.add(x0, m.c(double(i - 1))), width);
                row = m.add(row, m.mul(read(xi, yj), cx[i]));
              }
              result = m.add(result, m.mul(row, cy[j]));
            }
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
