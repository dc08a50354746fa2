// Importers of loss functions: NegativeLogLikelihoodLoss and
// SoftmaxCrossEntropyLoss (opsets 12 and 13, which differ only in types).
#include "frontend/NodeImporter.h"
#include "frontend/OnnxTensor.h"
#include "ir/LatheOps.h"
#include "ir/ShapeInference.h"

using namespace mlir;

namespace lathe {
namespace {

/// lathe.nll_loss of `logProb` against the node's targets (input 1) and
/// optional weights (input 2), with the node's reduction and ignore_index.
Value createNllLoss(NodeImporter &n, Value logProb) {
  SmallVector<Value> operands = {logProb, n.input(1)};
  if (n.hasInput(2))
    operands.push_back(n.input(2));
  SmallVector<NamedAttribute> attrs = {n.named(
      "reduction", n.b.getStringAttr(n.attrString("reduction", "mean")))};
  if (n.attr("ignore_index"))
    attrs.push_back(n.namedI64("ignore_index", n.attrInt("ignore_index", 0)));
  return n.create<NllLossOp>(operands, attrs);
}

bool importNllLoss(NodeImporter &n) {
  Value v = createNllLoss(n, n.input(0));
  n.setOutput(0, v);
  return bool(v);
}

/// SoftmaxCrossEntropyLoss = NegativeLogLikelihoodLoss(LogSoftmax(scores,
/// axis 1)), which is also how ONNX defines it; log_prob is the optional
/// second output.
bool importSoftmaxCrossEntropyLoss(NodeImporter &n) {
  Value logProb = n.create<LogSoftmaxOp>({n.input(0)}, {n.namedI64("axis", 1)});
  if (!logProb)
    return false;
  Value v = createNllLoss(n, logProb);
  if (!v)
    return false;
  n.setOutput(0, v);
  if (n.hasOutput(1))
    n.setOutput(1, logProb);
  return true;
}

} // namespace

void registerLossImporters(ImporterTable &table) {
  table["NegativeLogLikelihoodLoss"] = importNllLoss;
  table["SoftmaxCrossEntropyLoss"] = importSoftmaxCrossEntropyLoss;
}

} // namespace lathe
