//===- LatheRandomOps.td - lathe random number generators ----*- tablegen -*-===//
//
// Included from LatheOps.td, after the op base classes.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RANDOM_OPS_TD
#define LATHE_RANDOM_OPS_TD

// Random generators are added here.

#endif // LATHE_RANDOM_OPS_TD
