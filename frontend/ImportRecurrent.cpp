// Importers of recurrent layers (RNN, GRU, LSTM), opsets 7-17 (opset 14
// added `layout`).
#include "frontend/NodeImporter.h"
#include "frontend/OnnxTensor.h"
#include "ir/LatheOps.h"
#include "ir/ShapeInference.h"

#include "llvm/ADT/StringExtras.h"

using namespace mlir;

namespace lathe {
namespace {

struct ActivationInfo {
  const char *name;
  bool usesAlpha, usesBeta;
  float alpha, beta; // defaults when the lists run out
};

// ONNX leaves the defaults open; these are ONNX Runtime's (0 where it has
// none), which the reference tests were generated against.
const ActivationInfo kActivations[] = {
    {"Relu", false, false, 0, 0},
    {"Tanh", false, false, 0, 0},
    {"Sigmoid", false, false, 0, 0},
    {"Affine", true, true, 0, 0},
    {"LeakyRelu", true, false, 0.01f, 0},
    {"ThresholdedRelu", true, false, 0, 0},
    {"ScaledTanh", true, true, 0, 0},
    {"HardSigmoid", true, true, 0.2f, 0.5f},
    {"Elu", true, false, 1.0f, 0},
    {"Softsign", false, false, 0, 0},
    {"Softplus", false, false, 0, 0},
};

/// Reads activations/activation_alpha/activation_beta into one name, alpha
/// and beta per function and direction. Alphas and betas are consumed in
/// order by the functions that take them (as ONNX Runtime does); a list of
/// one direction's functions serves both directions.
bool readActivations(NodeImporter &n, ArrayRef<const char *> defaults,
                     int64_t dirs, SmallVectorImpl<Attribute> &names,
                     SmallVectorImpl<float> &alphas,
                     SmallVectorImpl<float> &betas) {
  std::vector<std::string> given;
  if (const auto *a = n.attr("activations"))
    given.assign(a->strings().begin(), a->strings().end());
  else
    for (int64_t d = 0; d < dirs; ++d)
      given.insert(given.end(), defaults.begin(), defaults.end());
  size_t perDir = defaults.size();
  if (given.size() != perDir && given.size() != perDir * dirs)
    return n.error("expected " + Twine(perDir * dirs) + " activations, got " +
                   Twine(given.size()));
  std::vector<float> alphaList, betaList;
  if (const auto *a = n.attr("activation_alpha"))
    alphaList.assign(a->floats().begin(), a->floats().end());
  if (const auto *a = n.attr("activation_beta"))
    betaList.assign(a->floats().begin(), a->floats().end());
  size_t nextAlpha = 0, nextBeta = 0;
  for (const std::string &g : given) {
    const ActivationInfo *info = nullptr;
    for (const ActivationInfo &k : kActivations)
      if (llvm::StringRef(k.name).equals_insensitive(g))
        info = &k;
    if (!info)
      return n.error("unsupported activation '" + g + "'");
    float alpha = info->alpha, beta = info->beta;
    if (info->usesAlpha && nextAlpha < alphaList.size())
      alpha = alphaList[nextAlpha++];
    if (info->usesBeta && nextBeta < betaList.size())
      beta = betaList[nextBeta++];
    names.push_back(n.b.getStringAttr(info->name));
    alphas.push_back(alpha);
    betas.push_back(beta);
  }
  for (size_t i = given.size(); i < perDir * dirs; ++i) {
    names.push_back(names[i - perDir]);
    alphas.push_back(alphas[i - perDir]);
    betas.push_back(betas[i - perDir]);
  }
  return true;
}

/// True when the constant sequence_lens says every batch entry runs the
/// whole sequence, so the operand can be dropped.
bool fullLengths(const Tensor *t, int64_t seq) {
  if (!t)
    return false;
  for (int64_t i = 0; i < t->numel(); ++i) {
    int64_t v = t->dtype == DType::I32   ? t->as<int32_t>()[i]
                : t->dtype == DType::I64 ? t->as<int64_t>()[i]
                                         : -1;
    if (v != seq)
      return false;
  }
  return true;
}

/// Shared by the three cells: operands 0-5 (X, W, R, B, sequence_lens,
/// initial_h), `extra` further optional operands (LSTM's initial_c and P).
template <typename OpT>
bool importRecurrent(NodeImporter &n, ArrayRef<const char *> defaultActivations,
                     int extra, ArrayRef<NamedAttribute> cellAttrs) {
  if (n.opset < 7 && n.attrInt("output_sequence", 0) != 0)
    return n.error("output_sequence (opset < 7) is not supported");
  std::string direction = n.attrString("direction", "forward");
  int64_t dirs = direction == "bidirectional" ? 2 : 1;
  int64_t layout = n.opset >= 14 ? n.attrInt("layout", 0) : 0;
  Value x = n.input(0), r = n.input(2);
  if (!x || !n.input(1) || !r)
    return n.error("X, W and R are required");
  std::vector<int64_t> rShape = n.shapeOf(r), xShape = n.shapeOf(x);
  int64_t hidden = n.attrInt("hidden_size", rShape.size() == 3 ? rShape[2] : 0);
  SmallVector<Attribute> names;
  SmallVector<float> alphas, betas;
  if (!readActivations(n, defaultActivations, dirs, names, alphas, betas))
    return false;

  SmallVector<Value> operands = {x, n.input(1), r};
  SmallVector<int32_t> segments = {1, 1, 1};
  bool dropLens = xShape.size() == 3 &&
                  fullLengths(n.constInput(4), xShape[layout ? 1 : 0]);
  for (int i = 3; i < 6 + extra; ++i) {
    bool present = n.hasInput(i) && !(i == 4 && dropLens);
    if (present)
      operands.push_back(n.input(i));
    segments.push_back(present ? 1 : 0);
  }
  SmallVector<NamedAttribute> attrs = {
      n.namedI64("hidden_size", hidden),
      n.named("direction", n.b.getStringAttr(direction)),
      n.namedI64("layout", layout),
      n.named("activations", n.b.getArrayAttr(names)),
      n.named("activation_alpha", n.b.getDenseF32ArrayAttr(alphas)),
      n.named("activation_beta", n.b.getDenseF32ArrayAttr(betas)),
      n.named("operandSegmentSizes", n.b.getDenseI32ArrayAttr(segments))};
  if (n.attr("clip"))
    attrs.push_back(n.namedF32("clip", n.attrFloat("clip", 0.0f)));
  attrs.append(cellAttrs.begin(), cellAttrs.end());
  Value y = n.create<OpT>(operands, attrs);
  if (!y)
    return false;
  Operation *op = y.getDefiningOp();
  for (unsigned i = 0; i < op->getNumResults(); ++i)
    if (n.hasOutput(i))
      n.setOutput(i, op->getResult(i));
  return true;
}

bool importRnn(NodeImporter &n) {
  return importRecurrent<RnnOp>(n, {"Tanh"}, 0, {});
}

bool importGru(NodeImporter &n) {
  return importRecurrent<GruOp>(
      n, {"Sigmoid", "Tanh"}, 0,
      {n.namedBool("linear_before_reset",
                   n.attrInt("linear_before_reset", 0) != 0)});
}

bool importLstm(NodeImporter &n) {
  return importRecurrent<LstmOp>(
      n, {"Sigmoid", "Tanh", "Tanh"}, 2,
      {n.namedBool("input_forget", n.attrInt("input_forget", 0) != 0)});
}

} // namespace

void registerRecurrentImporters(ImporterTable &table) {
  table["GRU"] = importGru;
  table["LSTM"] = importLstm;
  table["RNN"] = importRnn;
}

} // namespace lathe
