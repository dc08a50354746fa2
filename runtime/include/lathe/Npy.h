// Reading and writing NumPy .npy and .npz files (uncompressed npz, as written
// by numpy.savez; compressed entries are refused with a clear error).
#ifndef LATHE_NPY_H
#define LATHE_NPY_H

#include "lathe/Tensor.h"

#include <string>
#include <utility>
#include <vector>

namespace lathe {

/// Parses a .npy file. Supports little-endian <f4 <f8 <f2 <i1 <i2 <i4 <i8 |u1
/// <u2 |b1 (one-byte types also spelled with '<'), C order only: Fortran-order
/// and big-endian arrays are refused. Errors are one line; readNpy's name the
/// file.
bool readNpy(const std::string &path, Tensor &out, std::string *error);
bool parseNpy(const std::vector<uint8_t> &bytes, Tensor &out,
              std::string *error);
/// Writes atomically (PATH.tmp.<pid>, then rename).
bool writeNpy(const std::string &path, const Tensor &t, std::string *error);
/// Empty if `t.data` does not match its shape and dtype.
std::vector<uint8_t> serializeNpy(const Tensor &t);

/// Named arrays of an .npz archive, in archive order ("x.npy" -> "x").
bool readNpz(const std::string &path,
             std::vector<std::pair<std::string, Tensor>> &out,
             std::string *error);
/// Writes an uncompressed (stored) zip, atomically.
bool writeNpz(const std::string &path,
              const std::vector<std::pair<std::string, Tensor>> &arrays,
              std::string *error);

} // namespace lathe

#endif // LATHE_NPY_H
