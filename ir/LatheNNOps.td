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

def Lathe_GemmOp : Lathe_InferOp<"gemm", [Lathe_VJP]> {
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
  // A 2-D transpose feeding A or B becomes transA/transB.
  let hasCanonicalizer = 1;
}

def Lathe_MatMulOp : Lathe_InferOp<"matmul", [SameOperandsElementType, Lathe_VJP]> {
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

def Lathe_ConvOp : Lathe_InferOp<"conv", [Lathe_VJP]> {
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

def Lathe_MaxPoolOp : Lathe_InferOp<"max_pool", [Lathe_VJP]> {
  let summary = "N-d max pooling";
  let description = [{
    Padding never wins the max (it acts as -inf, or the integer type's
    minimum). With `ceil_mode` the
    output size rounds up, but a window that would start inside the end
    padding is dropped (as ONNX Runtime and PyTorch do).
  }];
  let arguments = (ins Lathe_NumericTensor:$input,
                   DenseI64ArrayAttr:$kernel_shape, DenseI64ArrayAttr:$strides,
                   DenseI64ArrayAttr:$dilations, DenseI64ArrayAttr:$pads,
                   BoolAttr:$ceil_mode);
  let results = (outs Lathe_NumericTensor:$output);
}

def Lathe_AveragePoolOp : Lathe_InferOp<"average_pool", [Lathe_VJP]> {
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

def Lathe_GlobalAveragePoolOp : Lathe_InferOp<"global_average_pool", [Lathe_VJP]> {
  let summary = "mean over all spatial dimensions, kept as size 1";
  let description = "`[N, C, d...]` to `[N, C, 1...]`.";
  let arguments = (ins Lathe_FloatTensor:$input);
  let results = (outs Lathe_FloatTensor:$output);
}

def Lathe_ConvTransposeOp : Lathe_InferOp<"conv_transpose", [Lathe_VJP]> {
  let summary = "N-d grouped transposed convolution (weights [C, M/group, k...])";
  let description = [{
    The gradient of `lathe.conv` with respect to its input: every input
    element scatters `x * w` into a window of the output. Spatial output
    size: `(in - 1) * stride + (k - 1) * dilation + 1 + output_padding -
    pad_begin - pad_end`. `pads` (begin pads then end pads) crop the full
    result; the importer has turned ONNX's `output_shape` and `auto_pad`
    into pads. The optional bias is `[M]`.
  }];
  let arguments = (ins Lathe_FloatTensor:$input, Lathe_FloatTensor:$weight,
                   Optional<Lathe_FloatTensor>:$bias,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$dilations,
                   DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$output_padding,
                   I64Attr:$group);
  let results = (outs Lathe_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Lathe_MaxPoolWithIndicesOp : Lathe_InferOp<"max_pool_with_indices", [Lathe_VJP]> {
  let summary = "N-d max pooling that also returns where each max came from";
  let description = [{
    `output` as for `lathe.max_pool`; `indices` holds
    the flat index of the chosen element in the whole input tensor
    (`[N, C, spatial...]` row-major, or with the spatial dims column-major
    when `storage_order` is 1). The first maximum of a window wins.
  }];
  let arguments = (ins Lathe_NumericTensor:$input,
                   DenseI64ArrayAttr:$kernel_shape, DenseI64ArrayAttr:$strides,
                   DenseI64ArrayAttr:$dilations, DenseI64ArrayAttr:$pads,
                   BoolAttr:$ceil_mode, I64Attr:$storage_order);
  let results = (outs Lathe_NumericTensor:$output, TensorOf<[I64]>:$indices);
}

def Lathe_MaxPoolGradOp : Lathe_InferOp<"max_pool_grad"> {
  let summary = "gradient of max pooling over windows that tile the input";
  let description = [{
    The backward graph's max pooling gradient when the windows tile the
    input exactly (strides equal to `kernel_shape`, no padding or
    dilation, each spatial input dim a multiple of the window's): each
    `output_grad` element goes to the first maximum (row-major in the
    window) of its window of `input`, the element `lathe.max_pool_with_indices`
    names; every other input element gets zero. Other pooling windows
    differentiate through the indices and a scatter.
  }];
  let arguments = (ins Lathe_FloatTensor:$input, Lathe_FloatTensor:$output_grad,
                   DenseI64ArrayAttr:$kernel_shape);
  let results = (outs Lathe_FloatTensor:$input_grad);
}

def Lathe_MaxUnpoolOp : Lathe_InferOp<"max_unpool", [Lathe_VJP]> {
  let summary = "partial inverse of max pooling: scatter values to indices";
  let description = [{
    Each `input` element is written at the flat position `indices` names
    in a zero tensor of `index_shape`; that tensor is placed at the origin
    of the `output_shape` result (which may be larger, filled with zeros).
  }];
  let arguments = (ins Lathe_NumericTensor:$input, TensorOf<[I64]>:$indices,
                   DenseI64ArrayAttr:$index_shape,
                   DenseI64ArrayAttr:$output_shape);
  let results = (outs Lathe_NumericTensor:$output);
}

def Lathe_BatchNormOp : Lathe_InferOp<"batch_norm", [Lathe_VJP]> {
  let summary = "inference batch normalisation with running statistics";
  let description = [{
    `y = scale * (x - mean) / sqrt(var + epsilon) + bias`, per channel
    (dimension 1). Parameters are 1-D of the channel count. `momentum` is
    the ONNX attribute, unused in inference; `lathe-training-mode` passes it
    on to `lathe.batch_norm_training`.
  }];
  let arguments = (ins Lathe_FloatTensor:$input, Lathe_FloatTensor:$scale,
                   Lathe_FloatTensor:$bias, Lathe_FloatTensor:$mean,
                   Lathe_FloatTensor:$variance, F32Attr:$epsilon,
                   DefaultValuedAttr<F32Attr, "0.9f">:$momentum);
  let results = (outs Lathe_FloatTensor:$output);
}

//===----------------------------------------------------------------------===//
// Normalisation
//===----------------------------------------------------------------------===//

def Lathe_BatchNormTrainingOp : Lathe_InferOp<"batch_norm_training", [Lathe_VJP]> {
  let summary = "batch normalisation with batch statistics (training mode)";
  let description = [{
    Normalises with the mean and (biased) variance of the batch over every
    dimension but 1: `y = scale * (x - m) / sqrt(v + epsilon) + bias`.
    Also returns the updated running statistics `mean * momentum + m *
    (1 - momentum)` (likewise for the variance) and the batch `m`, `v`.
  }];
  let arguments = (ins Lathe_FloatTensor:$input, Lathe_FloatTensor:$scale,
                   Lathe_FloatTensor:$bias, Lathe_FloatTensor:$mean,
                   Lathe_FloatTensor:$variance, F32Attr:$epsilon,
                   F32Attr:$momentum);
  let results = (outs Lathe_FloatTensor:$output,
                      Lathe_FloatTensor:$running_mean,
                      Lathe_FloatTensor:$running_var,
                      Lathe_FloatTensor:$batch_mean,
                      Lathe_FloatTensor:$batch_var);
}

def Lathe_InstanceNormOp : Lathe_InferOp<"instance_norm", [Lathe_VJP]> {
  let summary = "instance normalisation: per (n, c) statistics over space";
  let description = [{
    `y = scale[c] * (x - mean) / sqrt(var + epsilon) + bias[c]` with the
    mean and biased variance of each `[n, c]` slice.
  }];
  let arguments = (ins Lathe_FloatTensor:$input, Lathe_FloatTensor:$scale,
                   Lathe_FloatTensor:$bias, F32Attr:$epsilon);
  let results = (outs Lathe_FloatTensor:$output);
}

def Lathe_LayerNormOp : Lathe_InferOp<"layer_norm", [Lathe_VJP]> {
  let summary = "layer normalisation over the dimensions from `axis` on";
  let description = [{
    `y = (x - mean) * inv_std_dev * scale + bias`, where the mean and
    `1 / sqrt(var + epsilon)` are taken over dims `axis..rank-1`; scale and
    the optional bias broadcast (numpy rules) to those dims. `mean` and
    `inv_std_dev` have the input's shape with the normalised dims set to
    1. The statistics are computed and returned in the float type
    `stash_type` names (ONNX's element type code: 1 f32, 10 f16, 11 f64,
    16 bf16).
  }];
  let arguments = (ins Lathe_FloatTensor:$input, Lathe_FloatTensor:$scale,
                   Optional<Lathe_FloatTensor>:$bias, I64Attr:$axis,
                   F32Attr:$epsilon, I64Attr:$stash_type);
  let results = (outs Lathe_FloatTensor:$output, Lathe_FloatTensor:$mean,
                      Lathe_FloatTensor:$inv_std_dev);
  let assemblyFormat = [{
    $input `,` $scale (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Lathe_MeanVarianceNormOp : Lathe_InferOp<"mean_variance_norm", [Lathe_VJP]> {
  let summary = "(x - mean) / (sqrt(var) + 1e-9) over `axes`";
  let description = [{
    ONNX MeanVarianceNormalization: mean and biased variance over the
    listed (normalised, distinct) axes.
  }];
  let arguments = (ins Lathe_FloatTensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs Lathe_FloatTensor:$output);
}

def Lathe_LrnOp : Lathe_InferOp<"lrn", [Lathe_VJP]> {
  let summary = "local response normalisation across channels";
  let description = [{
    `y = x / (bias + alpha / size * sum(x^2))^beta`, the sum over channels
    `c - floor((size - 1) / 2) .. c + ceil((size - 1) / 2)` (clipped).
  }];
  let arguments = (ins Lathe_FloatTensor:$input, I64Attr:$size,
                   F32Attr:$alpha, F32Attr:$beta, F32Attr:$bias);
  let results = (outs Lathe_FloatTensor:$output);
}

def Lathe_LpNormOp : Lathe_InferOp<"lp_norm", [Lathe_VJP]> {
  let summary = "x / ||x||_p along one axis (p = 1 or 2)";
  let description = "ONNX LpNormalization.";
  let arguments = (ins Lathe_FloatTensor:$input, I64Attr:$axis, I64Attr:$p);
  let results = (outs Lathe_FloatTensor:$output);
}

//===----------------------------------------------------------------------===//
// Einsum
//===----------------------------------------------------------------------===//

def Lathe_EinsumOp : Lathe_InferOp<"einsum", [SameOperandsElementType, Lathe_VJP]> {
  let summary = "Einstein summation over integer-labelled dimensions";
  let description = [{
    `labels` lists the label of every dimension of every operand, operand
    after operand (the importer has expanded ellipses and parsed the
    equation); `output_labels` those of the result. Labels not in the
    output are summed over; a label repeated within one operand takes
    its diagonal.
  }];
  let arguments = (ins Variadic<Lathe_NumericTensor>:$inputs,
                   DenseI64ArrayAttr:$labels,
                   DenseI64ArrayAttr:$output_labels);
  let results = (outs Lathe_NumericTensor:$output);
}

//===----------------------------------------------------------------------===//
// Resampling
//===----------------------------------------------------------------------===//

def Lathe_ResizeOp : Lathe_InferOp<"resize", [Lathe_VJP]> {
  let summary = "N-d resampling (ONNX Resize / Upsample)";
  let description = [{
    Each output coordinate maps to an input coordinate per dimension by
    `coordinate_transformation_mode` (half_pixel, pytorch_half_pixel,
    align_corners, asymmetric, tf_half_pixel_for_nn, tf_crop_and_resize
    with `roi` = begins then ends) and the per-dim `scales`; `mode`
    nearest (with `nearest_mode` round_prefer_floor, round_prefer_ceil,
    floor, ceil, or legacy `simple`: ceil when downsampling, floor
    otherwise), linear or cubic (`cubic_coeff_a`, `exclude_outside`)
    interpolates. Samples outside the roi give `extrapolation_value`.
    The result shape is `sizes`.
  }];
  let arguments = (ins Lathe_NumericTensor:$input, StrAttr:$mode,
                   StrAttr:$coordinate_transformation_mode,
                   StrAttr:$nearest_mode, F32Attr:$cubic_coeff_a,
                   BoolAttr:$exclude_outside, F32Attr:$extrapolation_value,
                   DenseF64ArrayAttr:$scales, DenseF64ArrayAttr:$roi,
                   DenseI64ArrayAttr:$sizes);
  let results = (outs Lathe_NumericTensor:$output);
}

def Lathe_GridSampleOp : Lathe_InferOp<"grid_sample", [Lathe_VJP]> {
  let summary = "2-D sampling of [N, C, H, W] at grid points in [-1, 1]";
  let description = [{
    `grid` is `[N, Ho, Wo, 2]` (x, y); the result `[N, C, Ho, Wo]`. `mode`
    bilinear, nearest (ties to even) or bicubic (A = -0.75);
    `padding_mode` zeros, border or reflection; `align_corners` maps -1
    and 1 to the corner pixels' centres instead of their outer edges.
  }];
  let arguments = (ins Lathe_FloatTensor:$input, Lathe_FloatTensor:$grid,
                   StrAttr:$mode, StrAttr:$padding_mode,
                   BoolAttr:$align_corners);
  let results = (outs Lathe_FloatTensor:$output);
}

//===----------------------------------------------------------------------===//
// Regularisation
//===----------------------------------------------------------------------===//

def Lathe_DropoutOp : Lathe_SameTypeOp<"dropout", [Lathe_VJP]> {
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
