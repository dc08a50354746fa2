//===- LatheReductionOps.td - lathe reductions, arg-reductions, scans, top-k ----*- tablegen -*-===//
//
// Included from LatheOps.td, after the op base classes.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_REDUCTION_OPS_TD
#define LATHE_REDUCTION_OPS_TD

// Reductions are added here.

#endif // LATHE_REDUCTION_OPS_TD
