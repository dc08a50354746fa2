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

def Lathe_FlattenOp : Lathe_InferOp<"flatten"> {
  let summary = "reshape to 2-D at an axis";
  let description = "Dims before `axis` form the rows, the rest the columns.";
  let arguments = (ins Lathe_AnyTensor:$input, I64Attr:$axis);
  let results = (outs Lathe_AnyTensor:$output);
}

def Lathe_ReshapeOp : Lathe_InferOp<"reshape"> {
  let summary = "reshape to a static shape";
  let description = [{
    `shape` is fully resolved (no 0 or -1 entries: the importer applies
    ONNX's `allowzero`, copy and infer rules); the element count is kept.
  }];
  let arguments = (ins Lathe_AnyTensor:$input, DenseI64ArrayAttr:$shape);
  let results = (outs Lathe_AnyTensor:$output);
}

def Lathe_TransposeOp : Lathe_InferOp<"transpose"> {
  let summary = "permute dimensions";
  let description = "Result dim `i` is input dim `perm[i]`.";
  let arguments = (ins Lathe_AnyTensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Lathe_AnyTensor:$output);
}

def Lathe_ConcatOp : Lathe_InferOp<"concat", [SameOperandsElementType]> {
  let summary = "join tensors along an axis";
  let description = "All other dims must match. `axis` may be negative.";
  let arguments = (ins Variadic<Lathe_AnyTensor>:$inputs, I64Attr:$axis);
  let results = (outs Lathe_AnyTensor:$output);
}

def Lathe_IdentityOp : Lathe_SameTypeOp<"identity"> {
  let summary = "returns its input";
  let description = "Kept so that graphs map one to one; removed by folding.";
  let arguments = (ins Lathe_AnyTensor:$input);
  let results = (outs Lathe_AnyTensor:$output);
  let hasFolder = 1;
}

#endif // LATHE_SHAPE_OPS_TD
