//===- LatheAutodiff.td - reverse-mode autodiff interface --*- tablegen -*-===//
//
// The op interface through which each differentiable op gives its
// vector-Jacobian product. The `lathe-autodiff` pass (passes/Autodiff.cpp)
// walks a function backwards and asks each op on the path from the
// differentiated arguments to the output for the gradients of its operands;
// ops without the interface stop the pass with an error naming the op and the
// ONNX node. Implementations live in ir/Lathe<Family>VJP.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_AUTODIFF_TD
#define LATHE_AUTODIFF_TD

include "mlir/IR/OpBase.td"

def DifferentiableOpInterface : OpInterface<"DifferentiableOpInterface"> {
  let cppNamespace = "::lathe";
  let description = [{
    An op whose vector-Jacobian product can be written with lathe ops. Given
    the gradient of a scalar with respect to each result, `buildVJP` builds
    the gradients with respect to the operands at the builder's insertion
    point, so the backward graph is an ordinary lathe graph (folded, fused,
    memory-planned and compiled like the forward one).
  }];
  let methods = [
    InterfaceMethod<[{
        Builds the operand gradients. `resultGrads` has one entry per
        result, each of the result's type, or a null Value when no gradient
        flows into that result (treat it as zero). `operandGrads` is cleared
        and gets one entry per operand: a Value of the operand's type, or
        null when the operand is not differentiable (indices, shapes,
        integer or bool tensors) or its gradient is zero by construction.
        Fails (after emitting an error at the op) only for a configuration
        the implementation does not handle.
      }],
      "::mlir::LogicalResult", "buildVJP",
      (ins "::mlir::OpBuilder &":$builder,
           "::llvm::ArrayRef<::mlir::Value>":$resultGrads,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)>
  ];
}

// Attaches the interface; the op then defines `buildVJP` in C++.
defvar Lathe_VJP = DeclareOpInterfaceMethods<DifferentiableOpInterface>;

#endif // LATHE_AUTODIFF_TD
