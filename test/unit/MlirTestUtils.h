// Helpers shared by the gtest suites that look at MLIR objects.
#ifndef LATHE_TEST_UNIT_MLIRTESTUTILS_H
#define LATHE_TEST_UNIT_MLIRTESTUTILS_H

#include "mlir/IR/Types.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace lathe::test {

/// The printed form of a type, e.g. "tensor<2x4xf32>".
inline std::string typeString(mlir::Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  t.print(os);
  return os.str();
}

} // namespace lathe::test

#endif // LATHE_TEST_UNIT_MLIRTESTUTILS_H
