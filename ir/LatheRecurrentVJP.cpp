// Vector-Jacobian products of RNN, GRU and LSTM (DifferentiableOpInterface,
// ir/LatheAutodiff.td).
//
// Shapes are static, so the VJP unrolls the recurrence: it recomputes the
// forward pass step by step with primitive lathe ops (Gemm, Slice, Add,
// Mul, Where, the activations) that follow passes/LowerRecurrent.cpp's
// semantics, then runs a reverse sweep over exactly those ops through their
// own VJPs, seeded with the gradients of Y, Y_h and Y_c. The cell's
// derivatives are therefore the tested ones of its primitives (clip is a
// Max/Min clamp: no gradient where the pre-activation was clipped), and the
// op itself keeps its fast scf.for lowering in the forward graph.
//
// The cost: the forward is computed twice and the backward graph has a few
// dozen ops per step and direction, so very long sequences make large
// gradient graphs.
//
// sequence_lens: batch entry b updates its state only at the times
// t < len[b]. Walking the times in the direction's own order (0..seq-1
// forward, seq-1..0 reverse) with that mask is exactly the lowering's
// semantics: the reverse direction then keeps its initial state through the
// padding and starts at time len[b] - 1, and Y is 0 at the masked times.
#include "ir/RecurrentLayer.h"
#include "ir/VJPUtils.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"

using namespace mlir;

namespace lathe {
namespace {

using vjp::typeOf;

using Cell = RecurrentCell;
using Activation = RecurrentActivation;

/// Records the ops a builder creates, in program order.
struct Recorder : OpBuilder::Listener {
  SmallVector<Operation *> ops;
  void notifyOperationInserted(Operation *op, OpBuilder::InsertPoint) override {
    ops.push_back(op);
  }
};

/// The unrolled forward of one recurrent op, built with lathe ops.
struct Unrolled : RecurrentLayer {
  OpBuilder &b;
  Location loc;

  Value scalar(double v) { return vjp::scalar(b, loc, et, v); }
  Value add(Value p, Value q) { return b.create<AddOp>(loc, p, q); }
  Value mul(Value p, Value q) { return b.create<MulOp>(loc, p, q); }
  Value sub(Value p, Value q) { return b.create<SubOp>(loc, p, q); }

  /// The slice of `v` at `offsets` with `sizes`, reshaped to `shape`.
  Value slice(Value v, ArrayRef<int64_t> offsets, ArrayRef<int64_t> sizes,
              ArrayRef<int64_t> shape) {
    SmallVector<int64_t> strides(sizes.size(), 1);
    Value s = b.create<SliceOp>(loc, v, offsets, sizes, strides);
    return vjp::reshape(b, loc, s, shape);
  }

  /// a * w^T (+ c, broadcast to the rows).
  Value gemmT(Value a, Value wt, Value c = {}) {
    return b.create<GemmOp>(loc, a, wt, c, b.getBoolAttr(false),
                            b.getBoolAttr(true), b.getF32FloatAttr(1.0f),
                            b.getF32FloatAttr(1.0f));
  }

  /// Columns [k*hidden, (k+1)*hidden) of a [batch, n] value: gate k.
  Value gate(Value v, int64_t k) {
    return slice(v, {0, k * hidden}, {batch, hidden}, {batch, hidden});
  }

  Value clipped(Value v) {
    if (!clip)
      return v;
    Value lo = b.create<MaxOp>(loc, v, scalar(-*clip));
    return b.create<MinOp>(loc, lo, scalar(*clip));
  }

  /// Function `i` of direction `d` applied to clip(v) (to v itself without
  /// `clipInput`); null (after an error at `op`) for a name the lowering
  /// does not know either.
  Value activate(Operation *op, int64_t d, int64_t i, Value v,
                 bool clipInput = true) {
    const Activation &fn = act(d, i);
    if (clipInput)
      v = clipped(v);
    FloatAttr alpha = b.getF32FloatAttr(fn.alpha),
              beta = b.getF32FloatAttr(fn.beta);
    StringRef n = fn.name;
    if (n == "Relu")
      return b.create<ReluOp>(loc, v);
    if (n == "Tanh")
      return b.create<TanhOp>(loc, v);
    if (n == "Sigmoid")
      return b.create<SigmoidOp>(loc, v);
    if (n == "Affine")
      return add(mul(v, scalar(fn.alpha)), scalar(fn.beta));
    if (n == "LeakyRelu")
      return b.create<LeakyReluOp>(loc, v, alpha);
    if (n == "ThresholdedRelu")
      return b.create<ThresholdedReluOp>(loc, v, alpha);
    if (n == "ScaledTanh")
      return mul(scalar(fn.alpha),
                 b.create<TanhOp>(loc, mul(v, scalar(fn.beta))));
    if (n == "HardSigmoid")
      return b.create<HardSigmoidOp>(loc, v, alpha, beta);
    if (n == "Elu")
      return b.create<EluOp>(loc, v, alpha);
    if (n == "Softsign")
      return b.create<SoftsignOp>(loc, v);
    if (n == "Softplus")
      return b.create<SoftplusOp>(loc, v);
    op->emitError("no gradient for ")
        << op->getName() << " with activation '" << n << "'";
    return {};
  }

  /// Direction d's [batch, hidden] part of an initial state, or zeros.
  Value initialState(Value state, int64_t d) {
    if (!state)
      return vjp::zeros(b, loc, RankedTensorType::get({batch, hidden}, et));
    if (layout)
      return slice(state, {0, d, 0}, {batch, 1, hidden}, {batch, hidden});
    return slice(state, {d, 0, 0}, {1, batch, hidden}, {batch, hidden});
  }

  /// X * W_d^T + the biases that add to it, [seq, batch, gates*hidden] (layout
  /// 0) or [batch, seq, gates*hidden] (layout 1): one Gemm for all steps.
  Value projectInput(int64_t d) {
    Value wd = slice(w, {d, 0, 0}, {1, gh(), input}, {gh(), input});
    Value c;
    if (bias) {
      c = slice(bias, {d, 0}, {1, gh()}, {gh()});
      // GRU with linear_before_reset adds Rbh inside the reset product: its
      // R biases go into the per-step recurrence instead.
      if (!(cell == Cell::Gru && linearBeforeReset))
        c = add(c, slice(bias, {d, gh()}, {1, gh()}, {gh()}));
    }
    Value x2 = vjp::reshape(b, loc, x, {seq * batch, input});
    Value xw = gemmT(x2, wd, c);
    SmallVector<int64_t> shape = layout
                                     ? SmallVector<int64_t>{batch, seq, gh()}
                                     : SmallVector<int64_t>{seq, batch, gh()};
    return vjp::reshape(b, loc, xw, shape);
  }

  /// Step t's [batch, gates*hidden] rows of a projection.
  Value stepOf(Value xwAll, int64_t t) {
    if (layout)
      return slice(xwAll, {0, t, 0}, {batch, 1, gh()}, {batch, gh()});
    return slice(xwAll, {t, 0, 0}, {1, batch, gh()}, {batch, gh()});
  }

  /// The new states (H, and C for LSTM) of one step before masking; empty
  /// after an error.
  SmallVector<Value> step(Operation *op, int64_t d, Value xw, Value rd,
                          Value rb, Value pd, ArrayRef<Value> states) {
    Value h = states[0];
    auto fail = [] { return SmallVector<Value>{}; };
    if (cell == Cell::Rnn) {
      Value hn = activate(op, d, 0, add(xw, gemmT(h, rd)));
      return hn ? SmallVector<Value>{hn} : fail();
    }
    if (cell == Cell::Lstm) {
      // Gate order i, o, f, c; peepholes i, o, f.
      Value pre = add(xw, gemmT(h, rd)), c = states[1];
      Value pi = gate(pre, 0), po = gate(pre, 1), pf = gate(pre, 2),
            pc = gate(pre, 3);
      auto peephole = [&](int64_t k) {
        return slice(pd, {k * hidden}, {hidden}, {hidden});
      };
      if (pd) {
        pi = add(pi, mul(peephole(0), c));
        pf = add(pf, mul(peephole(2), c));
      }
      Value i = activate(op, d, 0, pi);
      Value f = inputForget ? (i ? sub(scalar(1.0), i) : Value())
                            : activate(op, d, 0, pf);
      Value g = activate(op, d, 1, pc);
      if (!i || !f || !g)
        return fail();
      Value cn = add(mul(f, c), mul(i, g));
      if (pd)
        po = add(po, mul(peephole(1), cn));
      Value o = activate(op, d, 0, po);
      // The cell state is not clipped before h (the lowering, ONNX Runtime).
      Value hc = activate(op, d, 2, cn, /*clipInput=*/false);
      if (!o || !hc)
        return fail();
      return {mul(o, hc), cn};
    }
    // GRU, gate order z, r, h: H' = (1 - z) * h~ + z * H.
    Value z, hTilde;
    if (linearBeforeReset) {
      // h~ = g(Xh + r * (H*Rh^T + Rbh)).
      Value hr = gemmT(h, rd, rb);
      Value zr =
          add(slice(xw, {0, 0}, {batch, 2 * hidden}, {batch, 2 * hidden}),
              slice(hr, {0, 0}, {batch, 2 * hidden}, {batch, 2 * hidden}));
      z = activate(op, d, 0, gate(zr, 0));
      Value rg = activate(op, d, 0, gate(zr, 1));
      if (!z || !rg)
        return fail();
      hTilde = activate(op, d, 1, add(gate(xw, 2), mul(rg, gate(hr, 2))));
    } else {
      // h~ = g(Xh + (r * H)*Rh^T + Rbh + Wbh), the biases already in xw.
      Value rzr = slice(rd, {0, 0}, {2 * hidden, hidden}, {2 * hidden, hidden});
      Value rh = slice(rd, {2 * hidden, 0}, {hidden, hidden}, {hidden, hidden});
      Value zr =
          add(slice(xw, {0, 0}, {batch, 2 * hidden}, {batch, 2 * hidden}),
              gemmT(h, rzr));
      z = activate(op, d, 0, gate(zr, 0));
      Value rg = activate(op, d, 0, gate(zr, 1));
      if (!z || !rg)
        return fail();
      hTilde = activate(op, d, 1, add(gate(xw, 2), gemmT(mul(rg, h), rh)));
    }
    if (!hTilde)
      return fail();
    return {add(mul(sub(scalar(1.0), z), hTilde), mul(z, h))};
  }

  /// Runs direction d: returns its final states (H, and C for LSTM) and
  /// puts the step outputs, [batch, hidden] each, in `ys` in time order.
  /// Empty after an error.
  SmallVector<Value> runDirection(Operation *op, int64_t d,
                                  SmallVectorImpl<Value> &ys) {
    Value xwAll = projectInput(d);
    Value rd = slice(r, {d, 0, 0}, {1, gh(), hidden}, {gh(), hidden});
    Value rb, pd;
    if (cell == Cell::Gru && linearBeforeReset && bias)
      rb = slice(bias, {d, gh()}, {1, gh()}, {gh()});
    if (peep)
      pd = slice(peep, {d, 0}, {1, 3 * hidden}, {3 * hidden});
    SmallVector<Value> states = {initialState(initH, d)};
    if (cell == Cell::Lstm)
      states.push_back(initialState(initC, d));

    ys.assign(seq, Value());
    for (int64_t k = 0; k < seq; ++k) {
      int64_t t = reversed(d) ? seq - 1 - k : k;
      SmallVector<Value> next =
          step(op, d, stepOf(xwAll, t), rd, rb, pd, states);
      if (next.empty())
        return {};
      if (!lens) {
        states = next;
        ys[t] = next[0];
        continue;
      }
      // Entries whose sequence has ended keep their states and output 0.
      Type lt = typeOf(lens).getElementType();
      auto tType = RankedTensorType::get({}, lt);
      Value tc = b.create<ConstantOp>(
          loc, DenseElementsAttr::get(tType, IntegerAttr::get(lt, t)));
      Value inside =
          vjp::reshape(b, loc, b.create<LessOp>(loc, tc, lens), {batch, 1});
      ys[t] = b.create<WhereOp>(loc, inside, next[0], scalar(0.0));
      for (size_t i = 0; i < states.size(); ++i)
        states[i] = b.create<WhereOp>(loc, inside, next[i], states[i]);
    }
    return states;
  }
};

/// The axis along which `slice` cuts a contiguous chunk of its input (every
/// other dim whole, unit strides), or none.
std::optional<int64_t> chunkAxis(SliceOp slice) {
  ArrayRef<int64_t> in = typeOf(slice.getInput()).getShape();
  if (llvm::any_of(slice.getStrides(), [](int64_t s) { return s != 1; }))
    return std::nullopt;
  std::optional<int64_t> axis;
  for (auto [d, size] : llvm::enumerate(slice.getSizes())) {
    if (size == in[d])
      continue;
    if (axis)
      return std::nullopt;
    axis = static_cast<int64_t>(d);
  }
  return axis.value_or(0);
}

/// The gradients of the chunks cut out of one value, assembled into that
/// value's gradient.
struct Chunks {
  int64_t axis;
  SmallVector<std::tuple<int64_t, int64_t, Value>> parts; // offset, size, grad
};

/// One gradient of `v`'s type from its chunks: a Concat along the axis (zeros
/// in the gaps) when the chunks are disjoint, else each padded to the full
/// shape and added.
Value assemble(OpBuilder &b, Location loc, Value v, Chunks &c) {
  auto type = typeOf(v);
  int64_t rank = type.getRank(), full = type.getDimSize(c.axis);
  llvm::sort(c.parts, [](const auto &p, const auto &q) {
    return std::get<0>(p) < std::get<0>(q);
  });
  auto zeros = [&](int64_t size) {
    SmallVector<int64_t> shape(type.getShape());
    shape[c.axis] = size;
    return vjp::zeros(b, loc,
                      RankedTensorType::get(shape, type.getElementType()));
  };
  bool disjoint = true;
  for (size_t i = 1; i < c.parts.size(); ++i)
    disjoint &= std::get<0>(c.parts[i - 1]) + std::get<1>(c.parts[i - 1]) <=
                std::get<0>(c.parts[i]);
  if (disjoint) {
    SmallVector<Value> pieces;
    int64_t at = 0;
    for (auto [offset, size, g] : c.parts) {
      if (offset > at)
        pieces.push_back(zeros(offset - at));
      pieces.push_back(g);
      at = offset + size;
    }
    if (at < full)
      pieces.push_back(zeros(full - at));
    if (pieces.size() == 1)
      return pieces[0];
    return b.create<ConcatOp>(loc, pieces, c.axis);
  }
  Value sum;
  for (auto [offset, size, g] : c.parts) {
    SmallVector<int64_t> pads(2 * rank, 0);
    pads[c.axis] = offset;
    pads[rank + c.axis] = full - offset - size;
    Value padded = b.create<PadOp>(loc, g, Value(), pads, "constant");
    sum = sum ? b.create<AddOp>(loc, sum, padded).getResult() : padded;
  }
  return sum;
}

/// Reverse-mode sweep over `ops` (program order) through their VJPs, as
/// lathe-autodiff does over a function: `grads` holds the seeds and gets
/// the gradients of every value in `varied` that reaches a seed.
///
/// The unrolled cell cuts values into many chunks (the steps of the input
/// projection, the gates, the directions of W, R and B). Slice's own VJP
/// pads each chunk's gradient to the full shape, so the sum over the steps
/// would cost O(seq^2); here the chunks of a value are kept apart and joined
/// by one Concat when the sweep reaches the value's definition (or at the
/// end, for the op's operands).
LogicalResult backpropagate(OpBuilder &b, Operation *owner,
                            ArrayRef<Operation *> ops,
                            const llvm::DenseSet<Value> &varied,
                            llvm::DenseMap<Value, Value> &grads) {
  llvm::MapVector<Value, Chunks> chunks;
  auto flush = [&](Value v) {
    auto it = chunks.find(v);
    if (it == chunks.end())
      return;
    Value g = assemble(b, owner->getLoc(), v, it->second);
    chunks.erase(it);
    Value &slot = grads[v];
    slot = slot ? b.create<AddOp>(owner->getLoc(), slot, g).getResult() : g;
  };
  for (Operation *op : llvm::reverse(ops)) {
    SmallVector<Value> resultGrads;
    bool flows = false;
    for (Value v : op->getResults()) {
      flush(v);
      resultGrads.push_back(grads.lookup(v));
      flows |= static_cast<bool>(resultGrads.back());
    }
    if (!flows)
      continue;
    if (auto slice = dyn_cast<SliceOp>(op)) {
      std::optional<int64_t> axis = chunkAxis(slice);
      Value in = slice.getInput();
      if (axis && varied.contains(in)) {
        auto [it, fresh] = chunks.try_emplace(in, Chunks{*axis, {}});
        if (fresh || it->second.axis == *axis) {
          it->second.parts.push_back({slice.getOffsets()[*axis],
                                      slice.getSizes()[*axis], resultGrads[0]});
          continue;
        }
      }
    }
    auto differentiable = dyn_cast<DifferentiableOpInterface>(op);
    if (!differentiable)
      return owner->emitError("no gradient for ")
             << owner->getName() << ": its unrolled cell uses "
             << op->getName();
    SmallVector<Value> operandGrads;
    if (failed(differentiable.buildVJP(b, resultGrads, operandGrads)))
      return failure();
    for (auto [operand, g] : llvm::zip(op->getOperands(), operandGrads)) {
      if (!g || !varied.contains(operand))
        continue;
      Value &slot = grads[operand];
      slot = slot ? b.create<AddOp>(op->getLoc(), slot, g).getResult() : g;
    }
  }
  // What is left are chunks of values defined outside: the op's operands.
  while (!chunks.empty())
    flush(chunks.front().first);
  return success();
}

/// Joins per-direction values along the direction axis of a result:
/// `parts[d]` has `shape` with a size-1 direction dim at `axis` removed.
Value joinDirections(OpBuilder &b, Location loc, ArrayRef<Value> parts,
                     int64_t axis) {
  SmallVector<Value> expanded;
  for (Value p : parts) {
    SmallVector<int64_t> shape(typeOf(p).getShape());
    shape.insert(shape.begin() + axis, 1);
    expanded.push_back(vjp::reshape(b, loc, p, shape));
  }
  if (expanded.size() == 1)
    return expanded[0];
  return b.create<ConcatOp>(loc, expanded, axis);
}

template <typename OpT>
LogicalResult buildRecurrentVJP(OpT op, OpBuilder &outer,
                                ArrayRef<Value> resultGrads,
                                SmallVectorImpl<Value> &operandGrads, Cell cell,
                                int64_t gates, int64_t functions) {
  operandGrads.assign(op->getNumOperands(), Value());
  Location loc = op.getLoc();
  Recorder recorder;
  OpBuilder b(outer.getContext(), &recorder);
  b.setInsertionPoint(outer.getInsertionBlock(), outer.getInsertionPoint());

  Unrolled u{readRecurrentLayer(op, op, cell, gates, functions), b, loc};
  int64_t layout = u.layout;

  // The recomputed results, only those a gradient flows into.
  SmallVector<SmallVector<Value>> ys(u.dirs), finals(u.dirs);
  for (int64_t d = 0; d < u.dirs; ++d) {
    finals[d] = u.runDirection(op, d, ys[d]);
    if (finals[d].empty())
      return failure();
  }
  llvm::DenseMap<Value, Value> grads;
  if (resultGrads[0]) {
    // Y: [seq, dirs, batch, hidden] or [batch, seq, dirs, hidden].
    SmallVector<Value> perDir;
    for (int64_t d = 0; d < u.dirs; ++d) {
      SmallVector<Value> steps;
      for (Value y : ys[d])
        steps.push_back(joinDirections(b, loc, {y}, layout ? 1 : 0));
      perDir.push_back(b.create<ConcatOp>(loc, steps, layout ? 1 : 0));
    }
    Value y = joinDirections(b, loc, perDir, layout ? 2 : 1);
    grads[y] = resultGrads[0];
  }
  for (size_t k = 1; k < resultGrads.size(); ++k) {
    if (!resultGrads[k])
      continue;
    SmallVector<Value> perDir;
    for (int64_t d = 0; d < u.dirs; ++d)
      perDir.push_back(finals[d][k - 1]);
    grads[joinDirections(b, loc, perDir, layout ? 1 : 0)] = resultGrads[k];
  }

  // Values that vary with the float operands (not sequence_lens).
  llvm::DenseSet<Value> varied;
  for (Value v : op->getOperands())
    if (vjp::isFloatTensor(v))
      varied.insert(v);
  SmallVector<Operation *> forward = recorder.ops;
  for (Operation *o : forward)
    if (llvm::any_of(o->getOperands(),
                     [&](Value v) { return varied.contains(v); }))
      for (Value v : o->getResults())
        if (vjp::isFloatTensor(v))
          varied.insert(v);
  if (failed(backpropagate(b, op, forward, varied, grads)))
    return failure();

  // One operand used twice (initial_h as initial_c) has one gradient, the
  // sum of both uses: it goes to its first slot only, since lathe-autodiff
  // adds the slots up.
  llvm::DenseSet<Value> given;
  for (auto [i, v] : llvm::enumerate(op->getOperands()))
    if (vjp::isFloatTensor(v) && given.insert(v).second)
      operandGrads[i] = grads.lookup(v);

  // The recomputation and the sweep build more than the requested
  // gradients need (the unused seeds' paths, gradients of constants): drop
  // what nothing uses, users before their operands.
  llvm::DenseSet<Operation *> keep;
  for (Value g : operandGrads)
    if (g)
      keep.insert(g.getDefiningOp());
  for (Operation *o : llvm::reverse(recorder.ops))
    if (o->use_empty() && !keep.contains(o))
      o->erase();
  return success();
}

} // namespace

LogicalResult RnnOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  return buildRecurrentVJP(*this, b, resultGrads, operandGrads, Cell::Rnn, 1,
                           1);
}

LogicalResult GruOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  return buildRecurrentVJP(*this, b, resultGrads, operandGrads, Cell::Gru, 3,
                           2);
}

LogicalResult LstmOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  return buildRecurrentVJP(*this, b, resultGrads, operandGrads, Cell::Lstm, 4,
                           3);
}

} // namespace lathe
