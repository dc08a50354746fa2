// Ops of the lathe dialect (defined in LatheOps.td).
#ifndef LATHE_IR_LATHEOPS_H
#define LATHE_IR_LATHEOPS_H

#include "ir/LatheAutodiff.h"
#include "ir/LatheDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace lathe::OpTrait {
/// Marks ops computed element by element over numpy-broadcast operands
/// (Lathe_Elementwise in LatheOps.td); fusion groups them.
template <typename ConcreteType>
class Elementwise
    : public mlir::OpTrait::TraitBase<ConcreteType, Elementwise> {};
} // namespace lathe::OpTrait

#define GET_OP_CLASSES
#include "ir/LatheOps.h.inc"

#endif // LATHE_IR_LATHEOPS_H
