// Writing an output file so that a reader never sees half of it.
#include "tools/lib/AtomicFile.h"

#include <cstdio>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace lathe {

bool writeFileAtomic(const std::string &path, const std::string &contents,
                     std::string &error) {
  // A device or pipe (-o /dev/null, -o /dev/stdout) is written in place:
  // renaming a temporary file over it would replace the device itself.
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    std::ofstream out(path, std::ios::binary);
    out.write(contents.data(), contents.size());
    out.close();
    if (!out) {
      error = path + ": write failed";
      return false;
    }
    return true;
  }
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) {
      error = path + ": cannot write file";
      return false;
    }
    out.write(contents.data(), contents.size());
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      error = path + ": write failed";
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    error = path + ": cannot rename the temporary file into place";
    return false;
  }
  return true;
}

} // namespace lathe
