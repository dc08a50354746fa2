//===- LatheShapeOps.td - lathe shape and data movement ops ----*- tablegen -*-===//
//
// Included from LatheOps.td, after the op base classes.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_SHAPE_OPS_TD
#define LATHE_SHAPE_OPS_TD

//===----------------------------------------------------------------------===//
// Shape and data movement
//===----------------------------------------------------------------------===//

def Lathe_FlattenOp : Lathe_InferOp<"flatten", [Lathe_VJP]> {
  let summary = "reshape to 2-D at an axis";
  let description = "Dims before `axis` form the rows, the rest the columns.";
  let arguments = (ins Lathe_AnyTensor:$input, I64Attr:$axis);
  let results = (outs Lathe_AnyTensor:$output);
  // Folds when the shape is unchanged; after a Reshape or Flatten (Squeeze and
  // Unsqueeze import as Reshape) the chain becomes one Reshape.
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Lathe_ReshapeOp : Lathe_InferOp<"reshape", [Lathe_VJP]> {
  let summary = "reshape to a static shape";
  let description = [{
    `shape` is fully resolved (no 0 or -1 entries: the importer applies
    ONNX's `allowzero`, copy and infer rules); the element count is kept.
  }];
  let arguments = (ins Lathe_AnyTensor:$input, DenseI64ArrayAttr:$shape);
  let results = (outs Lathe_AnyTensor:$output);
  // Folds when the shape is unchanged; a Reshape of a Reshape or Flatten
  // reshapes the original input.
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Lathe_TransposeOp : Lathe_InferOp<"transpose", [Lathe_VJP]> {
  let summary = "permute dimensions";
  let description = "Result dim `i` is input dim `perm[i]`.";
  let arguments = (ins Lathe_AnyTensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Lathe_AnyTensor:$output);
  // The identity permutation folds; a transpose of a transpose becomes one
  // with the composed permutation.
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Lathe_ConcatOp : Lathe_InferOp<"concat", [SameOperandsElementType, Lathe_VJP]> {
  let summary = "join tensors along an axis";
  let description = "All other dims must match. `axis` may be negative.";
  let arguments = (ins Variadic<Lathe_AnyTensor>:$inputs, I64Attr:$axis);
  let results = (outs Lathe_AnyTensor:$output);
}

def Lathe_IdentityOp : Lathe_SameTypeOp<"identity", [Lathe_VJP]> {
  let summary = "returns its input";
  let description = "Kept so that graphs map one to one; removed by folding.";
  let arguments = (ins Lathe_AnyTensor:$input);
  let results = (outs Lathe_AnyTensor:$output);
  let hasFolder = 1;
}

def Lathe_SliceOp : Lathe_InferOp<"slice", [Lathe_VJP]> {
  let summary = "strided slice with static offsets, sizes and strides";
  let description = [{
    Result dim `d` holds input elements `offsets[d] + i * strides[d]` for
    `i` in `[0, sizes[d])`. Strides are non-zero and may be negative (ONNX
    Slice with negative steps); the importer has resolved ONNX's clamping
    and negative starts/ends, so every element read is in bounds.
  }];
  let arguments = (ins Lathe_AnyTensor:$input, DenseI64ArrayAttr:$offsets,
                   DenseI64ArrayAttr:$sizes, DenseI64ArrayAttr:$strides);
  let results = (outs Lathe_AnyTensor:$output);
}

def Lathe_ExpandOp : Lathe_InferOp<"expand", [Lathe_VJP]> {
  let summary = "numpy broadcast of the input with a shape";
  let description = [{
    The result shape is the numpy broadcast of the input shape and `shape`
    (ONNX Expand: either side may hold the 1s).
  }];
  let arguments = (ins Lathe_AnyTensor:$input, DenseI64ArrayAttr:$shape);
  let results = (outs Lathe_AnyTensor:$output);
  // Expanding to the input's own shape is the identity.
  let hasFolder = 1;
}

def Lathe_TileOp : Lathe_InferOp<"tile", [Lathe_VJP]> {
  let summary = "repeat the input along every dim";
  let description = "Result dim `d` is `input[d] * repeats[d]`.";
  let arguments = (ins Lathe_AnyTensor:$input, DenseI64ArrayAttr:$repeats);
  let results = (outs Lathe_AnyTensor:$output);
}

def Lathe_PadOp : Lathe_InferOp<"pad", [Lathe_VJP]> {
  let summary = "pad with a constant, the reflection or the edge value";
  let description = [{
    `pads` holds the begin pads of every dim followed by the end pads (ONNX
    order); negative pads crop. `mode` is `constant` (the 0-D `value`, zero
    when absent), `reflect` (mirror without repeating the edge) or `edge`.
  }];
  let arguments = (ins Lathe_AnyTensor:$input, Optional<Lathe_AnyTensor>:$value,
                   DenseI64ArrayAttr:$pads, StrAttr:$mode);
  let results = (outs Lathe_AnyTensor:$output);
  let assemblyFormat = [{
    $input (`,` $value^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Lathe_TriluOp : Lathe_InferOp<"trilu", [Lathe_VJP]> {
  let summary = "upper or lower triangle of the last two dims";
  let description = [{
    Keeps element `[..., i, j]` where `j - i >= k` (`upper`) or
    `j - i <= k` (lower) and zeroes the rest. The diagonal offset is the
    0-D int64 operand `k_value` when given (a run-time ONNX input), else `k`.
  }];
  let arguments = (ins Lathe_AnyTensor:$input,
                   Optional<RankedTensorOf<[I64]>>:$k_value, BoolAttr:$upper,
                   I64Attr:$k);
  let results = (outs Lathe_AnyTensor:$output);
  let assemblyFormat = [{
    $input (`,` $k_value^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Lathe_OneHotOp : Lathe_InferOp<"one_hot"> {
  let summary = "one-hot encoding along a new axis";
  let description = [{
    Inserts a dim of size `depth` at `axis` (of the result); an element is
    `values[1]` where the index (converted to an integer; negative ones
    count from `depth`) equals its position along that dim, else
    `values[0]`. `values` is 1-D of 2 elements.
  }];
  let arguments = (ins Lathe_NumericTensor:$indices, Lathe_AnyTensor:$values,
                   I64Attr:$depth, I64Attr:$axis);
  let results = (outs Lathe_AnyTensor:$output);
}

def Lathe_ReverseSequenceOp : Lathe_InferOp<"reverse_sequence", [Lathe_VJP]> {
  let summary = "reverse the first seq_lens[b] steps of every batch entry";
  let description = [{
    For batch `b` (along `batch_axis`), time steps `t < seq_lens[b]`
    (along `time_axis`) are read from `seq_lens[b] - 1 - t`; later steps
    are copied.
  }];
  let arguments = (ins Lathe_AnyTensor:$input, Lathe_IndexTensor:$seq_lens,
                   I64Attr:$batch_axis, I64Attr:$time_axis);
  let results = (outs Lathe_AnyTensor:$output);
}

//===----------------------------------------------------------------------===//
// Gathers and scatters (run-time indices; negative ones count from the end)
//===----------------------------------------------------------------------===//

def Lathe_GatherOp : Lathe_InferOp<"gather", [Lathe_VJP]> {
  let summary = "take slices along an axis at run-time indices";
  let description = [{
    The result shape is `data[:axis] + indices + data[axis+1:]`; negative
    indices count from the end of the axis.
  }];
  let arguments = (ins Lathe_AnyTensor:$data, Lathe_IndexTensor:$indices,
                   I64Attr:$axis);
  let results = (outs Lathe_AnyTensor:$output);
}

def Lathe_GatherElementsOp : Lathe_InferOp<"gather_elements", [Lathe_VJP]> {
  let summary = "take elements along an axis; the result has the indices' shape";
  let description = [{
    `out[i...] = data[i... with i[axis] replaced by indices[i...]]`;
    indices and data have the same rank.
  }];
  let arguments = (ins Lathe_AnyTensor:$data, Lathe_IndexTensor:$indices,
                   I64Attr:$axis);
  let results = (outs Lathe_AnyTensor:$output);
}

def Lathe_GatherNDOp : Lathe_InferOp<"gather_nd", [Lathe_VJP]> {
  let summary = "take slices addressed by index tuples (last dim of indices)";
  let description = [{
    The first `batch_dims` dims are shared by data and indices; the last dim
    of indices (k) addresses the next k dims of data. The result shape is
    `indices[:-1] + data[batch_dims + k:]`.
  }];
  let arguments = (ins Lathe_AnyTensor:$data, Lathe_IndexTensor:$indices,
                   I64Attr:$batch_dims);
  let results = (outs Lathe_AnyTensor:$output);
}

def Lathe_ScatterElementsOp : Lathe_InferOp<"scatter_elements", [Lathe_VJP]> {
  let summary = "write or combine updates into a copy of data along an axis";
  let description = [{
    `out[i... with i[axis] = indices[i...]] (op)= updates[i...]`, in the
    order of the updates' elements; `reduction` is `none`, `add`, `mul`,
    `max` or `min`.
  }];
  let arguments = (ins Lathe_AnyTensor:$data, Lathe_IndexTensor:$indices,
                   Lathe_AnyTensor:$updates, I64Attr:$axis, StrAttr:$reduction);
  let results = (outs Lathe_AnyTensor:$output);
}

def Lathe_ScatterNDOp : Lathe_InferOp<"scatter_nd", [Lathe_VJP]> {
  let summary = "write or combine slices into a copy of data at index tuples";
  let description = [{
    Each index tuple (last dim of indices, length k) addresses a slice
    `data[tuple]` of shape `data[k:]`; updates have the shape
    `indices[:-1] + data[k:]`. `reduction` as for scatter_elements.
  }];
  let arguments = (ins Lathe_AnyTensor:$data, Lathe_IndexTensor:$indices,
                   Lathe_AnyTensor:$updates, StrAttr:$reduction);
  let results = (outs Lathe_AnyTensor:$output);
}

#endif // LATHE_SHAPE_OPS_TD
