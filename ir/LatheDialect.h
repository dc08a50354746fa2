// The lathe dialect. Include ir/LatheOps.h for the ops.
#ifndef LATHE_IR_LATHEDIALECT_H
#define LATHE_IR_LATHEDIALECT_H

#include "mlir/IR/Dialect.h"

#include "ir/LatheDialect.h.inc"

#endif // LATHE_IR_LATHEDIALECT_H
