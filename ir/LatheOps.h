// Ops of the lathe dialect (defined in LatheOps.td).
#ifndef LATHE_IR_LATHEOPS_H
#define LATHE_IR_LATHEOPS_H

#include "ir/LatheDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "ir/LatheOps.h.inc"

#endif // LATHE_IR_LATHEOPS_H
