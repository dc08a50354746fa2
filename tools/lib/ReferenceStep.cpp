// The reference training step: softmax regression computed by hand in plain
// C++ (see createReferenceTrainingStep in Training.h). It exists so that the
// driver, checkpoints and resume are tested before the compiled step exists,
// and later as an independent result to compare the compiled step against.
// Arithmetic is float32 for the values the compiled step would hold (logits,
// parameters, optimizer state) with double sums; the loop order is fixed, so
// results are bit-reproducible.
#include "frontend/TrainingModel.h"
#include "tools/lib/Training.h"

#include <algorithm>
#include <cmath>

namespace lathe {

using namespace lathe::train;

namespace {

class ReferenceStep : public TrainingStep {
public:
  /// params[weight] is W [C, D], params[bias] b [C]; the others are frozen.
  ReferenceStep(const TrainingSpec &spec, std::vector<NamedTensor> params,
                size_t weight, size_t bias, bool regularizeWeight,
                bool regularizeBias)
      : spec_(spec), params_(std::move(params)), w_(weight), b_(bias),
        regularized_{regularizeWeight, regularizeBias} {
    classes_ = params_[w_].second.shape[0];
    features_ = params_[w_].second.shape[1];
    OptimizerKind::Kind k = spec.optimizer().kind();
    if (k == OptimizerKind::momentum || k == OptimizerKind::nesterov) {
      for (size_t i : {w_, b_})
        velocity_.push_back({"velocity/" + params_[i].first,
                             Tensor(DType::F32, params_[i].second.shape)});
    }
  }

  bool step(const Batch &batch, float lr, StepResult &result,
            std::string &error) override {
    if (!checkBatch(batch, error))
      return false;
    int64_t n = batch.inputs.shape[0];
    std::vector<float> probs;
    double lossSum = 0;
    int64_t correct = 0;
    forward(batch, n, probs, lossSum, correct);

    // d(mean loss)/d(logits) = (softmax - onehot) / n.
    const int64_t *labels = batch.labels.as<int64_t>();
    for (int64_t r = 0; r < n; ++r)
      probs[r * classes_ + labels[r]] -= 1.0f;
    std::vector<float> gw(classes_ * features_, 0.0f), gb(classes_, 0.0f);
    const float *x = batch.inputs.as<float>();
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < classes_; ++c) {
        float d = probs[r * classes_ + c] / static_cast<float>(n);
        gb[c] += d;
        for (int64_t f = 0; f < features_; ++f)
          gw[c * features_ + f] += d * x[r * features_ + f];
      }

    double penalty = regularize(gw, gb);
    update(gw, gb, lr);
    result.loss = lossSum / n + penalty;
    result.correct = correct;
    return true;
  }

  bool evaluate(const Batch &batch, EvalResult &result,
                std::string &error) override {
    if (!checkBatch(batch, error))
      return false;
    std::vector<float> probs;
    double lossSum = 0;
    int64_t correct = 0;
    forward(batch, batch.rows, probs, lossSum, correct);
    result.lossSum = lossSum;
    result.correct = correct;
    return true;
  }

  std::vector<NamedTensor> parameters() const override { return params_; }
  bool setParameters(const std::vector<NamedTensor> &values,
                     std::string &error) override {
    return replace(params_, values, "parameters", error);
  }
  std::vector<NamedTensor> optimizerState() const override { return velocity_; }
  bool setOptimizerState(const std::vector<NamedTensor> &values,
                         std::string &error) override {
    return replace(velocity_, values, "optimizer state", error);
  }

private:
  bool checkBatch(const Batch &batch, std::string &error) const {
    int64_t n = batch.inputs.shape.empty() ? 0 : batch.inputs.shape[0];
    if (batch.inputs.dtype != DType::F32 || n == 0 ||
        batch.inputs.numel() != n * features_ ||
        batch.labels.dtype != DType::I64 || batch.labels.numel() != n ||
        batch.rows > n) {
      error = "reference step: batch of " + shapeToString(batch.inputs.shape) +
              " inputs does not fit " + std::to_string(features_) + " features";
      return false;
    }
    return true;
  }

  /// Softmax probabilities of rows [0, rows) into `probs`, with the summed
  /// cross-entropy and the number of argmax hits.
  void forward(const Batch &batch, int64_t rows, std::vector<float> &probs,
               double &lossSum, int64_t &correct) const {
    const float *x = batch.inputs.as<float>();
    const float *w = params_[w_].second.as<float>();
    const float *b = params_[b_].second.as<float>();
    const int64_t *labels = batch.labels.as<int64_t>();
    probs.assign(batch.inputs.shape[0] * classes_, 0.0f);
    for (int64_t r = 0; r < rows; ++r) {
      float *p = &probs[r * classes_];
      int64_t best = 0;
      for (int64_t c = 0; c < classes_; ++c) {
        float acc = b[c];
        for (int64_t f = 0; f < features_; ++f)
          acc += x[r * features_ + f] * w[c * features_ + f];
        p[c] = acc;
        if (acc > p[best])
          best = c;
      }
      float max = p[best];
      double sum = 0;
      for (int64_t c = 0; c < classes_; ++c)
        sum += std::exp(static_cast<double>(p[c] - max));
      lossSum += std::log(sum) - (p[labels[r]] - max);
      for (int64_t c = 0; c < classes_; ++c)
        p[c] =
            static_cast<float>(std::exp(static_cast<double>(p[c] - max)) / sum);
      correct += best == labels[r];
    }
  }

  /// Adds the regularisation gradient (weights of rank >= 2 or as listed)
  /// and returns the penalty.
  double regularize(std::vector<float> &gw, std::vector<float> &gb) const {
    if (!spec_.loss().has_regularization())
      return 0;
    const Regularization &r = spec_.loss().regularization();
    double l1 = r.l1_coefficient(), l2 = r.l2_coefficient(), penalty = 0;
    auto apply = [&](size_t index, std::vector<float> &g) {
      if (!regularized_[index == w_ ? 0 : 1])
        return;
      const float *v = params_[index].second.as<float>();
      for (size_t i = 0; i < g.size(); ++i) {
        penalty += l1 * std::fabs(v[i]) + 0.5 * l2 * v[i] * v[i];
        g[i] += static_cast<float>(l1 * ((v[i] > 0) - (v[i] < 0)) + l2 * v[i]);
      }
    };
    apply(w_, gw);
    apply(b_, gb);
    return penalty;
  }

  void update(std::vector<float> &gw, std::vector<float> &gb, float lr) {
    const Optimizer &o = spec_.optimizer();
    auto wd = static_cast<float>(o.weight_decay());
    std::vector<float> *grads[2] = {&gw, &gb};
    size_t index[2] = {w_, b_};
    for (int k = 0; k < 2; ++k) {
      const float *v = params_[index[k]].second.as<float>();
      for (size_t i = 0; i < grads[k]->size(); ++i) {
        float &g = (*grads[k])[i];
        g += wd * v[i];
        if (o.has_clip_value())
          g = std::clamp(g, -static_cast<float>(o.clip_value()),
                         static_cast<float>(o.clip_value()));
      }
    }
    if (o.has_clip_global_norm()) {
      double sq = 0;
      for (auto *g : grads)
        for (float x : *g)
          sq += static_cast<double>(x) * x;
      double norm = std::sqrt(sq);
      if (norm > o.clip_global_norm())
        for (auto *g : grads)
          for (float &x : *g)
            x = static_cast<float>(x * (o.clip_global_norm() / norm));
    }
    auto mom = static_cast<float>(o.momentum());
    for (int k = 0; k < 2; ++k) {
      float *p = params_[index[k]].second.as<float>();
      std::vector<float> &g = *grads[k];
      if (velocity_.empty()) {
        for (size_t i = 0; i < g.size(); ++i)
          p[i] -= lr * g[i];
        continue;
      }
      float *v = velocity_[k].second.as<float>();
      bool nesterov = o.kind() == OptimizerKind::nesterov;
      for (size_t i = 0; i < g.size(); ++i) {
        v[i] = mom * v[i] + g[i];
        p[i] -= lr * (nesterov ? g[i] + mom * v[i] : v[i]);
      }
    }
  }

  static bool replace(std::vector<NamedTensor> &mine,
                      const std::vector<NamedTensor> &values, const char *what,
                      std::string &error) {
    if (values.size() != mine.size()) {
      error = std::string("reference step: expected ") +
              std::to_string(mine.size()) + " " + what + " tensors, got " +
              std::to_string(values.size());
      return false;
    }
    for (size_t i = 0; i < mine.size(); ++i) {
      const NamedTensor &v = values[i];
      if (v.first != mine[i].first || v.second.dtype != mine[i].second.dtype ||
          v.second.shape != mine[i].second.shape) {
        error = std::string("reference step: ") + what + " '" + v.first +
                "' does not match '" + mine[i].first + "' " +
                dtypeName(mine[i].second.dtype) + "[" +
                shapeToString(mine[i].second.shape) + "]";
        return false;
      }
    }
    for (size_t i = 0; i < mine.size(); ++i)
      mine[i].second = values[i].second;
    return true;
  }

  const TrainingSpec &spec_;
  std::vector<NamedTensor> params_;
  std::vector<NamedTensor> velocity_;
  size_t w_, b_;
  bool regularized_[2];
  int64_t classes_ = 0, features_ = 0;
};

} // namespace

std::unique_ptr<TrainingStep>
createReferenceTrainingStep(const TrainingSetup &setup, std::string &error) {
  const TrainingSpec &spec = *setup.spec;
  auto refuse = [&](const std::string &why) {
    error = "the reference training step " + why;
    return nullptr;
  };
  if (spec.loss().kind() != Loss::softmax_cross_entropy)
    return refuse("supports only loss.kind softmax_cross_entropy");
  OptimizerKind::Kind k = spec.optimizer().kind();
  if (k != OptimizerKind::sgd && k != OptimizerKind::momentum &&
      k != OptimizerKind::nesterov)
    return refuse("supports only optimizer.kind sgd, momentum and nesterov");

  // Every model tensor is owned (frozen ones too: they go back into the
  // export); exactly two are trained.
  std::vector<NamedTensor> params;
  std::vector<size_t> trained;
  std::vector<bool> regularized;
  for (const TrainingParameter &p : setup.model->parameters()) {
    if (p.trainable) {
      trained.push_back(params.size());
      regularized.push_back(p.regularized);
    }
    params.push_back({p.name, p.value});
  }
  int64_t features = 1;
  for (size_t i = 1; i < setup.batchInputShape.size(); ++i)
    features *= setup.batchInputShape[i];
  const std::vector<int64_t> &out = setup.outputShape;
  if (trained.size() != 2 || out.size() != 2)
    return refuse("handles only softmax regression: two trainable "
                  "parameters and a [batch, classes] output");
  size_t w = trained[0], b = trained[1];
  bool swapped = params[w].second.shape.size() == 1;
  if (swapped)
    std::swap(w, b);
  const Tensor &W = params[w].second, &B = params[b].second;
  if (W.shape != std::vector<int64_t>{out[1], features} ||
      B.shape != std::vector<int64_t>{out[1]})
    return refuse("handles only softmax regression: expects a weight [" +
                  std::to_string(out[1]) + ", " + std::to_string(features) +
                  "] and a bias [" + std::to_string(out[1]) + "], got [" +
                  shapeToString(W.shape) + "] and [" + shapeToString(B.shape) +
                  "]");
  return std::make_unique<ReferenceStep>(spec, std::move(params), w, b,
                                         regularized[swapped ? 1 : 0],
                                         regularized[swapped ? 0 : 1]);
}

} // namespace lathe
