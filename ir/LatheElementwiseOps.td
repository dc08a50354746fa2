//===- LatheElementwiseOps.td - lathe elementwise ops and activations ----*- tablegen -*-===//
//
// Included from LatheOps.td, after the op base classes.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_ELEMENTWISE_OPS_TD
#define LATHE_ELEMENTWISE_OPS_TD

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

#endif // LATHE_ELEMENTWISE_OPS_TD
