// The conformance runner behind `lathe conformance` and `lathe-conformance`:
// runs ONNX's backend test cases through lathe::Session, classifies each as
// pass, fail (wrong numbers or a crash) or unsupported (lathe refuses the
// model, with the first reason), checks the result against an expectations
// file, and prints one summary line per case directory.
#ifndef LATHE_TEST_CONFORMANCE_CONFORMANCE_H
#define LATHE_TEST_CONFORMANCE_CONFORMANCE_H

namespace lathe::conformance {

/// Parses the command line (argv[0] excluded when `first` is 1) and runs.
/// `prog` names the command in messages ("lathe conformance"). Returns the
/// exit status: 0 when every case matched its expectation, 1 when not,
/// 2 for bad usage.
int conformanceMain(int argc, char **argv, int first, const char *prog);

} // namespace lathe::conformance

#endif // LATHE_TEST_CONFORMANCE_CONFORMANCE_H
