//===- LatheNNOps.td - lathe neural-network layers ----*- tablegen -*-===//
//
// Included from LatheOps.td, after the op base classes.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_NN_OPS_TD
#define LATHE_NN_OPS_TD

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

def Lathe_GemmOp : Lathe_InferOp<"gemm"> {
  let summary = "general matrix multiply: alpha * op(A) * op(B) + beta * C";
  let description = [{
    `op(X)` is `X` or its transpose per `transA`/`transB`. A and B are 2-D;
    the optional C broadcasts to the `[M, N]` result by numpy's rules.
  }];
  let arguments = (ins Lathe_FloatTensor:$a, Lathe_FloatTensor:$b,
                   Optional<Lathe_FloatTensor>:$c,
                   DefaultValuedAttr<BoolAttr, "false">:$transA,
                   DefaultValuedAttr<BoolAttr, "false">:$transB,
                   DefaultValuedAttr<F32Attr, "1.0f">:$alpha,
                   DefaultValuedAttr<F32Attr, "1.0f">:$beta);
  let results = (outs Lathe_FloatTensor:$output);
  let assemblyFormat = [{
    $a `,` $b (`,` $c^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Lathe_MatMulOp : Lathe_InferOp<"matmul", [SameOperandsElementType]> {
  let summary = "numpy matmul: batched, with broadcast batch dimensions";
  let description = [{
    Rank-1 operands are promoted (a leading or trailing 1 is inserted and
    removed from the result); batch dimensions broadcast by numpy's rules.
  }];
  let arguments = (ins Lathe_NumericTensor:$a, Lathe_NumericTensor:$b);
  let results = (outs Lathe_NumericTensor:$output);
}

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

def Lathe_ConvOp : Lathe_InferOp<"conv"> {
  let summary = "N-d grouped convolution (NC[D]HW input, OIHW weights)";
  let description = [{
    `pads` holds the begin pads of every spatial dim followed by the end
    pads (ONNX order); `auto_pad` has been resolved by the importer.
    Weights are `[M, C/group, k...]`; the optional bias is `[M]`.
  }];
  let arguments = (ins Lathe_FloatTensor:$input, Lathe_FloatTensor:$weight,
                   Optional<Lathe_FloatTensor>:$bias,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$dilations,
                   DenseI64ArrayAttr:$pads, I64Attr:$group);
  let results = (outs Lathe_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Lathe_MaxPoolOp : Lathe_InferOp<"max_pool"> {
  let summary = "N-d max pooling";
  let description = [{
    Padding never wins the max (it acts as -inf). With `ceil_mode` the
    output size rounds up, but a window that would start inside the end
    padding is dropped (as ONNX Runtime and PyTorch do).
  }];
  let arguments = (ins Lathe_FloatTensor:$input,
                   DenseI64ArrayAttr:$kernel_shape, DenseI64ArrayAttr:$strides,
                   DenseI64ArrayAttr:$dilations, DenseI64ArrayAttr:$pads,
                   BoolAttr:$ceil_mode);
  let results = (outs Lathe_FloatTensor:$output);
}

def Lathe_AveragePoolOp : Lathe_InferOp<"average_pool"> {
  let summary = "N-d average pooling";
  let description = [{
    The divisor of each window counts the elements inside the input, plus
    the padded ones when `count_include_pad` is set. Output size as for
    `lathe.max_pool`.
  }];
  let arguments = (ins Lathe_FloatTensor:$input,
                   DenseI64ArrayAttr:$kernel_shape, DenseI64ArrayAttr:$strides,
                   DenseI64ArrayAttr:$pads, BoolAttr:$ceil_mode,
                   BoolAttr:$count_include_pad);
  let results = (outs Lathe_FloatTensor:$output);
}

def Lathe_GlobalAveragePoolOp : Lathe_InferOp<"global_average_pool"> {
  let summary = "mean over all spatial dimensions, kept as size 1";
  let description = "`[N, C, d...]` to `[N, C, 1...]`.";
  let arguments = (ins Lathe_FloatTensor:$input);
  let results = (outs Lathe_FloatTensor:$output);
}

def Lathe_BatchNormOp : Lathe_InferOp<"batch_norm"> {
  let summary = "inference batch normalisation with running statistics";
  let description = [{
    `y = scale * (x - mean) / sqrt(var + epsilon) + bias`, per channel
    (dimension 1). Parameters are 1-D of the channel count.
  }];
  let arguments = (ins Lathe_FloatTensor:$input, Lathe_FloatTensor:$scale,
                   Lathe_FloatTensor:$bias, Lathe_FloatTensor:$mean,
                   Lathe_FloatTensor:$variance, F32Attr:$epsilon);
  let results = (outs Lathe_FloatTensor:$output);
}

//===----------------------------------------------------------------------===//
// Regularisation
//===----------------------------------------------------------------------===//

def Lathe_DropoutOp : Lathe_SameTypeOp<"dropout"> {
  let summary = "dropout in inference mode (the identity)";
  let description = [{
    In inference, dropout returns its input unchanged; `ratio` is kept for
    the training pipeline. The importer materialises ONNX's optional mask
    output as an all-true constant.
  }];
  let arguments = (ins Lathe_FloatTensor:$input, F32Attr:$ratio);
  let results = (outs Lathe_FloatTensor:$output);
  let hasFolder = 1;
}

#endif // LATHE_NN_OPS_TD
