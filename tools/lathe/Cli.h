// Shared pieces of the lathe CLI's subcommands.
#ifndef LATHE_TOOLS_CLI_H
#define LATHE_TOOLS_CLI_H

#include "tools/lib/AtomicFile.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lathe::cli {

enum ExitCode { kOk = 0, kBadInput = 1, kBadUsage = 2 };

/// Prints "lathe: error: MESSAGE" to stderr (one line) and returns `code`.
int fail(int code, const std::string &message);

/// Parses "1x3x32x32" ("" or "scalar" is rank 0).
bool parseDims(const std::string &text, std::vector<int64_t> &dims);

/// Parses NAME=VALUE.
bool splitAssignment(const std::string &arg, std::string &name,
                     std::string &value);

/// Parses --shape NAME=DIMS into `shapes`; returns false after printing a
/// usage error.
bool addShape(const std::string &arg,
              std::map<std::string, std::vector<int64_t>> &shapes);

/// Parses a non-negative decimal integer (no sign, no trailing text, no
/// overflow).
bool parseCount(const std::string &text, int64_t &out);

/// Parses --threads N (0 = every core, at most 4096); returns false after
/// printing a usage error naming `command`.
bool parseThreads(const char *command, const std::string &text, int &out);

int runCommand(int argc, char **argv);
int compileCommand(int argc, char **argv);
int inspectCommand(int argc, char **argv);
int graphCommand(int argc, char **argv);
int trainCommand(int argc, char **argv);
int benchCommand(int argc, char **argv);

} // namespace lathe::cli

#endif // LATHE_TOOLS_CLI_H
