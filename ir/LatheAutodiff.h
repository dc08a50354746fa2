// DifferentiableOpInterface (ir/LatheAutodiff.td): how an op gives its
// vector-Jacobian product. Included by ir/LatheOps.h; helpers for writing
// VJPs are in ir/VJPUtils.h.
#ifndef LATHE_IR_LATHEAUTODIFF_H
#define LATHE_IR_LATHEAUTODIFF_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/SmallVector.h"

#include "ir/LatheAutodiff.h.inc"

#endif // LATHE_IR_LATHEAUTODIFF_H
