// Importers of elementwise math, logic and activation ops.
#include "frontend/NodeImporter.h"
#include "frontend/OnnxTensor.h"
#include "ir/LatheOps.h"
#include "ir/ShapeInference.h"

using namespace mlir;

namespace lathe {
namespace {

bool importLeakyRelu(NodeImporter &n) {
  Value v = n.create<LeakyReluOp>(
      {n.input(0)}, {n.namedF32("alpha", n.attrFloat("alpha", 0.01f))});
  n.setOutput(0, v);
  return bool(v);
}

bool importElu(NodeImporter &n) {
  Value v = n.create<EluOp>({n.input(0)},
                            {n.namedF32("alpha", n.attrFloat("alpha", 1.0f))});
  n.setOutput(0, v);
  return bool(v);
}

/// Softmax and LogSoftmax: opset 13 normalises along one axis (default -1);
/// earlier opsets flatten to 2-D at `axis` (default 1) and normalise rows.
template <typename OpT> bool importSoftmax(NodeImporter &n) {
  Value x = n.input(0);
  std::vector<int64_t> shape = n.shapeOf(x);
  int64_t rank = shape.size();
  if (n.opset >= 13) {
    Value v = n.create<OpT>({x}, {n.namedI64("axis", n.attrInt("axis", -1))});
    n.setOutput(0, v);
    return bool(v);
  }
  int64_t axis = n.attrInt("axis", 1);
  if (axis < -rank || axis > rank)
    return n.error("axis " + Twine(axis) + " is out of range for rank " +
                   Twine(rank));
  Value flat = n.create<FlattenOp>({x}, {n.namedI64("axis", axis)});
  if (!flat)
    return false;
  Value y = n.create<OpT>({flat}, {n.namedI64("axis", 1)});
  if (!y)
    return false;
  Value v = n.create<ReshapeOp>({y}, {n.namedI64s("shape", shape)});
  n.setOutput(0, v);
  return bool(v);
}

} // namespace

void registerElementwiseImporters(ImporterTable &table) {
  table["Add"] = importBinary<AddOp>;
  table["Div"] = importBinary<DivOp>;
  table["Elu"] = importElu;
  table["LeakyRelu"] = importLeakyRelu;
  table["LogSoftmax"] = importSoftmax<LogSoftmaxOp>;
  table["Mul"] = importBinary<MulOp>;
  table["Relu"] = importUnary<ReluOp>;
  table["Sigmoid"] = importUnary<SigmoidOp>;
  table["Softmax"] = importSoftmax<SoftmaxOp>;
  table["Sub"] = importBinary<SubOp>;
  table["Tanh"] = importUnary<TanhOp>;
}

} // namespace lathe
