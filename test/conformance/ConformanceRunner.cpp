// lathe-conformance: the conformance runner as its own program (ctest runs
// it); `lathe conformance` is the same runner. See Conformance.cpp.
#include "Conformance.h"

int main(int argc, char **argv) {
  return lathe::conformance::conformanceMain(argc, argv, 1,
                                             "lathe-conformance");
}
