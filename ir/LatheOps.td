//===- LatheOps.td - lathe dialect operations --------------*- tablegen -*-===//
//
// Base classes and the constant op; each operator family has its own file,
// included at the end. Each op infers its result type from its
// operands and attributes (InferTypeOpInterface); the inference functions in
// LatheOps.cpp are also the verifiers, so an op with inconsistent shapes can
// neither be built nor parsed.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_OPS_TD
#define LATHE_OPS_TD

include "ir/LatheDialect.td"
include "ir/LatheAutodiff.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// ONNX's element types: floats (f16, bf16, f32, f64), signed integers as
// MLIR signless integers (i8..i64), unsigned ones as MLIR unsigned integers
// (ui8..ui64, so that division, comparison and conversion know the
// signedness), bool as i1.
def Lathe_FloatTensor : RankedTensorOf<[AnyFloat]>;
def Lathe_IntegerTensor : RankedTensorOf<[AnySignlessInteger, AnyUnsignedInteger]>;
def Lathe_BoolTensor : RankedTensorOf<[I1]>;
// Indices (Gather, TopK, ArgMax, ...): int32 or int64.
def Lathe_IndexTensor : RankedTensorOf<[I32, I64]>;
def Lathe_NumericTensor
    : RankedTensorOf<[AnyFloat, AnySignlessInteger, AnyUnsignedInteger]>;
def Lathe_AnyTensor : RankedTensorOf<[AnyType]>;

// Ops computed element by element over their operands broadcast by numpy's
// rules: what fusion may put in one loop nest.
def Lathe_Elementwise : NativeOpTrait<"Elementwise"> {
  let cppNamespace = "::lathe::OpTrait";
}

class Lathe_InferOp<string mnemonic, list<Trait> traits = []>
    : Lathe_Op<mnemonic, !listconcat(traits,
        [Pure, InferTypeOpAdaptor])> {
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

// Result type equals the operand type; ODS generates the inference.
class Lathe_SameTypeOp<string mnemonic, list<Trait> traits = []>
    : Lathe_Op<mnemonic, !listconcat(traits,
        [Pure, SameOperandsAndResultType, InferTypeOpInterface])> {
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
// Operator families
//===----------------------------------------------------------------------===//

include "ir/LatheElementwiseOps.td"
include "ir/LatheReductionOps.td"
include "ir/LatheShapeOps.td"
include "ir/LatheNNOps.td"
include "ir/LatheLossOps.td"
include "ir/LatheRandomOps.td"
include "ir/LatheRecurrentOps.td"

#endif // LATHE_OPS_TD
