// Lowering of RNN, GRU and LSTM to an scf.for over the time steps.
//
// Per direction: the input projection X*W^T (+ biases) of all steps is one
// contraction before the loop, in processing order (a reverse direction
// reads X backwards through its indexing map, or through a per-batch gather
// when sequence_lens is given). The loop carries the hidden state (and the
// cell state) and the outputs of the steps so far; each step slices its
// projection, multiplies the state by R^T and applies the cell's gates in
// one elementwise linalg.generic whose maps read the gates out of the
// [batch, gates*hidden] projections. After the loop, the step outputs are
// put back in time order and in the requested layout.
#include "ir/LatheOps.h"
#include "ir/RecurrentLayer.h"
#include "passes/LoweringUtils.h"

using namespace mlir;

namespace lathe {
namespace {

using Cell = RecurrentCell;
using Activation = RecurrentActivation;

Value activate(OpBuilder &b, Location l, const Activation &fn, Value x) {
  Type t = x.getType();
  auto c = [&](double v) { return floatConst(b, l, t, v); };
  auto mul = [&](Value p, Value q) { return b.create<arith::MulFOp>(l, p, q); };
  auto add = [&](Value p, Value q) { return b.create<arith::AddFOp>(l, p, q); };
  auto select = [&](Value cond, Value p, Value q) {
    return b.create<arith::SelectOp>(l, cond, p, q).getResult();
  };
  Value zero = c(0), one = c(1);
  StringRef n = fn.name;
  if (n == "Relu")
    return b.create<arith::MaximumFOp>(l, x, zero);
  if (n == "Tanh")
    return b.create<math::TanhOp>(l, x);
  if (n == "Sigmoid")
    return b.create<arith::DivFOp>(
        l, one,
        add(one, b.create<math::ExpOp>(l, b.create<arith::NegFOp>(l, x))));
  if (n == "Affine")
    return add(mul(c(fn.alpha), x), c(fn.beta));
  if (n == "LeakyRelu")
    return select(
        b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGE, x, zero), x,
        mul(c(fn.alpha), x));
  if (n == "ThresholdedRelu")
    return select(
        b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, x, c(fn.alpha)),
        x, zero);
  if (n == "ScaledTanh")
    return mul(c(fn.alpha), b.create<math::TanhOp>(l, mul(c(fn.beta), x)));
  if (n == "HardSigmoid")
    return b.create<arith::MinimumFOp>(
        l,
        b.create<arith::MaximumFOp>(l, add(mul(c(fn.alpha), x), c(fn.beta)),
                                    zero),
        one);
  if (n == "Elu")
    return select(
        b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGE, x, zero), x,
        mul(c(fn.alpha),
            b.create<arith::SubFOp>(l, b.create<math::ExpOp>(l, x), one)));
  if (n == "Softsign")
    return b.create<arith::DivFOp>(l, x,
                                   add(one, b.create<math::AbsFOp>(l, x)));
  // Softplus, as max(x, 0) + log1p(exp(-|x|)) so that large x do not
  // overflow.
  Value negAbs = b.create<arith::NegFOp>(l, b.create<math::AbsFOp>(l, x));
  return add(b.create<arith::MaximumFOp>(l, x, zero),
             b.create<math::Log1pOp>(l, b.create<math::ExpOp>(l, negAbs)));
}

SmallVector<OpFoldResult> indexAttrs(OpBuilder &b, ArrayRef<int64_t> v) {
  SmallVector<OpFoldResult> out;
  for (int64_t x : v)
    out.push_back(b.getIndexAttr(x));
  return out;
}

/// The slice of `source` at `offsets` with `sizes`, as `resultShape` (the
/// unit dims dropped).
Value slice(OpBuilder &b, Location l, Value source,
            ArrayRef<OpFoldResult> offsets, ArrayRef<int64_t> sizes,
            ArrayRef<int64_t> resultShape) {
  auto type = RankedTensorType::get(
      resultShape, cast<RankedTensorType>(source.getType()).getElementType());
  return b.create<tensor::ExtractSliceOp>(
      l, type, source, offsets, indexAttrs(b, sizes),
      indexAttrs(b, SmallVector<int64_t>(sizes.size(), 1)));
}

Value insert(OpBuilder &b, Location l, Value source, Value dest,
             ArrayRef<OpFoldResult> offsets, ArrayRef<int64_t> sizes) {
  return b.create<tensor::InsertSliceOp>(
      l, source, dest, offsets, indexAttrs(b, sizes),
      indexAttrs(b, SmallVector<int64_t>(sizes.size(), 1)));
}

/// out[m, n] = init[m, n] + sum_k a[m, k] * w[n, k].
Value matmulTransB(OpBuilder &b, Location l, Value a, Value w, Value init) {
  MLIRContext *ctx = b.getContext();
  AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
             k = getAffineDimExpr(2, ctx);
  SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {m, k}, ctx),
                                 AffineMap::get(3, 0, {n, k}, ctx),
                                 AffineMap::get(3, 0, {m, n}, ctx)};
  return b
      .create<linalg::GenericOp>(
          l, init.getType(), ValueRange{a, w}, ValueRange{init}, maps,
          iterators(2, 1),
          [&](OpBuilder &nb, Location nl, ValueRange v) {
            Value p = nb.create<arith::MulFOp>(nl, v[0], v[1]);
            nb.create<linalg::YieldOp>(
                nl, ValueRange{nb.create<arith::AddFOp>(nl, v[2], p)});
          })
      .getResult(0);
}

/// Everything one lowering needs, read off the op once.
struct Recurrent : RecurrentLayer {
  Location loc;
  ConversionPatternRewriter &b;

  MLIRContext *ctx() const { return b.getContext(); }
  Value idx(int64_t v) const {
    return b.create<arith::ConstantIndexOp>(loc, v);
  }
  RankedTensorType tensor(ArrayRef<int64_t> shape) const {
    return RankedTensorType::get(shape, et);
  }
  Value zeros(ArrayRef<int64_t> shape) const {
    return filledTensor(b, loc, tensor(shape), floatAttr(et, 0.0));
  }

  /// Per-direction [batch, hidden] slice of an initial state, or zeros.
  Value initialState(Value state, int64_t d) const {
    if (!state)
      return zeros({batch, hidden});
    SmallVector<int64_t> off =
        layout ? SmallVector<int64_t>{0, d, 0} : SmallVector<int64_t>{d, 0, 0};
    SmallVector<int64_t> sizes = layout
                                     ? SmallVector<int64_t>{batch, 1, hidden}
                                     : SmallVector<int64_t>{1, batch, hidden};
    return slice(b, loc, state, indexAttrs(b, off), sizes, {batch, hidden});
  }

  /// Time index that processing step `t` of batch entry `bi` reads in the
  /// reverse direction with sequence_lens: len-1-t inside the sequence, t
  /// (a masked step) after it. Its own inverse. A length past the sequence
  /// (invalid in ONNX) counts as the whole sequence, so the index stays in
  /// bounds whatever the input holds.
  Value reversedStep(OpBuilder &nb, Location l, Value t, Value len) const {
    Type it = len.getType();
    len = nb.create<arith::MinSIOp>(
        l, len, nb.create<arith::ConstantOp>(l, IntegerAttr::get(it, seq)));
    Value ti = nb.create<arith::IndexCastOp>(l, it, t);
    Value one = nb.create<arith::ConstantOp>(l, IntegerAttr::get(it, 1));
    Value rev =
        nb.create<arith::SubIOp>(l, nb.create<arith::SubIOp>(l, len, one), ti);
    Value inside =
        nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, ti, len);
    return nb.create<arith::IndexCastOp>(
        l, nb.getIndexType(), nb.create<arith::SelectOp>(l, inside, rev, ti));
  }

  /// X*W_d^T + biases for all steps, [seq, batch, gates*hidden], in
  /// processing order.
  Value projectInput(int64_t d) {
    Value wd = slice(b, loc, w, indexAttrs(b, {d, 0, 0}), {1, gh(), input},
                     {gh(), input});
    Value init;
    if (bias) {
      // GRU with linear_before_reset adds Rbh inside the reset product: its
      // R biases go into the per-step recurrence instead.
      bool withR = !(cell == Cell::Gru && linearBeforeReset);
      Value wb = slice(b, loc, bias, indexAttrs(b, {d, 0}), {1, gh()}, {gh()});
      Value rb =
          slice(b, loc, bias, indexAttrs(b, {d, gh()}), {1, gh()}, {gh()});
      SmallVector<Value> ins = {wb};
      if (withR)
        ins.push_back(rb);
      AffineMap gMap = AffineMap::get(3, 0, getAffineDimExpr(2, ctx()));
      SmallVector<AffineMap> maps(ins.size(), gMap);
      maps.push_back(AffineMap::getMultiDimIdentityMap(3, ctx()));
      auto type = tensor({seq, batch, gh()});
      init = b.create<linalg::GenericOp>(
                  loc, type, ins, ValueRange{emptyTensor(b, loc, type)}, maps,
                  iterators(3),
                  [&](OpBuilder &nb, Location l, ValueRange a) {
                    Value v = a[0];
                    if (a.size() == 3)
                      v = nb.create<arith::AddFOp>(l, a[0], a[1]);
                    nb.create<linalg::YieldOp>(l, v);
                  })
                 .getResult(0);
    } else {
      init = zeros({seq, batch, gh()});
    }

    // Loops (t, batch, gate, input); X's map puts t where the layout has it.
    Value xs = x;
    AffineExpr t = getAffineDimExpr(0, ctx()), bi = getAffineDimExpr(1, ctx()),
               g = getAffineDimExpr(2, ctx()), i = getAffineDimExpr(3, ctx());
    AffineExpr step = t;
    if (reversed(d) && lens)
      xs = gatherReversedInput();
    else if (reversed(d))
      step = seq - 1 - t;
    bool batchFirst = layout && xs == x;
    AffineMap xMap =
        AffineMap::get(4, 0,
                       batchFirst ? ArrayRef<AffineExpr>{bi, step, i}
                                  : ArrayRef<AffineExpr>{step, bi, i},
                       ctx());
    SmallVector<AffineMap> maps = {xMap, AffineMap::get(4, 0, {g, i}, ctx()),
                                   AffineMap::get(4, 0, {t, bi, g}, ctx())};
    return b
        .create<linalg::GenericOp>(
            loc, init.getType(), ValueRange{xs, wd}, ValueRange{init}, maps,
            iterators(3, 1),
            [&](OpBuilder &nb, Location l, ValueRange a) {
              Value p = nb.create<arith::MulFOp>(l, a[0], a[1]);
              nb.create<linalg::YieldOp>(
                  l, ValueRange{nb.create<arith::AddFOp>(l, a[2], p)});
            })
        .getResult(0);
  }

  /// X as [seq, batch, input] in the reverse processing order of each batch
  /// entry's own length.
  Value gatherReversedInput() {
    auto type = tensor({seq, batch, input});
    AffineMap lenMap = AffineMap::get(3, 0, getAffineDimExpr(1, ctx()));
    AffineMap id = AffineMap::getMultiDimIdentityMap(3, ctx());
    return b
        .create<linalg::GenericOp>(
            loc, type, ValueRange{lens}, ValueRange{emptyTensor(b, loc, type)},
            ArrayRef<AffineMap>{lenMap, id}, iterators(3),
            [&](OpBuilder &nb, Location l, ValueRange a) {
              Value t = nb.create<linalg::IndexOp>(l, 0);
              Value bi = nb.create<linalg::IndexOp>(l, 1);
              Value i = nb.create<linalg::IndexOp>(l, 2);
              Value s = reversedStep(nb, l, t, a[0]);
              SmallVector<Value> at = layout ? SmallVector<Value>{bi, s, i}
                                             : SmallVector<Value>{s, bi, i};
              nb.create<linalg::YieldOp>(
                  l, ValueRange{nb.create<tensor::ExtractOp>(l, x, at)});
            })
        .getResult(0);
  }

  /// The step outputs of direction d (processing order) in time order and
  /// the output layout: [seq, batch, hidden] or [batch, seq, hidden].
  Value stepsInTimeOrder(Value steps, int64_t d) {
    if (!reversed(d) && !layout)
      return steps;
    SmallVector<int64_t> shape = layout
                                     ? SmallVector<int64_t>{batch, seq, hidden}
                                     : SmallVector<int64_t>{seq, batch, hidden};
    auto type = tensor(shape);
    unsigned tDim = layout ? 1 : 0, bDim = layout ? 0 : 1;
    AffineExpr t = getAffineDimExpr(tDim, ctx()),
               bi = getAffineDimExpr(bDim, ctx()),
               h = getAffineDimExpr(2, ctx());
    AffineMap id = AffineMap::getMultiDimIdentityMap(3, ctx());
    if (reversed(d) && lens) {
      AffineMap lenMap = AffineMap::get(3, 0, bi);
      return b
          .create<linalg::GenericOp>(
              loc, type, ValueRange{lens},
              ValueRange{emptyTensor(b, loc, type)},
              ArrayRef<AffineMap>{lenMap, id}, iterators(3),
              [&](OpBuilder &nb, Location l, ValueRange a) {
                Value tv = nb.create<linalg::IndexOp>(l, tDim);
                Value bv = nb.create<linalg::IndexOp>(l, bDim);
                Value hv = nb.create<linalg::IndexOp>(l, 2);
                Value s = reversedStep(nb, l, tv, a[0]);
                nb.create<linalg::YieldOp>(
                    l, ValueRange{nb.create<tensor::ExtractOp>(
                           l, steps, ValueRange{s, bv, hv})});
              })
          .getResult(0);
    }
    AffineExpr step = reversed(d) ? seq - 1 - t : t;
    AffineMap in = AffineMap::get(3, 0, {step, bi, h}, ctx());
    return b
        .create<linalg::GenericOp>(
            loc, type, ValueRange{steps}, ValueRange{emptyTensor(b, loc, type)},
            ArrayRef<AffineMap>{in, id}, iterators(3),
            [&](OpBuilder &nb, Location l, ValueRange a) {
              nb.create<linalg::YieldOp>(l, a[0]);
            })
        .getResult(0);
  }

  Value clipped(OpBuilder &nb, Location l, Value v) const {
    if (!clip)
      return v;
    Value hi = floatConst(nb, l, et, *clip), lo = floatConst(nb, l, et, -*clip);
    return nb.create<arith::MinimumFOp>(
        l, nb.create<arith::MaximumFOp>(l, v, lo), hi);
  }

  /// Gate k, [batch, hidden], of a [batch, gates*hidden] value (a view
  /// after bufferization).
  Value gate(Value v, int64_t k) const {
    return slice(b, loc, v, indexAttrs(b, {0, k * hidden}), {batch, hidden},
                 {batch, hidden});
  }
  /// Peephole k, [hidden], of a [3*hidden] value.
  Value peephole(Value v, int64_t k) const {
    return slice(b, loc, v, indexAttrs(b, {k * hidden}), {hidden}, {hidden});
  }
  AffineMap peepMap() const {
    return AffineMap::get(2, 0, getAffineDimExpr(1, ctx()));
  }
  AffineMap stateMap() const {
    return AffineMap::getMultiDimIdentityMap(2, ctx());
  }

  /// One elementwise step over [batch, hidden]. `ins`/`maps` are the
  /// operands; `body` returns the new states from the scalars. With
  /// sequence_lens the old states and the lengths are appended, the new
  /// states are kept only inside the sequence, and a last result is the
  /// step output (0 outside). `numStates` results (+1 with lengths).
  SmallVector<Value> elementwiseStep(
      Value t, SmallVector<Value> ins, SmallVector<AffineMap> maps,
      ArrayRef<Value> oldStates,
      function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)>
          body) {
    size_t numIns = ins.size(), numStates = oldStates.size();
    if (lens) {
      for (Value s : oldStates) {
        ins.push_back(s);
        maps.push_back(stateMap());
      }
      ins.push_back(lens);
      maps.push_back(AffineMap::get(2, 0, getAffineDimExpr(0, ctx())));
    }
    size_t numOuts = numStates + (lens ? 1 : 0);
    auto type = tensor({batch, hidden});
    SmallVector<Value> outs;
    for (size_t i = 0; i < numOuts; ++i)
      outs.push_back(emptyTensor(b, loc, type));
    SmallVector<Type> types(numOuts, type);
    maps.append(numOuts, stateMap());
    auto generic = b.create<linalg::GenericOp>(
        loc, types, ins, outs, maps, iterators(2),
        [&](OpBuilder &nb, Location l, ValueRange a) {
          SmallVector<Value> states = body(nb, l, a.take_front(numIns));
          if (lens) {
            Value len = a[numIns + numStates];
            Value ti = nb.create<arith::IndexCastOp>(l, len.getType(), t);
            Value inside =
                nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, ti, len);
            Value h = states[0];
            for (size_t i = 0; i < numStates; ++i)
              states[i] = nb.create<arith::SelectOp>(l, inside, states[i],
                                                     a[numIns + i]);
            states.push_back(nb.create<arith::SelectOp>(
                l, inside, h, floatConst(nb, l, et, 0.0)));
          }
          nb.create<linalg::YieldOp>(l, states);
        });
    return SmallVector<Value>(generic.getResults());
  }

  /// The new states (H, and C for LSTM) and the step output of step `t`.
  SmallVector<Value> step(int64_t d, Value t, Value xw, Value rd, Value rInit,
                          ArrayRef<Value> states, Value pd) {
    Value h = states[0];
    if (cell == Cell::Rnn) {
      Value hr = matmulTransB(b, loc, h, rd, rInit);
      return elementwiseStep(
          t, {xw, hr}, {stateMap(), stateMap()}, states,
          [&](OpBuilder &nb, Location l, ValueRange a) -> SmallVector<Value> {
            Value pre = clipped(nb, l, nb.create<arith::AddFOp>(l, a[0], a[1]));
            return {activate(nb, l, act(d, 0), pre)};
          });
    }
    if (cell == Cell::Lstm)
      return lstmStep(d, t, xw, matmulTransB(b, loc, h, rd, rInit), states, pd);
    return gruStep(d, t, xw, rd, rInit, states);
  }

  SmallVector<Value> lstmStep(int64_t d, Value t, Value xw, Value hr,
                              ArrayRef<Value> states, Value pd) {
    // Gate order i, o, f, c; peepholes i, o, f.
    SmallVector<Value> ins = {gate(xw, 0), gate(xw, 1), gate(xw, 2),
                              gate(xw, 3), gate(hr, 0), gate(hr, 1),
                              gate(hr, 2), gate(hr, 3), states[1]};
    SmallVector<AffineMap> maps(ins.size(), stateMap());
    if (pd) {
      ins.append({peephole(pd, 0), peephole(pd, 1), peephole(pd, 2)});
      maps.append(3, peepMap());
    }
    return elementwiseStep(
        t, ins, maps, states,
        [&](OpBuilder &nb, Location l, ValueRange a) -> SmallVector<Value> {
          auto add = [&](Value p, Value q) {
            return nb.create<arith::AddFOp>(l, p, q).getResult();
          };
          auto mul = [&](Value p, Value q) {
            return nb.create<arith::MulFOp>(l, p, q).getResult();
          };
          Value c = a[8];
          Value pi = add(a[0], a[4]), po = add(a[1], a[5]),
                pf = add(a[2], a[6]);
          if (pd) {
            pi = add(pi, mul(a[9], c));
            pf = add(pf, mul(a[11], c));
          }
          Value i = activate(nb, l, act(d, 0), clipped(nb, l, pi));
          Value f =
              inputForget
                  ? nb.create<arith::SubFOp>(l, floatConst(nb, l, et, 1.0), i)
                        .getResult()
                  : activate(nb, l, act(d, 0), clipped(nb, l, pf));
          Value g = activate(nb, l, act(d, 1), clipped(nb, l, add(a[3], a[7])));
          Value cn = add(mul(f, c), mul(i, g));
          if (pd)
            po = add(po, mul(a[10], cn));
          Value o = activate(nb, l, act(d, 0), clipped(nb, l, po));
          return {mul(o, activate(nb, l, act(d, 2), cn)), cn};
        });
  }

  /// H' = (1 - z) * h~ + z * H; gate order z, r, h.
  SmallVector<Value> gruStep(int64_t d, Value t, Value xw, Value rd,
                             Value rInit, ArrayRef<Value> states) {
    Value h = states[0];
    auto update = [&](OpBuilder &nb, Location l, Value z, Value hTilde,
                      Value hOld) {
      Value one = floatConst(nb, l, et, 1.0);
      Value keep = nb.create<arith::MulFOp>(l, z, hOld);
      Value fresh = nb.create<arith::MulFOp>(
          l, nb.create<arith::SubFOp>(l, one, z), hTilde);
      return nb.create<arith::AddFOp>(l, fresh, keep).getResult();
    };
    if (linearBeforeReset) {
      // h~ = g(Xh + r * (H*Rh^T + Rbh)): one matmul over all three gates.
      Value hr = matmulTransB(b, loc, h, rd, rInit);
      SmallVector<Value> ins = {gate(xw, 0),
                                gate(xw, 1),
                                gate(xw, 2),
                                gate(hr, 0),
                                gate(hr, 1),
                                gate(hr, 2),
                                h};
      return elementwiseStep(
          t, ins, SmallVector<AffineMap>(ins.size(), stateMap()), states,
          [&](OpBuilder &nb, Location l, ValueRange a) -> SmallVector<Value> {
            Value z = activate(
                nb, l, act(d, 0),
                clipped(nb, l, nb.create<arith::AddFOp>(l, a[0], a[3])));
            Value r = activate(
                nb, l, act(d, 0),
                clipped(nb, l, nb.create<arith::AddFOp>(l, a[1], a[4])));
            Value pre = nb.create<arith::AddFOp>(
                l, a[2], nb.create<arith::MulFOp>(l, r, a[5]));
            Value hTilde = activate(nb, l, act(d, 1), clipped(nb, l, pre));
            return {update(nb, l, z, hTilde, a[6])};
          });
    }
    // h~ = g(Xh + (r * H)*Rh^T + Rbh + Wbh): z and r first, then a second
    // matmul of the reset state.
    Value rzr = slice(b, loc, rd, indexAttrs(b, {0, 0}), {2 * hidden, hidden},
                      {2 * hidden, hidden});
    Value rh = slice(b, loc, rd, indexAttrs(b, {2 * hidden, 0}),
                     {hidden, hidden}, {hidden, hidden});
    Value hr = matmulTransB(b, loc, h, rzr, rInit);
    auto type = tensor({batch, hidden});
    Value reset =
        b.create<linalg::GenericOp>(
             loc, type, ValueRange{gate(xw, 1), gate(hr, 1), h},
             ValueRange{emptyTensor(b, loc, type)},
             SmallVector<AffineMap>(4, stateMap()), iterators(2),
             [&](OpBuilder &nb, Location l, ValueRange a) {
               Value r = activate(
                   nb, l, act(d, 0),
                   clipped(nb, l, nb.create<arith::AddFOp>(l, a[0], a[1])));
               nb.create<linalg::YieldOp>(
                   l, ValueRange{nb.create<arith::MulFOp>(l, r, a[2])});
             })
            .getResult(0);
    Value resetR = matmulTransB(b, loc, reset, rh, zeros({batch, hidden}));
    SmallVector<Value> ins = {gate(xw, 0), gate(hr, 0), gate(xw, 2), resetR, h};
    return elementwiseStep(
        t, ins, SmallVector<AffineMap>(ins.size(), stateMap()), states,
        [&](OpBuilder &nb, Location l, ValueRange a) -> SmallVector<Value> {
          Value z =
              activate(nb, l, act(d, 0),
                       clipped(nb, l, nb.create<arith::AddFOp>(l, a[0], a[1])));
          Value hTilde =
              activate(nb, l, act(d, 1),
                       clipped(nb, l, nb.create<arith::AddFOp>(l, a[2], a[3])));
          return {update(nb, l, z, hTilde, a[4])};
        });
  }

  /// Runs direction d: returns the step outputs in processing order
  /// [seq, batch, hidden] and the final states.
  SmallVector<Value> runDirection(int64_t d) {
    Value xwAll = projectInput(d);
    Value rd = slice(b, loc, r, indexAttrs(b, {d, 0, 0}), {1, gh(), hidden},
                     {gh(), hidden});
    // What the per-step recurrence product starts from: R's biases when
    // they sit inside the GRU reset product, else zeros. GRU without
    // linear_before_reset multiplies only the z and r rows in the first
    // product.
    int64_t rRows = cell == Cell::Gru && !linearBeforeReset ? 2 * hidden : gh();
    Value rInit;
    if (cell == Cell::Gru && linearBeforeReset && bias) {
      Value rb =
          slice(b, loc, bias, indexAttrs(b, {d, gh()}), {1, gh()}, {gh()});
      auto type = tensor({batch, gh()});
      rInit =
          b.create<linalg::GenericOp>(
               loc, type, ValueRange{rb}, ValueRange{emptyTensor(b, loc, type)},
               ArrayRef<AffineMap>{
                   AffineMap::get(2, 0, getAffineDimExpr(1, ctx())),
                   stateMap()},
               iterators(2),
               [&](OpBuilder &nb, Location l, ValueRange a) {
                 nb.create<linalg::YieldOp>(l, a[0]);
               })
              .getResult(0);
    } else {
      rInit = zeros({batch, rRows});
    }
    Value pd;
    if (peep)
      pd = slice(b, loc, peep, indexAttrs(b, {d, 0}), {1, 3 * hidden},
                 {3 * hidden});

    SmallVector<Value> init = {initialState(initH, d)};
    if (cell == Cell::Lstm)
      init.push_back(initialState(initC, d));
    init.push_back(emptyTensor(b, loc, tensor({seq, batch, hidden})));
    auto loop = b.create<scf::ForOp>(
        loc, idx(0), idx(seq), idx(1), init,
        [&](OpBuilder &, Location l, Value t, ValueRange carried) {
          Value xw =
              slice(b, l, xwAll, {t, b.getIndexAttr(0), b.getIndexAttr(0)},
                    {1, batch, gh()}, {batch, gh()});
          SmallVector<Value> states(carried.drop_back());
          SmallVector<Value> next = step(d, t, xw, rd, rInit, states, pd);
          Value out = lens ? next.pop_back_val() : next[0];
          Value steps = insert(b, l, out, carried.back(),
                               {t, b.getIndexAttr(0), b.getIndexAttr(0)},
                               {1, batch, hidden});
          // One-shot bufferization wants each yielded tensor in the buffer
          // the loop carries: copy the new states over the old ones.
          for (size_t i = 0; i < next.size(); ++i)
            next[i] =
                b.create<linalg::CopyOp>(l, next[i], carried[i]).getResult(0);
          next.push_back(steps);
          b.create<scf::YieldOp>(l, next);
        });
    return SmallVector<Value>(loop.getResults());
  }
};

template <typename OpT>
LogicalResult lowerRecurrent(OpT op, typename OpT::Adaptor adaptor,
                             ConversionPatternRewriter &rewriter, Cell cell,
                             int64_t gates, int64_t functions) {
  Location loc = op.getLoc();
  Recurrent rc{readRecurrentLayer(op, adaptor, cell, gates, functions), loc,
               rewriter};
  int64_t layout = rc.layout;

  // Y and the final states, one direction at a time.
  RankedTensorType yType = resultType(op, 0), stateType = resultType(op, 1);
  Value y = emptyTensor(rewriter, loc, yType);
  SmallVector<Value> finals(cell == Cell::Lstm ? 2 : 1,
                            emptyTensor(rewriter, loc, stateType));
  int64_t seq = rc.seq, batch = rc.batch, hidden = rc.hidden;
  for (int64_t d = 0; d < rc.dirs; ++d) {
    SmallVector<Value> results = rc.runDirection(d);
    Value steps = rc.stepsInTimeOrder(results.back(), d);
    SmallVector<int64_t> yOff = layout ? SmallVector<int64_t>{0, 0, d, 0}
                                       : SmallVector<int64_t>{0, d, 0, 0};
    SmallVector<int64_t> ySizes =
        layout ? SmallVector<int64_t>{batch, seq, 1, hidden}
               : SmallVector<int64_t>{seq, 1, batch, hidden};
    y = insert(rewriter, loc, steps, y, indexAttrs(rewriter, yOff), ySizes);
    SmallVector<int64_t> sOff =
        layout ? SmallVector<int64_t>{0, d, 0} : SmallVector<int64_t>{d, 0, 0};
    SmallVector<int64_t> sSizes = layout
                                      ? SmallVector<int64_t>{batch, 1, hidden}
                                      : SmallVector<int64_t>{1, batch, hidden};
    for (size_t i = 0; i < finals.size(); ++i)
      finals[i] = insert(rewriter, loc, results[i], finals[i],
                         indexAttrs(rewriter, sOff), sSizes);
  }
  SmallVector<Value> replacements = {y};
  replacements.append(finals.begin(), finals.end());
  rewriter.replaceOp(op, replacements);
  return success();
}

struct RnnLowering : OpConversionPattern<RnnOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RnnOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    return lowerRecurrent(op, adaptor, rewriter, Cell::Rnn, 1, 1);
  }
};

struct GruLowering : OpConversionPattern<GruOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GruOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    return lowerRecurrent(op, adaptor, rewriter, Cell::Gru, 3, 2);
  }
};

struct LstmLowering : OpConversionPattern<LstmOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LstmOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    return lowerRecurrent(op, adaptor, rewriter, Cell::Lstm, 4, 3);
  }
};

} // namespace

void populateRecurrentLowering(const TypeConverter &converter,
                               RewritePatternSet &patterns) {
  patterns.add<RnnLowering, GruLowering, LstmLowering>(converter,
                                                       patterns.getContext());
}

} // namespace lathe
