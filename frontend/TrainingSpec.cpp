// Parsing and checking of training specs: see TrainingSpec.h and the field
// reference in TrainingSpec.proto.
#include "frontend/TrainingSpec.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <tuple>

namespace lathe {

using namespace lathe::train;

bool globMatch(const std::string &pattern, const std::string &name) {
  // Iterative matcher with one backtrack point for the last `*`: linear in
  // practice and without recursion on hostile patterns.
  size_t p = 0, n = 0, starP = std::string::npos, starN = 0;
  auto matchClass = [&](size_t &pp, char c) {
    // pp is at '['; on return it is past the closing ']'. An unterminated
    // class matches a literal '['.
    size_t end = pp + 1;
    if (end < pattern.size() && (pattern[end] == '!' || pattern[end] == '^'))
      ++end;
    if (end < pattern.size() && pattern[end] == ']')
      ++end;
    end = pattern.find(']', end);
    if (end == std::string::npos) {
      ++pp;
      return c == '[';
    }
    size_t i = pp + 1;
    bool negate = pattern[i] == '!' || pattern[i] == '^';
    if (negate)
      ++i;
    bool hit = false;
    for (size_t first = i; i < end; ++i) {
      if (i + 2 < end && pattern[i + 1] == '-') {
        hit |= pattern[i] <= c && c <= pattern[i + 2];
        i += 2;
      } else {
        hit |= pattern[i] == c || (i == first && pattern[i] == ']' && c == ']');
      }
    }
    pp = end + 1;
    return hit != negate;
  };
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      starP = p++;
      starN = n;
      continue;
    }
    if (p < pattern.size()) {
      size_t next = p;
      bool ok;
      if (pattern[p] == '[') {
        ok = matchClass(next, name[n]);
      } else {
        ok = pattern[p] == '?' || pattern[p] == name[n];
        ++next;
      }
      if (ok) {
        p = next;
        ++n;
        continue;
      }
    }
    if (starP == std::string::npos)
      return false;
    p = starP + 1;
    n = ++starN;
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

bool isGlob(const std::string &pattern) {
  return pattern.find_first_of("*?[") != std::string::npos;
}

std::string directoryOf(const std::string &path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string resolveAgainst(const std::string &dir, const std::string &path) {
  if (path.empty() || path[0] == '/' || dir.empty() || dir == ".")
    return path;
  return dir + "/" + path;
}

const char *metricName(Schedule::Metric metric) {
  switch (metric) {
  case Schedule::validation_loss:
    return "validation_loss";
  case Schedule::validation_accuracy:
    return "validation_accuracy";
  case Schedule::train_loss:
    return "train_loss";
  case Schedule::train_accuracy:
    return "train_accuracy";
  }
  return "?";
}

namespace {

/// Keeps the first error of the text-format parser (line and column are
/// 0-based there).
class FirstError : public google::protobuf::io::ErrorCollector {
public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string &message) override {
    if (message_.empty())
      message_ = std::to_string(line + 1) + ":" + std::to_string(column + 1) +
                 ": " + message;
  }
  const std::string &message() const { return message_; }

private:
  std::string message_;
};

/// Collects the first violated rule as "FIELD: MESSAGE".
class Checker {
public:
  bool ok() const { return error_.empty(); }
  const std::string &error() const { return error_; }

  void fail(const std::string &field, const std::string &message) {
    if (error_.empty())
      error_ = field + ": " + message;
  }
  void require(bool present, const std::string &field) {
    if (!present)
      fail(field, "required");
  }
  void finite(double v, const std::string &field) {
    if (!std::isfinite(v))
      fail(field, "must be a finite number");
  }
  void positive(bool has, double v, const std::string &field) {
    if (!has)
      return;
    finite(v, field);
    if (!(v > 0))
      fail(field, "must be > 0");
  }
  void nonNegative(bool has, double v, const std::string &field) {
    if (!has)
      return;
    finite(v, field);
    if (!(v >= 0))
      fail(field, "must be >= 0");
  }
  /// [0, 1) for decay rates, (0, 1) or (0, 1] where noted.
  void unitInterval(bool has, double v, const std::string &field, bool openLow,
                    bool closedHigh) {
    if (!has)
      return;
    bool low = openLow ? v > 0 : v >= 0;
    bool high = closedHigh ? v <= 1 : v < 1;
    if (!(low && high))
      fail(field, std::string("must be in ") + (openLow ? "(0" : "[0") + ", 1" +
                      (closedHigh ? "]" : ")"));
  }
  /// A field that the chosen kind ignores: almost always a mistake.
  void unused(bool has, const std::string &field, const std::string &kind) {
    if (has)
      fail(field, "not used by " + kind);
  }
  void nonEmptyNames(const google::protobuf::RepeatedPtrField<std::string> &v,
                     const std::string &field) {
    for (int i = 0; i < v.size(); ++i)
      if (v.Get(i).empty())
        fail(field, "empty name");
  }

private:
  std::string error_;
};

void checkModel(const TrainingSpec &spec, Checker &c) {
  c.require(spec.has_model(), "model");
  const Model &m = spec.model();
  c.require(m.has_path() && !m.path().empty(), "model.path");
  if (m.has_output() && m.output().empty())
    c.fail("model.output", "empty name");
  if (m.has_input() && m.input().empty())
    c.fail("model.input", "empty name");
  c.nonEmptyNames(m.trainable(), "model.trainable");
  c.nonEmptyNames(m.frozen(), "model.frozen");
}

void checkLoss(const TrainingSpec &spec, Checker &c) {
  c.require(spec.has_loss(), "loss");
  const Loss &l = spec.loss();
  c.require(l.has_kind(), "loss.kind");
  if (l.kind() == Loss::huber)
    c.positive(l.has_delta(), l.delta(), "loss.delta");
  else
    c.unused(l.has_delta(), "loss.delta",
             "loss.kind " + Loss::Kind_Name(l.kind()));
  if (!l.has_regularization())
    return;
  const Regularization &r = l.regularization();
  c.require(r.has_kind(), "loss.regularization.kind");
  bool wantsL1 = r.kind() != Regularization::l2;
  bool wantsL2 = r.kind() != Regularization::l1;
  std::string kind =
      "regularization kind " + Regularization::Kind_Name(r.kind());
  if (wantsL1) {
    c.require(r.has_l1_coefficient(), "loss.regularization.l1_coefficient");
    c.positive(r.has_l1_coefficient(), r.l1_coefficient(),
               "loss.regularization.l1_coefficient");
  } else {
    c.unused(r.has_l1_coefficient(), "loss.regularization.l1_coefficient",
             kind);
  }
  if (wantsL2) {
    c.require(r.has_l2_coefficient(), "loss.regularization.l2_coefficient");
    c.positive(r.has_l2_coefficient(), r.l2_coefficient(),
               "loss.regularization.l2_coefficient");
  } else {
    c.unused(r.has_l2_coefficient(), "loss.regularization.l2_coefficient",
             kind);
  }
  c.nonEmptyNames(r.parameters(), "loss.regularization.parameters");
}

void checkOptimizer(const TrainingSpec &spec, Checker &c) {
  c.require(spec.has_optimizer(), "optimizer");
  const Optimizer &o = spec.optimizer();
  c.require(o.has_kind(), "optimizer.kind");
  c.require(o.has_lr(), "optimizer.lr");
  c.positive(o.has_lr(), o.lr(), "optimizer.lr");
  OptimizerKind::Kind k = o.kind();
  std::string kind = "optimizer.kind " + OptimizerKind::Kind_Name(k);
  bool usesMomentum =
      k == OptimizerKind::momentum || k == OptimizerKind::nesterov;
  bool usesEps = k == OptimizerKind::adagrad || k == OptimizerKind::rmsprop ||
                 k == OptimizerKind::adam;
  if (usesMomentum)
    c.unitInterval(o.has_momentum(), o.momentum(), "optimizer.momentum", false,
                   false);
  else
    c.unused(o.has_momentum(), "optimizer.momentum", kind);
  if (k == OptimizerKind::adam) {
    c.unitInterval(o.has_beta1(), o.beta1(), "optimizer.beta1", false, false);
    c.unitInterval(o.has_beta2(), o.beta2(), "optimizer.beta2", false, false);
  } else {
    c.unused(o.has_beta1(), "optimizer.beta1", kind);
    c.unused(o.has_beta2(), "optimizer.beta2", kind);
  }
  if (usesEps)
    c.positive(o.has_eps(), o.eps(), "optimizer.eps");
  else
    c.unused(o.has_eps(), "optimizer.eps", kind);
  if (k == OptimizerKind::rmsprop)
    c.unitInterval(o.has_rho(), o.rho(), "optimizer.rho", false, false);
  else
    c.unused(o.has_rho(), "optimizer.rho", kind);
  c.nonNegative(o.has_weight_decay(), o.weight_decay(),
                "optimizer.weight_decay");
  c.positive(o.has_clip_value(), o.clip_value(), "optimizer.clip_value");
  c.positive(o.has_clip_global_norm(), o.clip_global_norm(),
             "optimizer.clip_global_norm");
}

bool hasValidation(const TrainingSpec &spec) {
  return spec.data().has_validation() || spec.data().has_validation_fraction();
}

void checkMetric(const TrainingSpec &spec, Schedule::Metric metric,
                 const std::string &field, Checker &c) {
  bool validation = metric == Schedule::validation_loss ||
                    metric == Schedule::validation_accuracy;
  if (validation && !hasValidation(spec))
    c.fail(field, std::string(metricName(metric)) +
                      " needs validation data (data.validation or "
                      "data.validation_fraction)");
  Loss::Kind loss = spec.loss().kind();
  bool accuracy = metric == Schedule::validation_accuracy ||
                  metric == Schedule::train_accuracy;
  if (accuracy &&
      (loss == Loss::mse || loss == Loss::l1 || loss == Loss::huber))
    c.fail(field, std::string(metricName(metric)) +
                      " needs a classification "
                      "loss (loss.kind " +
                      Loss::Kind_Name(loss) + " has no accuracy)");
}

void checkSchedule(const TrainingSpec &spec, Checker &c) {
  if (!spec.has_schedule())
    return;
  const Schedule &s = spec.schedule();
  Schedule::Kind k = s.kind();
  std::string kind = "schedule.kind " + Schedule::Kind_Name(k);
  if (k == Schedule::step) {
    c.require(s.has_step_size(), "schedule.step_size");
    if (s.has_step_size() && s.step_size() <= 0)
      c.fail("schedule.step_size", "must be > 0");
  } else {
    c.unused(s.has_step_size(), "schedule.step_size", kind);
  }
  if (k == Schedule::step || k == Schedule::exponential) {
    c.require(s.has_gamma(), "schedule.gamma");
    c.unitInterval(s.has_gamma(), s.gamma(), "schedule.gamma", true, true);
  } else {
    c.unused(s.has_gamma(), "schedule.gamma", kind);
  }
  if (k == Schedule::inverse_time) {
    c.require(s.has_decay(), "schedule.decay");
    c.nonNegative(s.has_decay(), s.decay(), "schedule.decay");
  } else {
    c.unused(s.has_decay(), "schedule.decay", kind);
  }
  if (k == Schedule::constant || k == Schedule::reduce_on_plateau)
    c.unused(s.has_per_step(), "schedule.per_step", kind);
  if (k == Schedule::reduce_on_plateau) {
    c.unitInterval(s.has_factor(), s.factor(), "schedule.factor", true, false);
    if (s.patience() < 0)
      c.fail("schedule.patience", "must be >= 0");
    c.nonNegative(s.has_min_lr(), s.min_lr(), "schedule.min_lr");
    c.nonNegative(s.has_min_delta(), s.min_delta(), "schedule.min_delta");
    checkMetric(spec, s.metric(), "schedule.metric", c);
  } else {
    c.unused(s.has_factor(), "schedule.factor", kind);
    c.unused(s.has_patience(), "schedule.patience", kind);
    c.unused(s.has_min_lr(), "schedule.min_lr", kind);
    c.unused(s.has_metric(), "schedule.metric", kind);
    c.unused(s.has_min_delta(), "schedule.min_delta", kind);
  }
}

void checkData(const TrainingSpec &spec, Checker &c) {
  c.require(spec.has_data(), "data");
  const Data &d = spec.data();
  c.require(d.has_train() && !d.train().empty(), "data.train");
  if (d.has_validation() && d.has_validation_fraction())
    c.fail("data.validation_fraction",
           "give either data.validation or data.validation_fraction");
  if (d.has_validation() && d.validation().empty())
    c.fail("data.validation", "empty path");
  c.unitInterval(d.has_validation_fraction(), d.validation_fraction(),
                 "data.validation_fraction", true, false);
  if (d.input_array().empty())
    c.fail("data.input_array", "empty name");
  if (d.label_array().empty())
    c.fail("data.label_array", "empty name");
  if (d.input_array() == d.label_array())
    c.fail("data.label_array", "same array as data.input_array");
  for (const auto &[has, name, field] :
       {std::make_tuple(d.has_validation_input_array(),
                        d.validation_input_array(),
                        "data.validation_input_array"),
        std::make_tuple(d.has_validation_label_array(),
                        d.validation_label_array(),
                        "data.validation_label_array")}) {
    if (has && !d.has_validation())
      c.fail(field, "used only with data.validation");
    if (has && name.empty())
      c.fail(field, "empty name");
  }
}

void checkRun(const TrainingSpec &spec, Checker &c) {
  c.require(spec.has_batch_size(), "batch_size");
  if (spec.has_batch_size() && spec.batch_size() <= 0)
    c.fail("batch_size", "must be > 0");
  c.require(spec.has_epochs(), "epochs");
  if (spec.has_epochs() && spec.epochs() <= 0)
    c.fail("epochs", "must be > 0");
  if (spec.has_checkpoint()) {
    const Checkpoint &k = spec.checkpoint();
    c.require(k.has_dir() && !k.dir().empty(), "checkpoint.dir");
    if (k.every_epochs() <= 0)
      c.fail("checkpoint.every_epochs", "must be > 0");
    if (k.keep_last() < 0)
      c.fail("checkpoint.keep_last", "must be >= 0");
  }
  if (spec.has_early_stopping()) {
    const EarlyStopping &e = spec.early_stopping();
    if (e.patience() <= 0)
      c.fail("early_stopping.patience", "must be > 0");
    c.nonNegative(e.has_min_delta(), e.min_delta(), "early_stopping.min_delta");
    checkMetric(spec, e.metric(), "early_stopping.metric", c);
  }
  for (int i = 0; i < spec.init_size(); ++i) {
    const Init &init = spec.init(i);
    std::string field = "init[" + std::to_string(i) + "]";
    if (init.parameters_size() == 0)
      c.fail(field + ".parameters", "required");
    c.nonEmptyNames(init.parameters(), field + ".parameters");
    c.require(init.has_kind(), field + ".kind");
    if (init.kind() == Init::normal)
      c.positive(init.has_stddev(), init.stddev(), field + ".stddev");
    else
      c.unused(init.has_stddev(), field + ".stddev",
               "init kind " + Init::Kind_Name(init.kind()));
  }
  if (spec.has_output_model() && spec.output_model().empty())
    c.fail("output_model", "empty path");
}

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

} // namespace

bool parseTrainingSpec(const std::string &text, const std::string &specPath,
                       TrainingSpec &spec, std::string &error) {
  spec.Clear();
  google::protobuf::TextFormat::Parser parser;
  FirstError errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, &spec)) {
    error = specPath + ":" +
            (errors.message().empty() ? std::string(" cannot parse")
                                      : errors.message());
    return false;
  }
  Checker c;
  checkModel(spec, c);
  checkLoss(spec, c);
  checkOptimizer(spec, c);
  checkSchedule(spec, c);
  checkData(spec, c);
  checkRun(spec, c);
  if (!c.ok()) {
    error = specPath + ": " + c.error();
    return false;
  }

  std::string dir = directoryOf(specPath);
  Model &m = *spec.mutable_model();
  m.set_path(resolveAgainst(dir, m.path()));
  Data &d = *spec.mutable_data();
  d.set_train(resolveAgainst(dir, d.train()));
  if (d.has_validation())
    d.set_validation(resolveAgainst(dir, d.validation()));
  if (spec.has_checkpoint())
    spec.mutable_checkpoint()->set_dir(
        resolveAgainst(dir, spec.checkpoint().dir()));
  if (spec.has_output_model()) {
    spec.set_output_model(resolveAgainst(dir, spec.output_model()));
  } else {
    std::string stem = m.path();
    for (const char *ext : {".onnx", ".onnxtxt"})
      if (endsWith(stem, ext)) {
        stem.resize(stem.size() - std::string(ext).size());
        break;
      }
    spec.set_output_model(stem + ".trained.onnx");
  }
  return true;
}

bool loadTrainingSpec(const std::string &path, TrainingSpec &spec,
                      std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open file";
    return false;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parseTrainingSpec(buffer.str(), path, spec, error);
}

} // namespace lathe
