//===- LatheLossOps.td - lathe loss functions ----*- tablegen -*-===//
//
// Included from LatheOps.td, after the op base classes.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_LOSS_OPS_TD
#define LATHE_LOSS_OPS_TD

// Losses are added here.

#endif // LATHE_LOSS_OPS_TD
