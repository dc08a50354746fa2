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

class Lathe_BinaryOp<string mnemonic, string onnxName, string rule = "",
                     dag attrs = (ins), list<Trait> traits = []>
    : Lathe_InferOp<mnemonic, !listconcat(traits,
        [SameOperandsElementType, Lathe_Elementwise])> {
  let summary = "elementwise " # onnxName # " with numpy broadcasting";
  let description = !strconcat([{
    Computes the operation elementwise over the operands broadcast against
    each other by numpy's rules (dimensions aligned from the right; a
    dimension of size 1 stretches). Unsigned operands use unsigned
    arithmetic.
  }], rule);
  let arguments = !con((ins Lathe_NumericTensor:$lhs, Lathe_NumericTensor:$rhs),
                       attrs);
  let results = (outs Lathe_NumericTensor:$output);
}

// Folders drop a neutral constant operand (x+0, 0+x, x-0, x*1, 1*x, x/1)
// when the result has x's type, so broadcasting cannot grow the shape.
// Either sign of zero counts as neutral: x + 0.0 gives +0.0 for x = -0.0,
// which ONNX runtimes ignore as well. x*0 is not folded (NaN and inf).
let hasFolder = 1 in {
def Lathe_AddOp : Lathe_BinaryOp<"add", "Add", "", (ins), [Lathe_VJP]>;
def Lathe_SubOp : Lathe_BinaryOp<"sub", "Sub", "", (ins), [Lathe_VJP]>;
def Lathe_MulOp : Lathe_BinaryOp<"mul", "Mul", "", (ins), [Lathe_VJP]>;
def Lathe_DivOp : Lathe_BinaryOp<"div", "Div",
    " Integer division truncates toward zero; a zero divisor gives 0 (no trap).",
    (ins), [Lathe_VJP]>;
}
def Lathe_MaxOp : Lathe_BinaryOp<"max", "Max",
    " Floats: a NaN operand gives NaN. ONNX's variadic Max is a chain.",
    (ins), [Lathe_VJP]>;
def Lathe_MinOp : Lathe_BinaryOp<"min", "Min",
    " Floats: a NaN operand gives NaN. ONNX's variadic Min is a chain.",
    (ins), [Lathe_VJP]>;
def Lathe_ModOp : Lathe_BinaryOp<"mod", "Mod", [{
    With `fmod` the remainder has the sign of the dividend (C's fmod,
    truncated division); without it (integers only) it has the sign of the
    divisor (Python's %, floored division). A zero divisor gives 0.
  }], (ins BoolAttr:$fmod), [Lathe_VJP]>;

def Lathe_PowOp : Lathe_InferOp<"pow", [Lathe_Elementwise, Lathe_VJP]> {
  let summary = "elementwise power with numpy broadcasting";
  let description = [{
    `base ^ exponent`; the two element types may differ (ONNX Pow-12+). The
    result has the base's element type. Float bases with float exponents use
    powf; integer exponents of integer bases are exact (repeated squaring);
    mixed pairs are computed in f64 and converted back (integers truncate).
  }];
  let arguments = (ins Lathe_NumericTensor:$lhs, Lathe_NumericTensor:$rhs);
  let results = (outs Lathe_NumericTensor:$output);
  // x ** 1 is x (exact, NaN included) when the shape does not grow.
  let hasFolder = 1;
}

def Lathe_BitShiftOp : Lathe_InferOp<"bit_shift", [SameOperandsElementType, Lathe_Elementwise]> {
  let summary = "elementwise bit shift of unsigned integers";
  let description = [{
    `direction` is "LEFT" or "RIGHT" (logical shift). Shifting by the bit
    width or more gives 0, as numpy does.
  }];
  let arguments = (ins Lathe_IntegerTensor:$lhs, Lathe_IntegerTensor:$rhs,
                       StrAttr:$direction);
  let results = (outs Lathe_IntegerTensor:$output);
}

//===----------------------------------------------------------------------===//
// Comparisons and logic (bool results)
//===----------------------------------------------------------------------===//

class Lathe_CompareOp<string mnemonic, string onnxName>
    : Lathe_InferOp<mnemonic, [SameOperandsElementType, Lathe_Elementwise]> {
  let summary = "elementwise " # onnxName # " with numpy broadcasting";
  let description = [{
    Compares the operands broadcast by numpy's rules and gives a bool (i1)
    tensor. Float comparisons are ordered (false when either is NaN);
    unsigned operands compare unsigned.
  }];
  let arguments = (ins Lathe_NumericTensor:$lhs, Lathe_NumericTensor:$rhs);
  let results = (outs Lathe_BoolTensor:$output);
}

def Lathe_EqualOp : Lathe_CompareOp<"equal", "Equal">;
def Lathe_LessOp : Lathe_CompareOp<"less", "Less">;
def Lathe_LessOrEqualOp : Lathe_CompareOp<"less_or_equal", "LessOrEqual">;
def Lathe_GreaterOp : Lathe_CompareOp<"greater", "Greater">;
def Lathe_GreaterOrEqualOp
    : Lathe_CompareOp<"greater_or_equal", "GreaterOrEqual">;

class Lathe_LogicOp<string mnemonic, string onnxName>
    : Lathe_InferOp<mnemonic, [Lathe_Elementwise]> {
  let summary = "elementwise logical " # onnxName # " with numpy broadcasting";
  let description = "Bool operands broadcast by numpy's rules.";
  let arguments = (ins Lathe_BoolTensor:$lhs, Lathe_BoolTensor:$rhs);
  let results = (outs Lathe_BoolTensor:$output);
}

def Lathe_AndOp : Lathe_LogicOp<"and", "And">;
def Lathe_OrOp : Lathe_LogicOp<"or", "Or">;
def Lathe_XorOp : Lathe_LogicOp<"xor", "Xor">;

def Lathe_NotOp : Lathe_SameTypeOp<"not", [Lathe_Elementwise]> {
  let summary = "elementwise logical not";
  let description = "Negates each element of a bool tensor.";
  let arguments = (ins Lathe_BoolTensor:$input);
  let results = (outs Lathe_BoolTensor:$output);
}

def Lathe_WhereOp : Lathe_InferOp<"where", [Lathe_Elementwise, Lathe_VJP]> {
  let summary = "elementwise select with numpy broadcasting";
  let description = [{
    `condition ? x : y`, the three operands broadcast against each other;
    `x` and `y` have the same element type, which the result takes.
  }];
  let arguments = (ins Lathe_BoolTensor:$condition, Lathe_AnyTensor:$x,
                       Lathe_AnyTensor:$y);
  let results = (outs Lathe_AnyTensor:$output);
}

def Lathe_IsNaNOp : Lathe_InferOp<"is_nan", [Lathe_Elementwise]> {
  let summary = "elementwise test for NaN";
  let description = "A bool tensor, true where the input is NaN.";
  let arguments = (ins Lathe_FloatTensor:$input);
  let results = (outs Lathe_BoolTensor:$output);
}

def Lathe_IsInfOp : Lathe_InferOp<"is_inf", [Lathe_Elementwise]> {
  let summary = "elementwise test for infinity";
  let description = [{
    True where the input is +inf (when `detect_positive`) or -inf (when
    `detect_negative`).
  }];
  let arguments = (ins Lathe_FloatTensor:$input, BoolAttr:$detect_positive,
                       BoolAttr:$detect_negative);
  let results = (outs Lathe_BoolTensor:$output);
}

//===----------------------------------------------------------------------===//
// Type conversion
//===----------------------------------------------------------------------===//

def Lathe_CastOp : Lathe_InferOp<"cast", [Lathe_Elementwise, Lathe_VJP]> {
  let summary = "elementwise conversion to another element type";
  let description = [{
    Converts each element to `to` (ONNX Cast and CastLike). Floats to
    integers truncate toward zero; anything to bool is `x != 0` (NaN is
    true); bool to a number is 0 or 1; integers widen by their own
    signedness. Conversions to bfloat16 drop the low 16 bits of the f32
    value (truncation, as ONNX 1.12's reference and test data).
  }];
  let arguments = (ins Lathe_NumericTensor:$input, TypeAttr:$to);
  let results = (outs Lathe_NumericTensor:$output);
  // A cast to the input's own type is the identity.
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Unary math
//===----------------------------------------------------------------------===//

class Lathe_UnaryOp<string mnemonic, string formula,
                    dag attrs = (ins), list<Trait> traits = []>
    : Lathe_SameTypeOp<mnemonic, !listconcat(traits, [Lathe_Elementwise])> {
  let summary = "elementwise " # formula;
  let description = "Computes `" # formula # "` for each element.";
  let arguments = !con((ins Lathe_FloatTensor:$input), attrs);
  let results = (outs Lathe_FloatTensor:$output);
}

// Integer and float operands alike (unsigned: abs is the identity).
class Lathe_NumericUnaryOp<string mnemonic, string formula,
                           list<Trait> traits = []>
    : Lathe_SameTypeOp<mnemonic, !listconcat(traits, [Lathe_Elementwise])> {
  let summary = "elementwise " # formula;
  let description = "Computes `" # formula # "` for each element.";
  let arguments = (ins Lathe_NumericTensor:$input);
  let results = (outs Lathe_NumericTensor:$output);
}

def Lathe_AbsOp : Lathe_NumericUnaryOp<"abs", "y = |x|", [Lathe_VJP]>;
def Lathe_NegOp : Lathe_NumericUnaryOp<"neg", "y = -x", [Lathe_VJP]>;
def Lathe_SignOp : Lathe_NumericUnaryOp<"sign",
    "y = x > 0 ? 1 : x < 0 ? -1 : x (NaN stays NaN)", [Lathe_VJP]>;

def Lathe_ExpOp : Lathe_UnaryOp<"exp", "y = e^x", (ins), [Lathe_VJP]>;
def Lathe_LogOp : Lathe_UnaryOp<"log", "y = ln(x)", (ins), [Lathe_VJP]>;
def Lathe_SqrtOp : Lathe_UnaryOp<"sqrt", "y = sqrt(x)", (ins), [Lathe_VJP]>;
def Lathe_ReciprocalOp : Lathe_UnaryOp<"reciprocal", "y = 1 / x", (ins), [Lathe_VJP]>;
def Lathe_FloorOp : Lathe_UnaryOp<"floor", "y = floor(x)", (ins), [Lathe_VJP]>;
def Lathe_CeilOp : Lathe_UnaryOp<"ceil", "y = ceil(x)", (ins), [Lathe_VJP]>;
def Lathe_RoundOp : Lathe_UnaryOp<"round",
    "y = x rounded to the nearest integer, halves to even", (ins), [Lathe_VJP]>;
def Lathe_ErfOp : Lathe_UnaryOp<"erf", "y = erf(x)", (ins), [Lathe_VJP]>;
def Lathe_SinOp : Lathe_UnaryOp<"sin", "y = sin(x)", (ins), [Lathe_VJP]>;
def Lathe_CosOp : Lathe_UnaryOp<"cos", "y = cos(x)", (ins), [Lathe_VJP]>;
def Lathe_TanOp : Lathe_UnaryOp<"tan", "y = tan(x)", (ins), [Lathe_VJP]>;
def Lathe_AsinOp : Lathe_UnaryOp<"asin", "y = asin(x)", (ins), [Lathe_VJP]>;
def Lathe_AcosOp : Lathe_UnaryOp<"acos", "y = acos(x)", (ins), [Lathe_VJP]>;
def Lathe_AtanOp : Lathe_UnaryOp<"atan", "y = atan(x)", (ins), [Lathe_VJP]>;
def Lathe_SinhOp : Lathe_UnaryOp<"sinh", "y = sinh(x)", (ins), [Lathe_VJP]>;
def Lathe_CoshOp : Lathe_UnaryOp<"cosh", "y = cosh(x)", (ins), [Lathe_VJP]>;
def Lathe_AsinhOp : Lathe_UnaryOp<"asinh", "y = asinh(x)", (ins), [Lathe_VJP]>;
def Lathe_AcoshOp : Lathe_UnaryOp<"acosh", "y = acosh(x)", (ins), [Lathe_VJP]>;
def Lathe_AtanhOp : Lathe_UnaryOp<"atanh", "y = atanh(x)", (ins), [Lathe_VJP]>;

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

// Relu-14 also takes signed integers.
def Lathe_ReluOp : Lathe_NumericUnaryOp<"relu", "y = max(x, 0)", [Lathe_VJP]>;
def Lathe_SigmoidOp : Lathe_UnaryOp<"sigmoid", "y = 1 / (1 + exp(-x))", (ins), [Lathe_VJP]>;
def Lathe_TanhOp : Lathe_UnaryOp<"tanh", "y = tanh(x)", (ins), [Lathe_VJP]>;
def Lathe_LeakyReluOp : Lathe_UnaryOp<"leaky_relu",
    "y = x < 0 ? alpha * x : x", (ins F32Attr:$alpha), [Lathe_VJP]>;
def Lathe_EluOp : Lathe_UnaryOp<"elu",
    "y = x < 0 ? alpha * (exp(x) - 1) : x", (ins F32Attr:$alpha), [Lathe_VJP]>;
def Lathe_SeluOp : Lathe_UnaryOp<"selu",
    "y = gamma * (x > 0 ? x : alpha * (exp(x) - 1))",
    (ins F32Attr:$alpha, F32Attr:$gamma), [Lathe_VJP]>;
def Lathe_CeluOp : Lathe_UnaryOp<"celu",
    "y = max(0, x) + min(0, alpha * (exp(x / alpha) - 1))",
    (ins F32Attr:$alpha), [Lathe_VJP]>;
def Lathe_HardSigmoidOp : Lathe_UnaryOp<"hard_sigmoid",
    "y = max(0, min(1, alpha * x + beta))",
    (ins F32Attr:$alpha, F32Attr:$beta), [Lathe_VJP]>;
def Lathe_HardSwishOp : Lathe_UnaryOp<"hard_swish",
    "y = x * max(0, min(1, x / 6 + 1 / 2))", (ins), [Lathe_VJP]>;
def Lathe_SoftplusOp : Lathe_UnaryOp<"softplus", "y = ln(exp(x) + 1)", (ins), [Lathe_VJP]>;
def Lathe_SoftsignOp : Lathe_UnaryOp<"softsign", "y = x / (1 + |x|)", (ins), [Lathe_VJP]>;
def Lathe_ThresholdedReluOp : Lathe_UnaryOp<"thresholded_relu",
    "y = x > alpha ? x : 0", (ins F32Attr:$alpha), [Lathe_VJP]>;

def Lathe_ShrinkOp : Lathe_SameTypeOp<"shrink", [Lathe_Elementwise, Lathe_VJP]> {
  let summary = "elementwise shrink";
  let description = [{
    `y = x < -lambd ? x + bias : x > lambd ? x - bias : 0`. Integer inputs
    are computed in f64 and truncated back, as ONNX's reference does.
  }];
  let arguments = (ins Lathe_NumericTensor:$input, F32Attr:$bias,
                       F32Attr:$lambd);
  let results = (outs Lathe_NumericTensor:$output);
}

def Lathe_PReluOp : Lathe_InferOp<"prelu",
    [SameOperandsElementType, Lathe_Elementwise, Lathe_VJP]> {
  let summary = "elementwise x < 0 ? slope * x : x";
  let description = [{
    `slope` broadcasts to the shape of `x` (unidirectional numpy
    broadcasting); the result has the shape of `x`.
  }];
  let arguments = (ins Lathe_NumericTensor:$input, Lathe_NumericTensor:$slope);
  let results = (outs Lathe_NumericTensor:$output);
}

def Lathe_HardmaxOp : Lathe_SameTypeOp<"hardmax"> {
  let summary = "one-hot of the first maximum along one axis";
  let description = [{
    1 at the first index of the maximum along `axis` (opset-13 semantics;
    the importer rewrites the older "coerce to 2-D" semantics into a reshape
    around this op), 0 elsewhere. `axis` may be negative.
  }];
  let arguments = (ins Lathe_FloatTensor:$input, I64Attr:$axis);
  let results = (outs Lathe_FloatTensor:$output);
  let hasVerifier = 1;
}

class Lathe_SoftmaxBase<string mnemonic, string formula>
    : Lathe_SameTypeOp<mnemonic, [Lathe_VJP]> {
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
