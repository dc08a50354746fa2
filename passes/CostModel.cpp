#include "passes/CostModel.h"

#include "ir/LatheOps.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace lathe {

static int64_t elementsOf(Type type) {
  auto tensor = dyn_cast<ShapedType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return 0;
  return tensor.getNumElements();
}

static int64_t elementsOf(Value v) { return v ? elementsOf(v.getType()) : 0; }

static int64_t outputElements(Operation *op) {
  int64_t n = 0;
  for (Value r : op->getResults())
    n += elementsOf(r);
  return n;
}

static int64_t product(ArrayRef<int64_t> dims) {
  int64_t p = 1;
  for (int64_t d : dims)
    p *= d;
  return p;
}

static ArrayRef<int64_t> shapeOf(Value v) {
  return cast<ShapedType>(v.getType()).getShape();
}

static int64_t convFlops(ConvOp op) {
  ArrayRef<int64_t> w = shapeOf(op.getWeight()); // [Cout, Cin/group, k...]
  int64_t out = elementsOf(op.getOutput());      // N * Cout * spatial
  int64_t perOutput = product(w.drop_front(1));  // Cin/group * prod(k)
  return 2 * out * perOutput + (op.getBias() ? out : 0);
}

static int64_t convTransposeFlops(ConvTransposeOp op) {
  ArrayRef<int64_t> w = shapeOf(op.getWeight()); // [Cin, Cout/group, k...]
  int64_t in = elementsOf(op.getInput());        // N * Cin * spatial
  int64_t out = elementsOf(op.getOutput());
  return 2 * in * product(w.drop_front(1)) + (op.getBias() ? out : 0);
}

static int64_t gemmFlops(GemmOp op) {
  ArrayRef<int64_t> a = shapeOf(op.getA());
  int64_t k = op.getTransA() ? a[0] : a[1];
  int64_t out = elementsOf(op.getOutput());
  int64_t flops = 2 * out * k;
  if (op.getAlphaAttr().getValueAsDouble() != 1.0)
    flops += out;
  if (op.getC()) {
    flops += out;
    if (op.getBetaAttr().getValueAsDouble() != 1.0)
      flops += out;
  }
  return flops;
}

static int64_t matmulFlops(MatMulOp op) {
  ArrayRef<int64_t> a = shapeOf(op.getA());
  int64_t k = a.empty() ? 1 : a.back();
  return 2 * elementsOf(op.getOutput()) * k;
}

static int64_t einsumFlops(EinsumOp op) {
  llvm::DenseMap<int64_t, int64_t> extent;
  ArrayRef<int64_t> labels = op.getLabels();
  size_t next = 0;
  for (Value input : op.getInputs())
    for (int64_t dim : shapeOf(input))
      if (next < labels.size())
        extent[labels[next++]] = dim;
  int64_t points = 1;
  for (auto &entry : extent)
    points *= entry.second;
  bool sums = extent.size() > op.getOutputLabels().size();
  int64_t perPoint = static_cast<int64_t>(op.getInputs().size()) - 1 + sums;
  return points * std::max<int64_t>(perPoint, 1);
}

static int64_t poolFlops(Operation *op, ArrayRef<int64_t> kernel) {
  return outputElements(op) * product(kernel);
}

static int64_t interpolationFlops(Operation *op, StringRef mode,
                                  int64_t interpolatedDims) {
  int64_t perDim = mode.contains("cubic") ? 16 : mode == "nearest" ? 0 : 4;
  return outputElements(op) * perDim * interpolatedDims;
}

template <typename RecurrentOp> static int64_t recurrentFlops(RecurrentOp op) {
  // [seq, batch, in] or, with layout 1, [batch, seq, in]: steps are the same.
  ArrayRef<int64_t> x = shapeOf(op.getX());
  int64_t steps = x[0] * x[1];
  ArrayRef<int64_t> w = shapeOf(op.getW()); // [dirs, gates*H, in]
  int64_t gateElements = w[0] * w[1];
  return 2 * steps * (elementsOf(op.getW()) + elementsOf(op.getR())) +
         4 * steps * gateElements;
}

// Ops that only move or reinterpret data.
static bool isDataMovement(StringRef name) {
  static const llvm::StringSet<> names = {"constant",
                                          "identity",
                                          "dropout",
                                          "reshape",
                                          "flatten",
                                          "transpose",
                                          "concat",
                                          "slice",
                                          "expand",
                                          "tile",
                                          "pad",
                                          "trilu",
                                          "one_hot",
                                          "gather",
                                          "gather_elements",
                                          "gather_nd",
                                          "scatter_nd",
                                          "scatter_elements",
                                          "reverse_sequence",
                                          "max_unpool",
                                          "cast",
                                          "not"};
  return names.contains(name);
}

// Ops with one arithmetic operation per output element.
static bool isElementwise(StringRef name) {
  static const llvm::StringSet<> names = {"add",
                                          "sub",
                                          "mul",
                                          "div",
                                          "max",
                                          "min",
                                          "mod",
                                          "pow",
                                          "bit_shift",
                                          "equal",
                                          "less",
                                          "less_or_equal",
                                          "greater",
                                          "greater_or_equal",
                                          "and",
                                          "or",
                                          "xor",
                                          "where",
                                          "is_nan",
                                          "is_inf",
                                          "abs",
                                          "neg",
                                          "sign",
                                          "exp",
                                          "log",
                                          "sqrt",
                                          "reciprocal",
                                          "floor",
                                          "ceil",
                                          "round",
                                          "erf",
                                          "sin",
                                          "cos",
                                          "tan",
                                          "asin",
                                          "acos",
                                          "atan",
                                          "sinh",
                                          "cosh",
                                          "asinh",
                                          "acosh",
                                          "atanh",
                                          "relu",
                                          "sigmoid",
                                          "tanh",
                                          "leaky_relu",
                                          "elu",
                                          "selu",
                                          "celu",
                                          "hard_sigmoid",
                                          "hard_swish",
                                          "softplus",
                                          "softsign",
                                          "thresholded_relu",
                                          "shrink",
                                          "prelu",
                                          "random_uniform",
                                          "random_normal",
                                          "bernoulli",
                                          "training_dropout"};
  return names.contains(name);
}

// Ops that touch every input element once.
static bool isReduction(StringRef name) {
  return name.starts_with("reduce_") || name == "argmax" || name == "argmin" ||
         name == "cumsum" || name == "topk" || name == "nll_loss";
}

OpCost estimateFlops(Operation *op) {
  if (!isa<LatheDialect>(op->getDialect()))
    return {};
  StringRef name = op->getName().stripDialect();
  if (isDataMovement(name))
    return {};
  if (isElementwise(name))
    return {outputElements(op), false};
  if (isReduction(name))
    return {elementsOf(op->getOperand(0)), false};

  std::optional<int64_t> flops =
      llvm::TypeSwitch<Operation *, std::optional<int64_t>>(op)
          .Case([](ConvOp c) { return convFlops(c); })
          .Case([](ConvTransposeOp c) { return convTransposeFlops(c); })
          .Case([](GemmOp g) { return gemmFlops(g); })
          .Case([](MatMulOp m) { return matmulFlops(m); })
          .Case([](EinsumOp e) { return einsumFlops(e); })
          .Case([](MaxPoolOp p) { return poolFlops(p, p.getKernelShape()); })
          .Case([](MaxPoolWithIndicesOp p) {
            return poolFlops(p, p.getKernelShape());
          })
          .Case(
              [](AveragePoolOp p) { return poolFlops(p, p.getKernelShape()); })
          .Case(
              [](GlobalAveragePoolOp p) { return elementsOf(p.getOperand()); })
          .Case([](BatchNormOp b) { return 2 * elementsOf(b.getOutput()); })
          .Case<BatchNormTrainingOp, InstanceNormOp, LayerNormOp,
                MeanVarianceNormOp>(
              [](Operation *o) { return 6 * elementsOf(o->getOperand(0)); })
          .Case([](LrnOp l) {
            return (2 * l.getSize() + 3) * elementsOf(l.getOutput());
          })
          .Case([](LpNormOp l) { return 3 * elementsOf(l.getOutput()); })
          .Case<SoftmaxOp, LogSoftmaxOp>(
              [](Operation *o) { return 5 * outputElements(o); })
          .Case([](HardmaxOp h) { return elementsOf(h.getOutput()); })
          .Case([](ResizeOp r) {
            int64_t dims = 0;
            ArrayRef<int64_t> in = shapeOf(r.getInput());
            ArrayRef<int64_t> out = shapeOf(r.getOutput());
            for (size_t i = 0; i < in.size() && i < out.size(); ++i)
              dims += in[i] != out[i];
            return interpolationFlops(r, r.getMode(),
                                      std::max<int64_t>(dims, 1));
          })
          .Case([](GridSampleOp g) {
            return interpolationFlops(g, g.getMode(), 2);
          })
          .Case([](RnnOp r) { return recurrentFlops(r); })
          .Case([](GruOp r) { return recurrentFlops(r); })
          .Case([](LstmOp r) { return recurrentFlops(r); })
          .Default([](Operation *) { return std::nullopt; });
  if (flops)
    return {*flops, false};
  return {outputElements(op), true};
}

} // namespace lathe
