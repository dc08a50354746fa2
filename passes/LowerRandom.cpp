// Lowering of random generators to linalg.
//
// Counter-based generation: element i (row-major, from linalg.index) gets
// the 64 bits mix(key + (i + 1) * 0x9E3779B97F4A7C15), where mix is
// SplitMix64's output function (xor-shift-multiply, a strong 64-bit
// integer hash) and key is derived from the op's seed and the stream (a
// generator needing two numbers per element uses two keys). This is
// SplitMix64 started at the key, evaluated at position i, so the values do
// not depend on loop order, tiling or threads and are reproducible bit for
// bit for a given seed.
#include "ir/LatheOps.h"
#include "passes/LoweringUtils.h"

#include <cmath>

using namespace mlir;

namespace lathe {
namespace {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;

/// SplitMix64's output function.
uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// The key of stream `stream` of a generator seeded with `seed`.
uint64_t streamKey(int64_t seed, uint64_t stream) {
  return mix64(static_cast<uint64_t>(seed) + stream * kGolden);
}

Value i64Const(OpBuilder &b, Location l, uint64_t v) {
  return b.create<arith::ConstantOp>(
      l, b.getI64IntegerAttr(static_cast<int64_t>(v)));
}

/// Row-major position of the current element of a linalg.generic over
/// `shape`, as i64.
Value linearIndex(OpBuilder &b, Location l, ArrayRef<int64_t> shape) {
  Value flat = shape.empty()
                   ? b.create<arith::ConstantIndexOp>(l, 0).getResult()
                   : b.create<linalg::IndexOp>(l, 0).getResult();
  for (size_t d = 1; d < shape.size(); ++d) {
    Value size = b.create<arith::ConstantIndexOp>(l, shape[d]);
    flat = b.create<arith::AddIOp>(l, b.create<arith::MulIOp>(l, flat, size),
                                   b.create<linalg::IndexOp>(l, d));
  }
  return b.create<arith::IndexCastOp>(l, b.getI64Type(), flat);
}

/// SplitMix64's output function on an i64 value.
Value mix64(OpBuilder &b, Location l, Value z) {
  auto xorShift = [&](Value v, int64_t s) {
    return b.create<arith::XOrIOp>(
        l, v, b.create<arith::ShRUIOp>(l, v, i64Const(b, l, s)));
  };
  z = b.create<arith::MulIOp>(l, xorShift(z, 30),
                              i64Const(b, l, 0xBF58476D1CE4E5B9ull));
  z = b.create<arith::MulIOp>(l, xorShift(z, 27),
                              i64Const(b, l, 0x94D049BB133111EBull));
  return xorShift(z, 31);
}

/// 64 random bits of element `index` of the stream with `key` (an i64
/// value: a constant, or computed at run time from a step counter).
Value randomBits(OpBuilder &b, Location l, Value index, Value key) {
  Value one = i64Const(b, l, 1);
  Value z = b.create<arith::AddIOp>(
      l, key,
      b.create<arith::MulIOp>(l, b.create<arith::AddIOp>(l, index, one),
                              i64Const(b, l, kGolden)));
  return mix64(b, l, z);
}

Value randomBits(OpBuilder &b, Location l, Value index, uint64_t key) {
  return randomBits(b, l, index, i64Const(b, l, key));
}

/// Bits of the type's significand (53 for f64, 24 for f32, 11 for f16, 8
/// for bf16): uniforms on this grid are exact in the type.
unsigned gridBits(FloatType t) { return t.getFPMantissaWidth(); }

/// A uniform number in [0, 1) of type `t` from 64 random bits (their top
/// gridBits(t) bits).
Value uniform01(OpBuilder &b, Location l, Value bits, FloatType t) {
  unsigned p = gridBits(t);
  Value top = b.create<arith::ShRUIOp>(l, bits, i64Const(b, l, 64 - p));
  Value asFloat = b.create<arith::UIToFPOp>(l, t, top);
  return b.create<arith::MulFOp>(l, asFloat,
                                 floatConst(b, l, t, std::ldexp(1.0, -int(p))));
}

/// A linalg.generic over `type`'s shape with no inputs; `body` gets the
/// element's linear index.
Value generate(OpBuilder &b, Location loc, RankedTensorType type,
               function_ref<Value(OpBuilder &, Location, Value)> body) {
  MLIRContext *ctx = b.getContext();
  int64_t rank = type.getRank();
  auto generic = b.create<linalg::GenericOp>(
      loc, type, ValueRange{}, ValueRange{emptyTensor(b, loc, type)},
      ArrayRef<AffineMap>{AffineMap::getMultiDimIdentityMap(rank, ctx)},
      iterators(rank), [&](OpBuilder &nb, Location l, ValueRange) {
        Value v = body(nb, l, linearIndex(nb, l, type.getShape()));
        nb.create<linalg::YieldOp>(l, v);
      });
  return generic.getResult(0);
}

struct RandomUniformLowering : OpConversionPattern<RandomUniformOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RandomUniformOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = resultType(op);
    auto et = cast<FloatType>(type.getElementType());
    double low = op.getLow().convertToFloat();
    double high = op.getHigh().convertToFloat();
    uint64_t key = streamKey(op.getSeed(), 0);
    Value v = generate(
        rewriter, op.getLoc(), type,
        [&](OpBuilder &b, Location l, Value index) -> Value {
          Value u = uniform01(b, l, randomBits(b, l, index, key), et);
          Value scaled =
              b.create<arith::MulFOp>(l, u, floatConst(b, l, et, high - low));
          return b.create<arith::AddFOp>(l, scaled, floatConst(b, l, et, low));
        });
    rewriter.replaceOp(op, v);
    return success();
  }
};

/// Box-Muller: sqrt(-2 ln(1 - u1)) * cos(2 pi u2), u1 and u2 from two
/// streams.
struct RandomNormalLowering : OpConversionPattern<RandomNormalOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RandomNormalOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = resultType(op);
    auto et = cast<FloatType>(type.getElementType());
    double mean = op.getMean().convertToFloat();
    double scale = op.getScale().convertToFloat();
    uint64_t key1 = streamKey(op.getSeed(), 1),
             key2 = streamKey(op.getSeed(), 2);
    Value v = generate(
        rewriter, op.getLoc(), type,
        [&](OpBuilder &b, Location l, Value index) -> Value {
          Value u1 = uniform01(b, l, randomBits(b, l, index, key1), et);
          Value u2 = uniform01(b, l, randomBits(b, l, index, key2), et);
          // 1 - u1 is in (0, 1]: the log stays finite.
          Value open =
              b.create<arith::SubFOp>(l, floatConst(b, l, et, 1.0), u1);
          Value radius = b.create<math::SqrtOp>(
              l, b.create<arith::MulFOp>(l, floatConst(b, l, et, -2.0),
                                         b.create<math::LogOp>(l, open)));
          Value angle =
              b.create<arith::MulFOp>(l, u2, floatConst(b, l, et, 2 * M_PI));
          Value z = b.create<arith::MulFOp>(l, radius,
                                            b.create<math::CosOp>(l, angle));
          return b.create<arith::AddFOp>(
              l, b.create<arith::MulFOp>(l, z, floatConst(b, l, et, scale)),
              floatConst(b, l, et, mean));
        });
    rewriter.replaceOp(op, v);
    return success();
  }
};

/// 1 or 0 of element type `t` (signless integer, i1 or float).
Value oneOrZero(OpBuilder &b, Location l, Value cond, Type t) {
  if (t.isInteger(1))
    return cond;
  if (auto it = dyn_cast<IntegerType>(t))
    return b.create<arith::ExtUIOp>(l, it, cond);
  return b.create<arith::SelectOp>(l, cond, floatConst(b, l, t, 1.0),
                                   floatConst(b, l, t, 0.0));
}

struct BernoulliLowering : OpConversionPattern<BernoulliOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BernoulliOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = resultType(op);
    Type out = type.getElementType();
    uint64_t key = streamKey(op.getSeed(), 0);
    ArrayRef<int64_t> shape = type.getShape();
    Value v = buildElementwise(
        rewriter, op.getLoc(), type, {adaptor.getInput()},
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          auto pt = cast<FloatType>(a[0].getType());
          Value bits = randomBits(b, l, linearIndex(b, l, shape), key);
          Value u = uniform01(b, l, bits, pt);
          Value hit =
              b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLT, u, a[0]);
          return oneOrZero(b, l, hit, out);
        });
    rewriter.replaceOp(op, v);
    return success();
  }
};

/// Streams of dropout ops keyed by a step: 2^32 + op_index (see
/// LatheRandomOps.td), clear of the training driver's streams
/// (tools/lib/CounterRng.h).
constexpr uint64_t kDropoutStreamBase = 1ull << 32;

/// One linalg.generic with two results (output, mask); the scalar ratio and
/// training flag (and the step, when there is one) are rank-0 operands
/// broadcast into it. With a step the key mix(opKey ^ step) is computed in
/// the loop body from the 0-d step: a few integer ops per element next to
/// the mix each element needs anyway, and loop-invariant.
struct TrainingDropoutLowering : OpConversionPattern<TrainingDropoutOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TrainingDropoutOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto outType = resultType(op, 0), maskType = resultType(op, 1);
    auto et = cast<FloatType>(outType.getElementType());
    int64_t rank = outType.getRank();
    ArrayRef<int64_t> shape = outType.getShape();
    Value step = adaptor.getStep();
    // Without a step: the constant key of the ONNX importer's ops (which the
    // conformance data was checked against). With one: the key of (seed,
    // op_index), mixed with the step at run time.
    uint64_t key = step ? mix64(mix64(static_cast<uint64_t>(op.getSeed())) ^
                                (kDropoutStreamBase + *op.getOpIndex()))
                        : streamKey(op.getSeed(), 0);
    AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
    AffineMap scalar = AffineMap::get(rank, 0, {}, ctx);
    SmallVector<Value> inputs{adaptor.getInput(), adaptor.getRatio(),
                              adaptor.getTraining()};
    SmallVector<AffineMap> maps{id, scalar, scalar};
    if (step) {
      inputs.push_back(step);
      maps.push_back(scalar);
    }
    maps.append({id, id});
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{outType, maskType}, inputs,
        ValueRange{emptyTensor(rewriter, loc, outType),
                   emptyTensor(rewriter, loc, maskType)},
        maps, iterators(rank), [&](OpBuilder &b, Location l, ValueRange a) {
          Value x = a[0], ratio = a[1], training = a[2];
          Value runKey = i64Const(b, l, key);
          if (step)
            runKey = mix64(b, l, b.create<arith::XOrIOp>(l, runKey, a[3]));
          auto rt = cast<FloatType>(ratio.getType());
          if (rt != et && rt.getWidth() == et.getWidth()) // f16 <-> bf16
            ratio = b.create<arith::ExtFOp>(l, b.getF32Type(), ratio);
          auto wt = cast<FloatType>(ratio.getType());
          if (wt.getWidth() < et.getWidth())
            ratio = b.create<arith::ExtFOp>(l, et, ratio);
          else if (wt.getWidth() > et.getWidth())
            ratio = b.create<arith::TruncFOp>(l, et, ratio);
          Value bits = randomBits(b, l, linearIndex(b, l, shape), runKey);
          Value u = uniform01(b, l, bits, et);
          Value keep =
              b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGE, u, ratio);
          Value one = floatConst(b, l, et, 1.0);
          Value scale = b.create<arith::DivFOp>(
              l, one, b.create<arith::SubFOp>(l, one, ratio));
          Value kept = b.create<arith::MulFOp>(l, x, scale);
          Value dropped = b.create<arith::SelectOp>(l, keep, kept,
                                                    floatConst(b, l, et, 0.0));
          Value y = b.create<arith::SelectOp>(l, training, dropped, x);
          Value notTraining = b.create<arith::XOrIOp>(
              l, training, b.create<arith::ConstantOp>(l, b.getBoolAttr(true)));
          Value mask = b.create<arith::OrIOp>(l, keep, notTraining);
          b.create<linalg::YieldOp>(l, ValueRange{y, mask});
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

} // namespace

void populateRandomLowering(const TypeConverter &converter,
                            RewritePatternSet &patterns) {
  patterns.add<RandomUniformLowering, RandomNormalLowering, BernoulliLowering,
               TrainingDropoutLowering>(converter, patterns.getContext());
}

} // namespace lathe
