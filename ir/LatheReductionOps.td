//===- LatheReductionOps.td - lathe reductions, arg-reductions, scans, top-k ----*- tablegen -*-===//
//
// Included from LatheOps.td, after the op base classes.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_REDUCTION_OPS_TD
#define LATHE_REDUCTION_OPS_TD

//===----------------------------------------------------------------------===//
// Reductions over a set of axes
//===----------------------------------------------------------------------===//

// One op per ONNX Reduce* operator: the scalar functions before and after
// the combination (abs, square, exp, sqrt, log) are part of the op, so that
// each keeps ONNX's exact semantics (LogSumExp is computed stably) without
// depending on separate elementwise ops.
class Lathe_ReduceOp<string mnemonic, string onnxName, string formula,
                     list<Trait> traits = []>
    : Lathe_InferOp<mnemonic, traits> {
  let summary = "ONNX " # onnxName # ": " # formula # " over `axes`";
  let description = "Reduces the dimensions listed in `axes` (ascending, "
    # "non-negative, no repeats; the importer normalises ONNX's negative "
    # "axes and expands empty ones to all axes) with `" # formula # "`. "
    # "With `keepdims` the reduced dimensions stay with size 1, otherwise "
    # "they are removed. The result has the input's element type; integer "
    # "inputs compute square roots, logarithms and exponentials in f64 and "
    # "truncate the result toward zero (as ONNX's reference does), integer "
    # "means truncate toward zero.";
  let arguments = (ins Lathe_NumericTensor:$input, DenseI64ArrayAttr:$axes,
                   BoolAttr:$keepdims);
  let results = (outs Lathe_NumericTensor:$output);
}

def Lathe_ReduceSumOp
    : Lathe_ReduceOp<"reduce_sum", "ReduceSum", "sum(x)", [Lathe_VJP]>;
def Lathe_ReduceMeanOp
    : Lathe_ReduceOp<"reduce_mean", "ReduceMean", "sum(x) / count", [Lathe_VJP]>;
def Lathe_ReduceMaxOp
    : Lathe_ReduceOp<"reduce_max", "ReduceMax", "max(x)", [Lathe_VJP]>;
def Lathe_ReduceMinOp
    : Lathe_ReduceOp<"reduce_min", "ReduceMin", "min(x)", [Lathe_VJP]>;
def Lathe_ReduceProdOp
    : Lathe_ReduceOp<"reduce_prod", "ReduceProd", "prod(x)", [Lathe_VJP]>;
def Lathe_ReduceL1Op
    : Lathe_ReduceOp<"reduce_l1", "ReduceL1", "sum(|x|)", [Lathe_VJP]>;
def Lathe_ReduceL2Op
    : Lathe_ReduceOp<"reduce_l2", "ReduceL2", "sqrt(sum(x * x))", [Lathe_VJP]>;
def Lathe_ReduceLogSumOp
    : Lathe_ReduceOp<"reduce_log_sum", "ReduceLogSum", "log(sum(x))",
                     [Lathe_VJP]>;
def Lathe_ReduceLogSumExpOp
    : Lathe_ReduceOp<"reduce_log_sum_exp", "ReduceLogSumExp",
                     "m + log(sum(exp(x - m))) with m = max(x)", [Lathe_VJP]>;
def Lathe_ReduceSumSquareOp
    : Lathe_ReduceOp<"reduce_sum_square", "ReduceSumSquare", "sum(x * x)",
                     [Lathe_VJP]>;

//===----------------------------------------------------------------------===//
// Arg-reductions
//===----------------------------------------------------------------------===//

class Lathe_ArgReduceOp<string mnemonic, string onnxName, string which>
    : Lathe_InferOp<mnemonic> {
  let summary = "ONNX " # onnxName # ": int64 index of the " # which
    # " element along `axis`";
  let description = "Index of the " # which # " element along `axis` "
    # "(may be negative). Of equal elements the first wins, the last with "
    # "`select_last_index`. NaN counts as the " # which # " value (as "
    # "numpy's reference). With `keepdims` the axis stays with size 1.";
  let arguments = (ins Lathe_NumericTensor:$input, I64Attr:$axis,
                   BoolAttr:$keepdims, BoolAttr:$select_last_index);
  let results = (outs RankedTensorOf<[I64]>:$output);
}

def Lathe_ArgMaxOp : Lathe_ArgReduceOp<"argmax", "ArgMax", "largest">;
def Lathe_ArgMinOp : Lathe_ArgReduceOp<"argmin", "ArgMin", "smallest">;

//===----------------------------------------------------------------------===//
// Scans and selection
//===----------------------------------------------------------------------===//

def Lathe_CumSumOp : Lathe_InferOp<"cumsum", [Lathe_VJP]> {
  let summary = "ONNX CumSum: running sum along `axis`";
  let description = [{
    `y[i] = sum(x[j] for j <= i)` along `axis` (may be negative); with
    `exclusive` the element itself is left out (`j < i`), with `reverse` the
    sum runs from the end (`j >= i`, or `j > i` when also exclusive).
  }];
  let arguments = (ins Lathe_NumericTensor:$input, I64Attr:$axis,
                   BoolAttr:$exclusive, BoolAttr:$reverse);
  let results = (outs Lathe_NumericTensor:$output);
}

def Lathe_TopKOp : Lathe_InferOp<"topk", [Lathe_VJP]> {
  let summary = "ONNX TopK: the `k` largest (or smallest) elements along `axis`";
  let description = [{
    Returns the `k` largest elements along `axis` (may be negative), or the
    `k` smallest when `largest` is false, and their int64 indices. The
    result is always sorted (best first), also when ONNX's `sorted` is 0
    (the order is then unspecified). Of equal elements the one with the
    lower index comes first; NaN is larger than every number (numpy's sort
    order), so it is selected first by `largest` and last otherwise.
  }];
  let arguments = (ins Lathe_NumericTensor:$input, I64Attr:$axis, I64Attr:$k,
                   BoolAttr:$largest);
  let results = (outs Lathe_NumericTensor:$values,
                 RankedTensorOf<[I64]>:$indices);
}

#endif // LATHE_REDUCTION_OPS_TD
