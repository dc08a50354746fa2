// Writing output files atomically (tools/lib/AtomicFile.cpp), for the CLI
// and the training driver alike.
#ifndef LATHE_TOOLS_ATOMICFILE_H
#define LATHE_TOOLS_ATOMICFILE_H

#include <string>

namespace lathe {

/// Writes `contents` to `path` through a temporary file renamed over it, so
/// that a crash or a full disk never leaves half a file (a device such as
/// /dev/null is written in place). On failure `error` names the path.
bool writeFileAtomic(const std::string &path, const std::string &contents,
                     std::string &error);

} // namespace lathe

#endif // LATHE_TOOLS_ATOMICFILE_H
