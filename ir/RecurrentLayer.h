// What RNN, GRU and LSTM ops (lathe.rnn/gru/lstm) say about their layer:
// shapes, attributes and operands, read once for the two places that build
// code from them, the lowering (passes/LowerRecurrent.cpp) and the VJP
// (ir/LatheRecurrentVJP.cpp), which must agree on the semantics.
#ifndef LATHE_IR_RECURRENTLAYER_H
#define LATHE_IR_RECURRENTLAYER_H

#include "ir/LatheOps.h"

#include <optional>
#include <type_traits>

namespace lathe {

enum class RecurrentCell { Rnn, Gru, Lstm };

/// One activation with the parameters the importer resolved.
struct RecurrentActivation {
  llvm::StringRef name;
  float alpha, beta;
};

struct RecurrentLayer {
  RecurrentCell cell;
  mlir::Value x, w, r, bias, lens, initH, initC, peep;
  int64_t seq, batch, input, hidden, dirs, layout, gates, functions;
  bool reverseOnly, linearBeforeReset = false, inputForget = false;
  std::optional<float> clip;
  llvm::SmallVector<RecurrentActivation> acts;
  mlir::Type et;

  int64_t gh() const { return gates * hidden; }
  /// Direction d runs from the last step to the first.
  bool reversed(int64_t d) const { return d == 1 || reverseOnly; }
  /// Activation i (f, g, h) of direction d.
  const RecurrentActivation &act(int64_t d, int64_t i) const {
    return acts[d * functions + i];
  }
};

/// The layer of `op`, with its operands taken from `values` (the op itself,
/// or a conversion pattern's adaptor). `gates` and `functions`: 1 and 1 for
/// RNN, 3 and 2 for GRU, 4 and 3 for LSTM.
template <typename OpT, typename ValuesT>
RecurrentLayer readRecurrentLayer(OpT op, ValuesT values, RecurrentCell cell,
                                  int64_t gates, int64_t functions) {
  RecurrentLayer l;
  auto xType = llvm::cast<mlir::RankedTensorType>(values.getX().getType());
  l.cell = cell;
  l.x = values.getX();
  l.w = values.getW();
  l.r = values.getR();
  l.bias = values.getB();
  l.lens = values.getSequenceLens();
  l.initH = values.getInitialH();
  l.et = xType.getElementType();
  l.layout = op.getLayout();
  l.seq = xType.getDimSize(l.layout ? 1 : 0);
  l.batch = xType.getDimSize(l.layout ? 0 : 1);
  l.input = xType.getDimSize(2);
  l.hidden = op.getHiddenSize();
  l.dirs = op.getDirection() == "bidirectional" ? 2 : 1;
  l.reverseOnly = op.getDirection() == "reverse";
  l.gates = gates;
  l.functions = functions;
  if (auto clip = op.getClip())
    l.clip = clip->convertToFloat();
  llvm::ArrayRef<float> alpha = op.getActivationAlpha(),
                        beta = op.getActivationBeta();
  for (auto [i, a] : llvm::enumerate(op.getActivations()))
    l.acts.push_back(
        {llvm::cast<mlir::StringAttr>(a).getValue(), alpha[i], beta[i]});
  if constexpr (std::is_same_v<OpT, GruOp>)
    l.linearBeforeReset = op.getLinearBeforeReset();
  if constexpr (std::is_same_v<OpT, LstmOp>) {
    l.initC = values.getInitialC();
    l.peep = values.getP();
    l.inputForget = op.getInputForget();
  }
  return l;
}

} // namespace lathe

#endif // LATHE_IR_RECURRENTLAYER_H
