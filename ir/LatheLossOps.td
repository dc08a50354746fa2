//===- LatheLossOps.td - lathe loss functions ----*- tablegen -*-===//
//
// Included from LatheOps.td, after the op base classes.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_LOSS_OPS_TD
#define LATHE_LOSS_OPS_TD

def Lathe_NllLossOp : Lathe_InferOp<"nll_loss", [Lathe_VJP]> {
  let summary = "negative log-likelihood loss (ONNX NegativeLogLikelihoodLoss)";
  let description = [{
    `input` is `[N, C, d1, ...]` (log-probabilities), `target` is
    `[N, d1, ...]` with class indices in `[0, C)`, the optional `weight` is
    `[C]` (all ones when absent). Per element
    `loss[n, d] = -input[n, target[n, d], d] * weight[target[n, d]]`, and 0
    where `target[n, d] == ignore_index` (when set).

    `reduction` is `none` (the `[N, d1, ...]` losses), `sum` (a scalar) or
    `mean`: the sum divided by the sum of the weights of the targets that
    are not ignored (the count of them without `weight`; all ignored gives
    0/0 = NaN, as ONNX's reference). Targets outside `[0, C)` that are not
    ignored read class 0 (ONNX leaves them undefined).

    SoftmaxCrossEntropyLoss is imported as `lathe.log_softmax` over axis 1
    followed by this op.
  }];
  let arguments = (ins Lathe_FloatTensor:$input, Lathe_IndexTensor:$target,
                   Optional<Lathe_FloatTensor>:$weight,
                   OptionalAttr<I64Attr>:$ignore_index,
                   DefaultValuedAttr<StrAttr, "\"mean\"">:$reduction);
  let results = (outs Lathe_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $target (`,` $weight^)? attr-dict `:` functional-type(operands, results)
  }];
}

#endif // LATHE_LOSS_OPS_TD
