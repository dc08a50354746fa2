//===- LatheRecurrentOps.td - lathe recurrent layers ----*- tablegen -*-===//
//
// Included from LatheOps.td, after the op base classes.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RECURRENT_OPS_TD
#define LATHE_RECURRENT_OPS_TD

// RNN, GRU and LSTM share ONNX's operands and attributes; `extraArgs` adds
// the cell's own, `extraFormat` the printed form of its own optional
// operands.
class Lathe_RecurrentOp<string mnemonic, dag extraArgs, string extraFormat>
    : Lathe_Op<mnemonic, [Pure, InferTypeOpAdaptor, AttrSizedOperandSegments,
                       Lathe_VJP]> {
  let arguments = !con(
      (ins Lathe_FloatTensor:$X, Lathe_FloatTensor:$W, Lathe_FloatTensor:$R,
           Optional<Lathe_FloatTensor>:$B,
           Optional<Lathe_IndexTensor>:$sequence_lens,
           Optional<Lathe_FloatTensor>:$initial_h),
      extraArgs,
      (ins I64Attr:$hidden_size,
           DefaultValuedAttr<StrAttr, "\"forward\"">:$direction,
           DefaultValuedAttr<I64Attr, "0">:$layout,
           OptionalAttr<F32Attr>:$clip,
           StrArrayAttr:$activations,
           DenseF32ArrayAttr:$activation_alpha,
           DenseF32ArrayAttr:$activation_beta));
  let assemblyFormat = "$X `,` $W `,` $R (`bias` $B^)? "
      "(`sequence_lens` $sequence_lens^)? (`initial_h` $initial_h^)? "
      # extraFormat #
      " attr-dict `:` functional-type(operands, results)";
}

defvar Lathe_RecurrentDoc = [{
    Shapes (layout 0): `X` is `[seq, batch, input]`, `W` is
    `[dirs, gates*hidden, input]`, `R` is `[dirs, gates*hidden, hidden]`, `B`
    is `[dirs, 2*gates*hidden]` (W's biases, then R's), `sequence_lens` is
    `[batch]`, `initial_h` (and `initial_c`) `[dirs, batch, hidden]`. The
    results are `Y` `[seq, dirs, batch, hidden]` and `Y_h` (and `Y_c`)
    `[dirs, batch, hidden]`. With `layout` 1, batch comes first in `X`, `Y`
    (`[batch, seq, dirs, hidden]`), the initial and the final states
    (`[batch, dirs, hidden]`). `dirs` is 2 for `bidirectional`, else 1.

    `activations` holds the cell's functions for each direction (forward
    first), `activation_alpha`/`activation_beta` one value per function
    (the importer resolved ONNX's consumption order and defaults). Names:
    Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh,
    HardSigmoid, Elu, Softsign, Softplus. `clip`, when set, clamps the
    gates' pre-activations into `[-clip, clip]` (LSTM's cell state is not
    clipped before `h`, as in ONNX Runtime).

    With `sequence_lens`, batch entry b runs for its first `len[b]` steps
    (the reverse direction starts at step `len[b] - 1`); its state then stays
    and `Y` is 0 at the later steps.
}];

def Lathe_RnnOp : Lathe_RecurrentOp<"rnn", (ins), ""> {
  let summary = "one-layer simple RNN (ONNX RNN): Ht = f(Xt*Wi^T + Ht-1*Ri^T + Wbi + Rbi)";
  let description = Lathe_RecurrentDoc # [{
    One gate; one activation per direction (f).
  }];
  let results = (outs Lathe_FloatTensor:$Y, Lathe_FloatTensor:$Y_h);
}

def Lathe_GruOp : Lathe_RecurrentOp<"gru",
    (ins DefaultValuedAttr<BoolAttr, "false">:$linear_before_reset), ""> {
  let summary = "one-layer GRU (ONNX GRU), gates z, r, h";
  let description = Lathe_RecurrentDoc # [{
    Two activations per direction (f for z and r, g for the hidden gate).
    With `linear_before_reset` the reset gate multiplies `Ht-1*Rh^T + Rbh`
    instead of `Ht-1`.
  }];
  let results = (outs Lathe_FloatTensor:$Y, Lathe_FloatTensor:$Y_h);
}

def Lathe_LstmOp : Lathe_RecurrentOp<"lstm",
    (ins Optional<Lathe_FloatTensor>:$initial_c, Optional<Lathe_FloatTensor>:$P,
         DefaultValuedAttr<BoolAttr, "false">:$input_forget),
    "(`initial_c` $initial_c^)? (`peepholes` $P^)?"> {
  let summary = "one-layer LSTM (ONNX LSTM), gates i, o, f, c";
  let description = Lathe_RecurrentDoc # [{
    Three activations per direction (f for the gates, g for the cell input,
    h for the output). `P` is `[dirs, 3*hidden]` peepholes (i, o, f).
    `input_forget` couples the forget gate to the input gate: `f = 1 - i`.
  }];
  let results = (outs Lathe_FloatTensor:$Y, Lathe_FloatTensor:$Y_h,
                      Lathe_FloatTensor:$Y_c);
}

#endif // LATHE_RECURRENT_OPS_TD
