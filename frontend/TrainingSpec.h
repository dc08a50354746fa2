// Reading and checking training specs (frontend/TrainingSpec.proto, protobuf
// text format). Everything that can be checked without the model or the data
// is checked here, so a typo fails before anything is loaded; checks against
// the model and the arrays live with them (frontend/TrainingModel.h,
// tools/lib/TrainingData.h) and use the same error format:
//
//   SPEC: FIELD: MESSAGE        e.g.  spec.pbtxt: optimizer.lr: must be > 0
//   SPEC:LINE:COLUMN: MESSAGE   for text-format syntax errors (protobuf's
//                               message, which names the field)
#ifndef LATHE_FRONTEND_TRAININGSPEC_H
#define LATHE_FRONTEND_TRAININGSPEC_H

#include "frontend/TrainingSpec.pb.h"

#include <string>

namespace lathe {

/// Reads `path`, parses and checks it, and resolves every path in it
/// (model.path, data.train, data.validation, checkpoint.dir, output_model)
/// against the spec's directory. Fills in output_model's default. On failure
/// returns false and sets `error` to one line naming the file and the field.
bool loadTrainingSpec(const std::string &path, train::TrainingSpec &spec,
                      std::string &error);

/// As loadTrainingSpec on `text`; `specPath` names the spec in errors and its
/// directory resolves relative paths.
bool parseTrainingSpec(const std::string &text, const std::string &specPath,
                       train::TrainingSpec &spec, std::string &error);

/// Shell-style glob match of a whole name: `*` any run, `?` one character,
/// `[abc]`, `[a-z]`, `[!a]` a class. No special meaning for `/` or `.`.
bool globMatch(const std::string &pattern, const std::string &name);

/// True when `pattern` has glob characters (otherwise it names one thing).
bool isGlob(const std::string &pattern);

/// The directory part of `path` ("." when it has none).
std::string directoryOf(const std::string &path);

/// `path` unchanged when absolute, else `dir/path`.
std::string resolveAgainst(const std::string &dir, const std::string &path);

/// Names of the enum values as written in specs.
const char *metricName(train::Schedule::Metric metric);

} // namespace lathe

#endif // LATHE_FRONTEND_TRAININGSPEC_H
