// Importers of the normalisation layers: BatchNormalization in training mode
// (inference mode stays in ImportNN.cpp), InstanceNormalization,
// LayerNormalization, MeanVarianceNormalization, LRN, LpNormalization.
#include "frontend/NodeImporter.h"
#include "ir/LatheOps.h"

using namespace mlir;

namespace lathe {
namespace {

bool importInstanceNorm(NodeImporter &n) {
  Value v = n.create<InstanceNormOp>(
      {n.input(0), n.input(1), n.input(2)},
      {n.namedF32("epsilon", n.attrFloat("epsilon", 1e-5f))});
  n.setOutput(0, v);
  return bool(v);
}

bool importLayerNorm(NodeImporter &n) {
  SmallVector<Value> operands = {n.input(0), n.input(1)};
  if (n.hasInput(2))
    operands.push_back(n.input(2));
  Value v = n.create<LayerNormOp>(
      operands, {n.namedI64("axis", n.attrInt("axis", -1)),
                 n.namedF32("epsilon", n.attrFloat("epsilon", 1e-5f)),
                 n.namedI64("stash_type", n.attrInt("stash_type", 1))});
  if (!v)
    return false;
  for (unsigned i = 0; i < 3; ++i)
    n.setOutput(i, v.getDefiningOp()->getResult(i));
  return true;
}

bool importMeanVarianceNorm(NodeImporter &n) {
  int64_t rank = n.shapeOf(n.input(0)).size();
  std::vector<int64_t> axes =
      n.attrInts("axes").value_or(std::vector<int64_t>{0, 2, 3});
  for (int64_t &a : axes) {
    if (a < -rank || a >= rank)
      return n.error("axis " + Twine(a) + " is out of range for rank " +
                     Twine(rank));
    if (a < 0)
      a += rank;
  }
  Value v =
      n.create<MeanVarianceNormOp>({n.input(0)}, {n.namedI64s("axes", axes)});
  n.setOutput(0, v);
  return bool(v);
}

bool importLrn(NodeImporter &n) {
  if (!n.attr("size"))
    return n.error("the size attribute is required");
  Value v = n.create<LrnOp>({n.input(0)},
                            {n.namedI64("size", n.attrInt("size", 1)),
                             n.namedF32("alpha", n.attrFloat("alpha", 1e-4f)),
                             n.namedF32("beta", n.attrFloat("beta", 0.75f)),
                             n.namedF32("bias", n.attrFloat("bias", 1.0f))});
  n.setOutput(0, v);
  return bool(v);
}

bool importLpNorm(NodeImporter &n) {
  Value v = n.create<LpNormOp>({n.input(0)},
                               {n.namedI64("axis", n.attrInt("axis", -1)),
                                n.namedI64("p", n.attrInt("p", 2))});
  n.setOutput(0, v);
  return bool(v);
}

} // namespace

/// BatchNormalization with batch statistics: opset 14+ says so with
/// training_mode=1 (outputs Y, running_mean, running_var); opsets 7-13 with
/// the presence of the optional outputs mean, var, saved_mean, saved_var.
/// Returns false after reporting, true when it imported the node.
bool importBatchNormTraining(NodeImporter &n) {
  SmallVector<Value> operands;
  for (size_t i = 0; i < 5; ++i)
    operands.push_back(n.input(i));
  Value v = n.create<BatchNormTrainingOp>(
      operands, {n.namedF32("epsilon", n.attrFloat("epsilon", 1e-5f)),
                 n.namedF32("momentum", n.attrFloat("momentum", 0.9f))});
  if (!v)
    return false;
  Operation *op = v.getDefiningOp();
  for (int i = 0; i < n.node.output_size() && i < 5; ++i)
    n.setOutput(i, op->getResult(i));
  return true;
}

void registerNormalizationImporters(ImporterTable &table) {
  table["InstanceNormalization"] = importInstanceNorm;
  table["LayerNormalization"] = importLayerNorm;
  table["LRN"] = importLrn;
  table["LpNormalization"] = importLpNorm;
  table["MeanVarianceNormalization"] = importMeanVarianceNorm;
}

} // namespace lathe
