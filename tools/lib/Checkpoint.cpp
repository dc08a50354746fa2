// Training checkpoints: see Checkpoint.h.
#include "tools/lib/Checkpoint.h"

#include "lathe/Npy.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace lathe {

namespace {

constexpr const char *kManifestHeader = "lathe-checkpoint 1";

std::string fmtDouble(double v) {
  // %.17g round-trips every double; inf and nan print as such and strtod
  // reads them back.
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

std::string csvValue(double v, const char *format) {
  if (std::isnan(v))
    return "";
  char buf[40];
  std::snprintf(buf, sizeof(buf), format, v);
  return buf;
}

std::string checkpointName(int64_t epochs) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "epoch-%04" PRId64, epochs);
  return buf;
}

/// Epochs of a directory named epoch-NNNN, or -1.
int64_t epochOfName(const std::string &name) {
  if (name.rfind("epoch-", 0) != 0 || name.size() <= 6 ||
      name.find_first_not_of("0123456789", 6) != std::string::npos)
    return -1;
  return std::stoll(name.substr(6));
}

std::string manifest(const TrainerState &s) {
  std::ostringstream out;
  out << kManifestHeader << "\n"
      << "epochs_done " << s.epochsDone << "\n"
      << "steps_done " << s.stepsDone << "\n"
      << "plateau_lr " << fmtDouble(s.plateauLr) << "\n"
      << "plateau_best " << fmtDouble(s.plateauBest) << "\n"
      << "plateau_bad_epochs " << s.plateauBadEpochs << "\n"
      << "stop_best " << fmtDouble(s.stopBest) << "\n"
      << "stop_bad_epochs " << s.stopBadEpochs << "\n"
      << "stop_best_epoch " << s.stopBestEpoch << "\n"
      << "stopped " << (s.stopped ? 1 : 0) << "\n"
      << "seed " << s.seed << "\n"
      << "batch_size " << s.batchSize << "\n"
      << "train_samples " << s.trainSamples << "\n"
      << "validation_samples " << s.validationSamples << "\n";
  return out.str();
}

bool parseManifest(const std::string &path, const std::string &text,
                   TrainerState &s, std::string &error) {
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line) || line != kManifestHeader) {
    error =
        path + ": not a lathe checkpoint manifest (first line '" + line + "')";
    return false;
  }
  std::map<std::string, std::string> kv;
  while (std::getline(in, line)) {
    if (line.empty())
      continue;
    size_t space = line.find(' ');
    if (space == std::string::npos) {
      error = path + ": malformed line '" + line + "'";
      return false;
    }
    kv[line.substr(0, space)] = line.substr(space + 1);
  }
  bool ok = true;
  auto number = [&](const char *key, auto &out) {
    auto it = kv.find(key);
    if (it == kv.end()) {
      if (ok)
        error = path + ": missing '" + key + "'";
      ok = false;
      return;
    }
    const char *s = it->second.c_str();
    char *end = nullptr;
    using T = std::decay_t<decltype(out)>;
    if constexpr (std::is_same_v<T, double>)
      out = std::strtod(s, &end);
    else if constexpr (std::is_same_v<T, bool>)
      out = std::strtoll(s, &end, 10) != 0;
    else if constexpr (std::is_unsigned_v<T>)
      out = static_cast<T>(std::strtoull(s, &end, 10));
    else
      out = static_cast<T>(std::strtoll(s, &end, 10));
    if (end == s || *end) {
      if (ok)
        error = path + ": bad value '" + it->second + "' of '" + key + "'";
      ok = false;
    }
  };
  number("epochs_done", s.epochsDone);
  number("steps_done", s.stepsDone);
  number("plateau_lr", s.plateauLr);
  number("plateau_best", s.plateauBest);
  number("plateau_bad_epochs", s.plateauBadEpochs);
  number("stop_best", s.stopBest);
  number("stop_bad_epochs", s.stopBadEpochs);
  number("stop_best_epoch", s.stopBestEpoch);
  number("stopped", s.stopped);
  number("seed", s.seed);
  number("batch_size", s.batchSize);
  number("train_samples", s.trainSamples);
  number("validation_samples", s.validationSamples);
  return ok;
}

bool parseMetrics(const std::string &path, const std::string &text,
                  std::vector<EpochMetrics> &history, std::string &error) {
  std::istringstream in(text);
  std::string line;
  std::getline(in, line); // header
  while (std::getline(in, line)) {
    if (line.empty())
      continue;
    std::vector<double> cells;
    std::stringstream row(line);
    std::string cell;
    while (std::getline(row, cell, ','))
      cells.push_back(cell.empty() ? NAN : std::strtod(cell.c_str(), nullptr));
    if (line.back() == ',')
      cells.push_back(NAN); // getline drops a trailing empty cell
    if (cells.size() != 7) {
      error = path + ": malformed row '" + line + "'";
      return false;
    }
    EpochMetrics m;
    m.epoch = static_cast<int64_t>(cells[0]);
    m.lr = cells[1];
    m.trainLoss = cells[2];
    m.trainAccuracy = cells[3];
    m.validationLoss = cells[4];
    m.validationAccuracy = cells[5];
    m.seconds = cells[6];
    history.push_back(m);
  }
  return true;
}

bool readText(const std::string &path, std::string &text, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open file";
    return false;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  text = buffer.str();
  return true;
}

bool writeText(const std::string &path, const std::string &text,
               std::string &error) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) {
    error = path + ": write failed";
    return false;
  }
  return true;
}

} // namespace

std::string metricsCsv(const std::vector<EpochMetrics> &history) {
  std::string out = "epoch,lr,train_loss,train_accuracy,validation_loss,"
                    "validation_accuracy,seconds\n";
  for (const EpochMetrics &m : history)
    out += std::to_string(m.epoch) + "," + csvValue(m.lr, "%.9g") + "," +
           csvValue(m.trainLoss, "%.9g") + "," +
           csvValue(m.trainAccuracy, "%.9g") + "," +
           csvValue(m.validationLoss, "%.9g") + "," +
           csvValue(m.validationAccuracy, "%.9g") + "," +
           csvValue(m.seconds, "%.3f") + "\n";
  return out;
}

bool writeCheckpoint(const std::string &root, const CheckpointData &data,
                     int64_t keepLast, std::string &written,
                     std::string &error) {
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec || !fs::is_directory(root)) {
    error = root + ": cannot create the checkpoint directory";
    return false;
  }
  std::string name = checkpointName(data.state.epochsDone);
  std::string finalPath = root + "/" + name;
  std::string tmp = root + "/." + name + ".tmp." +
                    std::to_string(static_cast<long>(getpid()));
  fs::remove_all(tmp, ec);
  if (!fs::create_directory(tmp, ec)) {
    error = tmp + ": cannot create directory";
    return false;
  }
  std::vector<std::pair<std::string, Tensor>> arrays;
  for (const auto &[prefix, list] :
       {std::make_pair("param/", &data.parameters),
        std::make_pair("opt/", &data.optimizerState),
        std::make_pair("best/", &data.bestParameters)})
    for (const NamedTensor &t : *list)
      arrays.push_back({prefix + t.first, t.second});
  bool ok = writeNpz(tmp + "/state.npz", arrays, &error) &&
            writeText(tmp + "/metrics.csv", metricsCsv(data.history), error) &&
            writeText(tmp + "/MANIFEST", manifest(data.state), error);
  if (!ok) {
    fs::remove_all(tmp, ec);
    return false;
  }
  // A directory cannot be renamed over a non-empty one: move the old one
  // aside first, so that one of the two is complete at every moment.
  std::string old = tmp + ".old";
  bool replacing = fs::exists(finalPath);
  if (replacing)
    fs::rename(finalPath, old, ec);
  if (!ec)
    fs::rename(tmp, finalPath, ec);
  if (ec) {
    error =
        finalPath + ": cannot move the checkpoint into place: " + ec.message();
    fs::remove_all(tmp, ec);
    return false;
  }
  if (replacing)
    fs::remove_all(old, ec);
  written = finalPath;

  if (keepLast > 0) {
    std::vector<std::pair<int64_t, fs::path>> all;
    for (const auto &entry : fs::directory_iterator(root, ec)) {
      int64_t epochs = epochOfName(entry.path().filename().string());
      if (epochs >= 0 && entry.is_directory())
        all.push_back({epochs, entry.path()});
    }
    std::sort(all.begin(), all.end());
    for (size_t i = 0; i + keepLast < all.size(); ++i)
      if (all[i].second != fs::path(finalPath))
        fs::remove_all(all[i].second, ec);
  }
  return true;
}

bool readCheckpoint(const std::string &path, CheckpointData &data,
                    std::string &used, std::string &error) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    error = path + ": not a directory";
    return false;
  }
  used = path;
  if (!fs::exists(path + "/MANIFEST")) {
    int64_t newest = -1;
    for (const auto &entry : fs::directory_iterator(path, ec)) {
      int64_t epochs = epochOfName(entry.path().filename().string());
      if (epochs > newest && fs::exists(entry.path() / "MANIFEST")) {
        newest = epochs;
        used = entry.path().string();
      }
    }
    if (newest < 0) {
      error = path + ": no checkpoint in this directory (no MANIFEST, no "
                     "epoch-NNNN/MANIFEST)";
      return false;
    }
  }
  std::string text;
  data = CheckpointData();
  if (!readText(used + "/MANIFEST", text, error) ||
      !parseManifest(used + "/MANIFEST", text, data.state, error) ||
      !readText(used + "/metrics.csv", text, error) ||
      !parseMetrics(used + "/metrics.csv", text, data.history, error))
    return false;
  std::vector<std::pair<std::string, Tensor>> arrays;
  if (!readNpz(used + "/state.npz", arrays, &error))
    return false;
  for (auto &[name, t] : arrays) {
    size_t slash = name.find('/');
    std::string prefix = name.substr(0, slash + 1);
    std::string rest = slash == std::string::npos ? "" : name.substr(slash + 1);
    if (prefix == "param/")
      data.parameters.push_back({rest, std::move(t)});
    else if (prefix == "opt/")
      data.optimizerState.push_back({rest, std::move(t)});
    else if (prefix == "best/")
      data.bestParameters.push_back({rest, std::move(t)});
    else {
      error = used + "/state.npz: unexpected array '" + name + "'";
      return false;
    }
  }
  return true;
}

} // namespace lathe
