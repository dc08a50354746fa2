// Type inference and verification of the ops in LatheRecurrentOps.td.
#include "ir/InferUtils.h"
#include "ir/LatheOps.h"

#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace lathe;
using namespace lathe::infer;

namespace {

/// What the three cells share; `initialC`/`peepholes` only for LSTM.
struct RecurrentOperands {
  Value x, w, r, b, seqLens, initialH, initialC, peepholes;
  int64_t hidden, layout;
  StringRef direction;
  ArrayAttr activations;
  ArrayRef<float> alpha, beta;
};

bool knownActivation(StringRef name) {
  return llvm::StringSwitch<bool>(name)
      .Cases("Relu", "Tanh", "Sigmoid", "Affine", "LeakyRelu", true)
      .Cases("ThresholdedRelu", "ScaledTanh", "HardSigmoid", "Elu", true)
      .Cases("Softsign", "Softplus", true)
      .Default(false);
}

LogicalResult inferRecurrent(std::optional<Location> loc, StringRef name,
                             int64_t gates, int64_t functions,
                             int64_t numResults, const RecurrentOperands &o,
                             SmallVectorImpl<Type> &results) {
  auto err = [&](const Twine &msg) {
    return fail(loc, "lathe." + name + ": " + msg);
  };
  int64_t dirs;
  if (o.direction == "forward" || o.direction == "reverse")
    dirs = 1;
  else if (o.direction == "bidirectional")
    dirs = 2;
  else
    return err("direction '" + o.direction +
               "' is not forward, reverse or bidirectional");
  if (o.layout != 0 && o.layout != 1)
    return err("layout " + Twine(o.layout) + " is not 0 or 1");
  int64_t h = o.hidden;
  if (h < 1)
    return err("hidden_size " + Twine(h) + " must be positive");
  Shape x = shapeOf(o.x);
  if (x.size() != 3)
    return err("X must be 3-D, got " + str(x));
  int64_t seq = o.layout ? x[1] : x[0], batch = o.layout ? x[0] : x[1];
  int64_t input = x[2];
  Type et = elementTypeOf(o.x);
  auto check = [&](Value v, StringRef what, const Shape &expect) {
    if (!v)
      return success();
    if (shapeOf(v) != expect)
      return err(what + " is " + str(shapeOf(v)) + ", expected " + str(expect));
    if (elementTypeOf(v) != et && what != "sequence_lens")
      return err(what + " element type differs from X's");
    return success();
  };
  Shape state = o.layout ? Shape{batch, dirs, h} : Shape{dirs, batch, h};
  if (failed(check(o.w, "W", {dirs, gates * h, input})) ||
      failed(check(o.r, "R", {dirs, gates * h, h})) ||
      failed(check(o.b, "B", {dirs, 2 * gates * h})) ||
      failed(check(o.seqLens, "sequence_lens", {batch})) ||
      failed(check(o.initialH, "initial_h", state)) ||
      failed(check(o.initialC, "initial_c", state)) ||
      failed(check(o.peepholes, "P", {dirs, 3 * h})))
    return failure();
  size_t expectFns = static_cast<size_t>(dirs * functions);
  if (o.activations.size() != expectFns || o.alpha.size() != expectFns ||
      o.beta.size() != expectFns)
    return err("expected " + Twine(expectFns) +
               " activations with one alpha and beta each, got " +
               Twine(o.activations.size()) + ", " + Twine(o.alpha.size()) +
               " and " + Twine(o.beta.size()));
  for (Attribute a : o.activations) {
    StringRef fn = cast<StringAttr>(a).getValue();
    if (!knownActivation(fn))
      return err("unknown activation '" + fn + "'");
  }
  Shape y = o.layout ? Shape{batch, seq, dirs, h} : Shape{seq, dirs, batch, h};
  (void)inferred(results, y, et);
  for (int64_t i = 1; i < numResults; ++i)
    (void)inferred(results, state, et);
  return success();
}

template <typename Adaptor> RecurrentOperands common(Adaptor adaptor) {
  RecurrentOperands o;
  o.x = adaptor.getX();
  o.w = adaptor.getW();
  o.r = adaptor.getR();
  o.b = adaptor.getB();
  o.seqLens = adaptor.getSequenceLens();
  o.initialH = adaptor.getInitialH();
  o.hidden = adaptor.getHiddenSize();
  o.layout = adaptor.getLayout();
  o.direction = adaptor.getDirection();
  o.activations = adaptor.getActivations();
  o.alpha = adaptor.getActivationAlpha();
  o.beta = adaptor.getActivationBeta();
  return o;
}

} // namespace

LogicalResult RnnOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &results) {
  return inferRecurrent(loc, "rnn", 1, 1, 2, common(adaptor), results);
}

LogicalResult GruOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &results) {
  return inferRecurrent(loc, "gru", 3, 2, 2, common(adaptor), results);
}

LogicalResult LstmOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &results) {
  RecurrentOperands o = common(adaptor);
  o.initialC = adaptor.getInitialC();
  o.peepholes = adaptor.getP();
  return inferRecurrent(loc, "lstm", 4, 3, 3, o, results);
}
