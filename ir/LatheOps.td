//===- LatheOps.td - lathe dialect operations --------------*- tablegen -*-===//
//
// One def per ONNX operator family. Each op infers its result type from its
// operands and attributes (InferTypeOpInterface); the inference functions in
// LatheOps.cpp are also the verifiers, so an op with inconsistent shapes can
// neither be built nor parsed.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_OPS_TD
#define LATHE_OPS_TD

include "ir/LatheDialect.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Lathe_FloatTensor : RankedTensorOf<[AnyFloat]>;
def Lathe_NumericTensor : RankedTensorOf<[AnyFloat, AnySignlessInteger]>;
def Lathe_AnyTensor : RankedTensorOf<[AnyType]>;

class Lathe_InferOp<string mnemonic, list<Trait> traits = []>
    : Lathe_Op<mnemonic, !listconcat(traits,
        [Pure, InferTypeOpAdaptor])> {
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

// Result type equals the operand type; ODS generates the inference.
class Lathe_SameTypeOp<string mnemonic>
    : Lathe_Op<mnemonic, [Pure, SameOperandsAndResultType, InferTypeOpInterface]> {
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

def Lathe_ConstantOp : Lathe_Op<"constant", [ConstantLike, Pure, InferTypeOpAdaptor]> {
  let summary = "constant tensor (ONNX Constant and graph initializers)";
  let description = [{
    A tensor known at compile time. Model weights (ONNX initializers) and
    `Constant` nodes both become `lathe.constant`; the location is the
    initializer or node name.

    ```mlir
    %w = lathe.constant dense<1.0> : tensor<4x4xf32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Lathe_AnyTensor:$output);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise binary ops with numpy broadcasting
//===----------------------------------------------------------------------===//

class Lathe_BinaryOp<string mnemonic, string onnxName>
    : Lathe_InferOp<mnemonic, [SameOperandsElementType]> {
  let summary = "elementwise " # onnxName # " with numpy broadcasting";
  let description = [{
    Computes the operation elementwise over the operands broadcast against
    each other by numpy's rules (dimensions aligned from the right; a
    dimension of size 1 stretches). Integer division truncates toward zero.
  }];
  let arguments = (ins Lathe_NumericTensor:$lhs, Lathe_NumericTensor:$rhs);
  let results = (outs Lathe_NumericTensor:$output);
}

def Lathe_AddOp : Lathe_BinaryOp<"add", "Add">;
def Lathe_SubOp : Lathe_BinaryOp<"sub", "Sub">;
def Lathe_MulOp : Lathe_BinaryOp<"mul", "Mul">;
def Lathe_DivOp : Lathe_BinaryOp<"div", "Div">;

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

class Lathe_UnaryOp<string mnemonic, string formula,
                    dag attrs = (ins)>
    : Lathe_SameTypeOp<mnemonic> {
  let summary = "elementwise " # formula;
  let description = "Computes `" # formula # "` for each element.";
  let arguments = !con((ins Lathe_FloatTensor:$input), attrs);
  let results = (outs Lathe_FloatTensor:$output);
}

def Lathe_ReluOp : Lathe_UnaryOp<"relu", "y = max(x, 0)">;
def Lathe_SigmoidOp : Lathe_UnaryOp<"sigmoid", "y = 1 / (1 + exp(-x))">;
def Lathe_TanhOp : Lathe_UnaryOp<"tanh", "y = tanh(x)">;
def Lathe_LeakyReluOp : Lathe_UnaryOp<"leaky_relu",
    "y = x < 0 ? alpha * x : x", (ins F32Attr:$alpha)>;
def Lathe_EluOp : Lathe_UnaryOp<"elu",
    "y = x < 0 ? alpha * (exp(x) - 1) : x", (ins F32Attr:$alpha)>;

class Lathe_SoftmaxBase<string mnemonic, string formula>
    : Lathe_SameTypeOp<mnemonic> {
  let summary = formula # " along one axis";
  let description = [{
    Normalises along the single dimension `axis` (ONNX opset-13 semantics;
    the importer rewrites the opset-1/11 "coerce to 2-D" semantics into a
    reshape around this op). `axis` may be negative.
  }];
  let arguments = (ins Lathe_FloatTensor:$input, I64Attr:$axis);
  let results = (outs Lathe_FloatTensor:$output);
  let hasVerifier = 1;
}

def Lathe_SoftmaxOp : Lathe_SoftmaxBase<"softmax", "exp(x) / sum(exp(x))">;
def Lathe_LogSoftmaxOp
    : Lathe_SoftmaxBase<"log_softmax", "x - log(sum(exp(x)))">;

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

#endif // LATHE_OPS_TD
