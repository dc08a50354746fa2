// Importers of random generators: RandomUniform, RandomNormal, their *Like
// forms, Bernoulli, and Dropout in training mode (reached from
// importDropout in ImportNN.cpp).
#include "frontend/NodeImporter.h"
#include "frontend/OnnxTensor.h"
#include "ir/LatheOps.h"
#include "ir/ShapeInference.h"

#include <cstring>

using namespace mlir;

namespace lathe {
namespace {

/// The generator's seed: the bits of ONNX's float `seed` (Dropout's is an
/// integer, taken as it is), or, without one, a fixed default mixed with the
/// node's first output name (FNV-1a), so that unseeded generators of one
/// model draw different but reproducible streams.
int64_t seedOf(NodeImporter &n) {
  if (const onnx::AttributeProto *a = n.attr("seed")) {
    if (a->type() == onnx::AttributeProto::INT) // Dropout's seed
      return a->i();
    float f = a->f();
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    return bits;
  }
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : n.node.output_size() ? n.node.output(0) : std::string())
    h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
  return static_cast<int64_t>(h);
}

/// The `dtype` attribute as an MLIR type; `dflt` when absent.
Type dtypeOf(NodeImporter &n, Type dflt) {
  if (!n.attr("dtype"))
    return dflt;
  return toElementType(n.b.getContext(),
                       static_cast<int32_t>(n.attrInt("dtype", 1)));
}

/// RandomUniform/RandomNormal (shape attribute) and their *Like forms
/// (the input's shape; only its shape is read).
template <typename OpT> bool importGenerator(NodeImporter &n, bool like) {
  std::vector<int64_t> shape;
  Type dflt = n.b.getF32Type();
  if (like) {
    shape = n.shapeOf(n.input(0));
    dflt = n.typeOf(n.input(0)).getElementType();
  } else {
    auto s = n.attrInts("shape");
    if (!s)
      return n.error("the shape attribute is required");
    shape = *s;
  }
  Type dtype = dtypeOf(n, dflt);
  if (!dtype || !isa<FloatType>(dtype))
    return n.error("dtype must be float16, float or double");
  SmallVector<NamedAttribute> attrs = {n.namedI64s("shape", shape),
                                       n.named("dtype", TypeAttr::get(dtype)),
                                       n.namedI64("seed", seedOf(n))};
  if constexpr (std::is_same_v<OpT, RandomUniformOp>) {
    attrs.push_back(n.namedF32("low", n.attrFloat("low", 0.0f)));
    attrs.push_back(n.namedF32("high", n.attrFloat("high", 1.0f)));
  } else {
    attrs.push_back(n.namedF32("mean", n.attrFloat("mean", 0.0f)));
    attrs.push_back(n.namedF32("scale", n.attrFloat("scale", 1.0f)));
  }
  Value v = n.create<OpT>({}, attrs);
  n.setOutput(0, v);
  return bool(v);
}

bool importBernoulli(NodeImporter &n) {
  Type dtype = dtypeOf(n, n.typeOf(n.input(0)).getElementType());
  if (!dtype)
    return n.error("unsupported dtype " + Twine(n.attrInt("dtype", 0)));
  Value v = n.create<BernoulliOp>(
      {n.input(0)},
      {n.named("dtype", TypeAttr::get(dtype)), n.namedI64("seed", seedOf(n))});
  n.setOutput(0, v);
  return bool(v);
}

} // namespace

bool importTrainingDropout(NodeImporter &n) {
  Value ratio = n.input(1);
  if (!ratio) {
    Tensor half(DType::F32, {});
    *half.as<float>() = 0.5f;
    ratio = n.constant(half);
  }
  Value v = n.create<TrainingDropoutOp>({n.input(0), ratio, n.input(2)},
                                        {n.namedI64("seed", seedOf(n))});
  if (!v)
    return false;
  n.setOutput(0, v);
  if (n.hasOutput(1))
    n.setOutput(1, v.getDefiningOp()->getResult(1));
  return true;
}

void registerRandomImporters(ImporterTable &table) {
  table["Bernoulli"] = importBernoulli;
  table["RandomNormal"] = [](NodeImporter &n) {
    return importGenerator<RandomNormalOp>(n, false);
  };
  table["RandomNormalLike"] = [](NodeImporter &n) {
    return importGenerator<RandomNormalOp>(n, true);
  };
  table["RandomUniform"] = [](NodeImporter &n) {
    return importGenerator<RandomUniformOp>(n, false);
  };
  table["RandomUniformLike"] = [](NodeImporter &n) {
    return importGenerator<RandomUniformOp>(n, true);
  };
}

} // namespace lathe
