// Importers of elementwise math, logic, Cast and activation ops (ONNX opsets
// 7-17; the pre-7 forms with `broadcast`/`consumed_inputs` are refused).
#include "frontend/NodeImporter.h"
#include "frontend/OnnxTensor.h"
#include "ir/LatheOps.h"
#include "ir/ShapeInference.h"

#include <limits>

using namespace mlir;

namespace lathe {
namespace {

/// Imports a one-input node whose attributes are floats, each read with its
/// ONNX default.
template <typename OpT>
bool importWithFloats(
    NodeImporter &n,
    std::initializer_list<std::pair<const char *, float>> defaults) {
  SmallVector<NamedAttribute> attrs;
  for (auto [name, dflt] : defaults)
    attrs.push_back(n.namedF32(name, n.attrFloat(name, dflt)));
  Value v = n.create<OpT>({n.input(0)}, attrs);
  n.setOutput(0, v);
  return bool(v);
}

bool importLeakyRelu(NodeImporter &n) {
  return importWithFloats<LeakyReluOp>(n, {{"alpha", 0.01f}});
}
bool importElu(NodeImporter &n) {
  return importWithFloats<EluOp>(n, {{"alpha", 1.0f}});
}
bool importCelu(NodeImporter &n) {
  return importWithFloats<CeluOp>(n, {{"alpha", 1.0f}});
}
bool importThresholdedRelu(NodeImporter &n) {
  return importWithFloats<ThresholdedReluOp>(n, {{"alpha", 1.0f}});
}
bool importSelu(NodeImporter &n) {
  return importWithFloats<SeluOp>(n, {{"alpha", 1.67326319217681884765625f},
                                      {"gamma", 1.05070102214813232421875f}});
}
bool importHardSigmoid(NodeImporter &n) {
  return importWithFloats<HardSigmoidOp>(n, {{"alpha", 0.2f}, {"beta", 0.5f}});
}
bool importShrink(NodeImporter &n) {
  return importWithFloats<ShrinkOp>(n, {{"bias", 0.0f}, {"lambd", 0.5f}});
}

/// PRelu before opset 7 takes a per-channel slope [C] (channels at dim 1);
/// from 7 the slope broadcasts by numpy's rules, so [C] becomes [C,1,...].
bool importPRelu(NodeImporter &n) {
  Value x = n.input(0), slope = n.input(1);
  std::vector<int64_t> xs = n.shapeOf(x), ss = n.shapeOf(slope);
  if (n.opset < 7 && ss.size() == 1 && xs.size() > 2 && ss[0] == xs[1] &&
      ss[0] != 1) {
    std::vector<int64_t> perChannel(xs.size() - 1, 1);
    perChannel[0] = ss[0];
    slope = n.create<ReshapeOp>({slope}, {n.namedI64s("shape", perChannel)});
    if (!slope)
      return false;
  }
  Value v = n.create<PReluOp>({x, slope});
  n.setOutput(0, v);
  return bool(v);
}

bool importIsInf(NodeImporter &n) {
  Value v = n.create<IsInfOp>(
      {n.input(0)},
      {n.namedBool("detect_positive", n.attrInt("detect_positive", 1) != 0),
       n.namedBool("detect_negative", n.attrInt("detect_negative", 1) != 0)});
  n.setOutput(0, v);
  return bool(v);
}

bool importMod(NodeImporter &n) {
  int64_t fmod = n.attrInt("fmod", 0);
  if (fmod != 0 && fmod != 1)
    return n.error("fmod must be 0 or 1, got " + Twine(fmod));
  if (!fmod && isa<FloatType>(n.typeOf(n.input(0)).getElementType()))
    return n.error("Mod of floats needs fmod=1");
  Value v = n.create<ModOp>({n.input(0), n.input(1)},
                            {n.namedBool("fmod", fmod != 0)});
  n.setOutput(0, v);
  return bool(v);
}

bool importBitShift(NodeImporter &n) {
  std::string direction = n.attrString("direction", "");
  if (direction != "LEFT" && direction != "RIGHT")
    return n.error("direction must be LEFT or RIGHT, got '" + direction + "'");
  Value v = n.create<BitShiftOp>(
      {n.input(0), n.input(1)},
      {n.named("direction", n.b.getStringAttr(direction))});
  n.setOutput(0, v);
  return bool(v);
}

bool importWhere(NodeImporter &n) {
  Value v = n.create<WhereOp>({n.input(0), n.input(1), n.input(2)});
  n.setOutput(0, v);
  return bool(v);
}

/// A rank-0 lathe.constant of element type `et` holding `value`.
Value scalarConstant(NodeImporter &n, Type et, double value) {
  auto type = RankedTensorType::get({}, et);
  Attribute element;
  if (isa<FloatType>(et))
    element = FloatAttr::get(et, value);
  else
    element = IntegerAttr::get(et, static_cast<int64_t>(value));
  return n.b.create<ConstantOp>(n.loc, DenseElementsAttr::get(type, element));
}

/// Max, Min, Sum: a left-to-right chain of the binary op over 1..N inputs
/// (numpy broadcasting throughout, from opset 8; before, shapes are equal).
template <typename OpT> Value chain(NodeImporter &n) {
  if (n.numInputs() == 0 || !n.hasInput(0)) {
    n.error("needs at least one input");
    return nullptr;
  }
  Value v = n.input(0);
  for (size_t i = 1; i < n.numInputs() && v; ++i)
    v = n.create<OpT>({v, n.input(i)});
  return v;
}

template <typename OpT> bool importVariadic(NodeImporter &n) {
  Value v = chain<OpT>(n);
  n.setOutput(0, v);
  return bool(v);
}

/// Mean = Sum / N.
bool importMean(NodeImporter &n) {
  Value sum = chain<AddOp>(n);
  if (!sum)
    return false;
  if (n.numInputs() == 1) {
    n.setOutput(0, sum);
    return true;
  }
  Type et = n.typeOf(sum).getElementType();
  if (!isa<FloatType>(et))
    return n.error("Mean of non-float tensors is not defined by ONNX");
  Value count = scalarConstant(n, et, static_cast<double>(n.numInputs()));
  Value v = n.create<DivOp>({sum, count});
  n.setOutput(0, v);
  return bool(v);
}

/// Clip = Min(Max(x, min), max), as numpy.clip (min > max gives max). The
/// bounds are attributes before opset 11 and optional scalar inputs since.
bool importClip(NodeImporter &n) {
  Value v = n.input(0);
  Type et = n.typeOf(v).getElementType();
  Value lo, hi;
  if (n.opset < 11) {
    if (n.attr("min"))
      lo = scalarConstant(n, et, n.attrFloat("min", 0.0f));
    if (n.attr("max"))
      hi = scalarConstant(n, et, n.attrFloat("max", 0.0f));
  } else {
    lo = n.input(1);
    hi = n.input(2);
    for (Value bound : {lo, hi})
      if (bound && n.typeOf(bound).getNumElements() != 1)
        return n.error("min and max must be scalars, got shape " +
                       Twine(n.typeOf(bound).getNumElements()) + " elements");
  }
  if (lo)
    v = n.create<MaxOp>({v, lo});
  if (v && hi)
    v = n.create<MinOp>({v, hi});
  n.setOutput(0, v);
  return bool(v);
}

/// MLIR element type of an ONNX TensorProto data type, unsigned types as
/// MLIR unsigned integers; null (with the reason) for what lathe refuses.
Type castTargetType(NodeImporter &n, int64_t onnxType) {
  MLIRContext *ctx = n.b.getContext();
  auto uint = [&](unsigned w) {
    return IntegerType::get(ctx, w, IntegerType::Unsigned);
  };
  switch (onnxType) {
  case onnx::TensorProto::FLOAT:
    return Float32Type::get(ctx);
  case onnx::TensorProto::DOUBLE:
    return Float64Type::get(ctx);
  case onnx::TensorProto::FLOAT16:
    return Float16Type::get(ctx);
  case onnx::TensorProto::BFLOAT16:
    return BFloat16Type::get(ctx);
  case onnx::TensorProto::INT8:
    return IntegerType::get(ctx, 8);
  case onnx::TensorProto::INT16:
    return IntegerType::get(ctx, 16);
  case onnx::TensorProto::INT32:
    return IntegerType::get(ctx, 32);
  case onnx::TensorProto::INT64:
    return IntegerType::get(ctx, 64);
  case onnx::TensorProto::UINT8:
    return uint(8);
  case onnx::TensorProto::UINT16:
    return uint(16);
  case onnx::TensorProto::UINT32:
    return uint(32);
  case onnx::TensorProto::UINT64:
    return uint(64);
  case onnx::TensorProto::BOOL:
    return IntegerType::get(ctx, 1);
  case onnx::TensorProto::STRING:
    n.error("Cast to STRING is not supported: lathe compiles numeric tensors "
            "only");
    return nullptr;
  default:
    n.error("Cast to ONNX data type " + Twine(onnxType) +
            " is not supported (complex and float8 types are out of scope)");
    return nullptr;
  }
}

bool importCast(NodeImporter &n) {
  const onnx::AttributeProto *to = n.attr("to");
  if (!to)
    return n.error("Cast needs the 'to' attribute");
  if (to->type() == onnx::AttributeProto::STRING)
    return n.error("Cast with a string 'to' (opset < 6) is not supported");
  Type et = castTargetType(n, to->i());
  if (!et)
    return false;
  Value v = n.create<CastOp>({n.input(0)}, {n.named("to", TypeAttr::get(et))});
  n.setOutput(0, v);
  return bool(v);
}

bool importCastLike(NodeImporter &n) {
  Type et = n.typeOf(n.input(1)).getElementType();
  Value v = n.create<CastOp>({n.input(0)}, {n.named("to", TypeAttr::get(et))});
  n.setOutput(0, v);
  return bool(v);
}

/// Softmax, LogSoftmax and Hardmax: opset 13 works along one axis (default
/// -1); earlier opsets flatten to 2-D at `axis` (default 1) and work on rows.
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
  // Arithmetic and math.
  table["Abs"] = importUnary<AbsOp>;
  table["Acos"] = importUnary<AcosOp>;
  table["Acosh"] = importUnary<AcoshOp>;
  table["Add"] = importBinary<AddOp>;
  table["Asin"] = importUnary<AsinOp>;
  table["Asinh"] = importUnary<AsinhOp>;
  table["Atan"] = importUnary<AtanOp>;
  table["Atanh"] = importUnary<AtanhOp>;
  table["BitShift"] = importBitShift;
  table["Ceil"] = importUnary<CeilOp>;
  table["Clip"] = importClip;
  table["Cos"] = importUnary<CosOp>;
  table["Cosh"] = importUnary<CoshOp>;
  table["Div"] = importBinary<DivOp>;
  table["Erf"] = importUnary<ErfOp>;
  table["Exp"] = importUnary<ExpOp>;
  table["Floor"] = importUnary<FloorOp>;
  table["Log"] = importUnary<LogOp>;
  table["Max"] = importVariadic<MaxOp>;
  table["Mean"] = importMean;
  table["Min"] = importVariadic<MinOp>;
  table["Mod"] = importMod;
  table["Mul"] = importBinary<MulOp>;
  table["Neg"] = importUnary<NegOp>;
  table["Pow"] = importBinary<PowOp>;
  table["Reciprocal"] = importUnary<ReciprocalOp>;
  table["Round"] = importUnary<RoundOp>;
  table["Sign"] = importUnary<SignOp>;
  table["Sin"] = importUnary<SinOp>;
  table["Sinh"] = importUnary<SinhOp>;
  table["Sqrt"] = importUnary<SqrtOp>;
  table["Sub"] = importBinary<SubOp>;
  table["Sum"] = importVariadic<AddOp>;
  table["Tan"] = importUnary<TanOp>;
  // Comparisons and logic.
  table["And"] = importBinary<AndOp>;
  table["Equal"] = importBinary<EqualOp>;
  table["Greater"] = importBinary<GreaterOp>;
  table["GreaterOrEqual"] = importBinary<GreaterOrEqualOp>;
  table["IsInf"] = importIsInf;
  table["IsNaN"] = importUnary<IsNaNOp>;
  table["Less"] = importBinary<LessOp>;
  table["LessOrEqual"] = importBinary<LessOrEqualOp>;
  table["Not"] = importUnary<NotOp>;
  table["Or"] = importBinary<OrOp>;
  table["Where"] = importWhere;
  table["Xor"] = importBinary<XorOp>;
  // Conversion.
  table["Cast"] = importCast;
  table["CastLike"] = importCastLike;
  // Activations.
  table["Celu"] = importCelu;
  table["Elu"] = importElu;
  table["Hardmax"] = importSoftmax<HardmaxOp>;
  table["HardSigmoid"] = importHardSigmoid;
  table["HardSwish"] = importUnary<HardSwishOp>;
  table["LeakyRelu"] = importLeakyRelu;
  table["LogSoftmax"] = importSoftmax<LogSoftmaxOp>;
  table["PRelu"] = importPRelu;
  table["Relu"] = importUnary<ReluOp>;
  table["Selu"] = importSelu;
  table["Shrink"] = importShrink;
  table["Sigmoid"] = importUnary<SigmoidOp>;
  table["Softmax"] = importSoftmax<SoftmaxOp>;
  table["Softplus"] = importUnary<SoftplusOp>;
  table["Softsign"] = importUnary<SoftsignOp>;
  table["Tanh"] = importUnary<TanhOp>;
  table["ThresholdedRelu"] = importThresholdedRelu;
}

} // namespace lathe
