// lathe-conformance: comparing an output tensor with ONNX's expected one.
#ifndef LATHE_TEST_CONFORMANCE_COMPARE_H
#define LATHE_TEST_CONFORMANCE_COMPARE_H

#include "lathe/Tensor.h"

#include <string>

namespace lathe::conformance {

/// Same dtype and shape, and equal values: floats within |a-e| <= atol +
/// rtol*|e| (rtol 1e-3, atol 1e-7; NaN matches NaN, inf the same inf),
/// integers and bools exactly. Otherwise false, with a one-line `why`.
bool compareTensors(const lathe::Tensor &actual, const lathe::Tensor &expected,
                    std::string &why);

/// `v` as "%.9g".
std::string formatDouble(double v);

} // namespace lathe::conformance

#endif // LATHE_TEST_CONFORMANCE_COMPARE_H
