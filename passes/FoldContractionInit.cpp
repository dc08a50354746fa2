// lathe-fold-contraction-init: the op that sets a contraction's output
// before it accumulates (a convolution's bias broadcast, the zero fill of a
// gradient) becomes part of the contraction.
//
// On buffers the two are separate loop nests: the init writes the whole
// output (for a convolution's activation, megabytes), and the contraction's
// register tiles read it back as their starting value. Folded, the
// contraction adds its first product to the init value instead of to the
// output's contents,
//
//   out = select(every reduction index is 0, init, out) + a * b
//
// which is still an ordinary linalg.generic (its loops give the same
// result however they are run: each output element's first visit is the
// one at reduction index 0), marked with kContractionInitAttr so that
// lathe-tile-matmul starts its accumulators from the init value. The
// buffer is then written once.
#include "passes/MatchContraction.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_FOLDCONTRACTIONINIT
#include "passes/Passes.h.inc"

namespace {

/// What an init op writes into the whole of its output.
struct Init {
  Operation *op;
  Value input;     // a broadcast's source, or null
  AffineMap map;   // the source's indexing map over the output's dims
  FloatAttr value; // a fill's constant
};

/// `op` as an init: a fill with a float constant, or a generic that copies
/// (broadcasts) one input into its output through an identity output map.
std::optional<Init> asInit(Operation *op) {
  if (auto fill = dyn_cast<linalg::FillOp>(op)) {
    FloatAttr value;
    if (!fill.hasPureBufferSemantics() ||
        !matchPattern(fill.getInputs()[0], m_Constant(&value)))
      return std::nullopt;
    return Init{op, Value(), AffineMap(), value};
  }
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || !generic.hasPureBufferSemantics() ||
      generic.getNumDpsInputs() != 1 || generic.getNumDpsInits() != 1 ||
      generic.getNumParallelLoops() != generic.getNumLoops())
    return std::nullopt;
  Block &body = generic.getRegion().front();
  if (body.getOperations().size() != 1 ||
      body.getTerminator()->getOperand(0) != body.getArgument(0))
    return std::nullopt;
  SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
  if (!maps[1].isIdentity() || !maps[0].isProjectedPermutation(true))
    return std::nullopt;
  return Init{op, generic.getDpsInputOperand(0)->get(), maps[0], FloatAttr()};
}

/// The op before `op` in its block that touches memory (views, reshapes
/// and constants in between only name memory).
Operation *previousEffect(Operation *op) {
  for (Operation *p = op->getPrevNode(); p; p = p->getPrevNode())
    if (!isMemoryEffectFree(p) || p->getNumRegions() > 0)
      return p;
  return nullptr;
}

void fold(linalg::GenericOp contraction, const Init &init) {
  OpBuilder b(contraction);
  Location loc = contraction.getLoc();
  Value out = contraction.getDpsInitOperand(0)->get();
  SmallVector<Value> inputs = contraction.getDpsInputs();
  SmallVector<AffineMap> maps = contraction.getIndexingMapsArray();
  AffineMap outMap = maps.back();
  if (init.input) {
    inputs.push_back(init.input);
    // The source's indices over the output's dims, composed with the
    // output's indices over the contraction's loops.
    maps.insert(maps.end() - 1, init.map.compose(outMap));
  }
  auto folded =
      b.create<linalg::GenericOp>(loc, TypeRange(), inputs, ValueRange{out},
                                  maps, contraction.getIteratorTypesArray());
  for (NamedAttribute attr : contraction->getDiscardableAttrs())
    folded->setAttr(attr.getName(), attr.getValue());
  folded->setAttr(kContractionInitAttr,
                  init.input ? Attribute(b.getI64IntegerAttr(inputs.size() - 1))
                             : Attribute(init.value));

  Block &oldBody = contraction.getRegion().front();
  Block *body = b.createBlock(&folded.getRegion());
  IRMapping map;
  unsigned numOld = contraction.getNumDpsInputs();
  for (unsigned i = 0; i < numOld; ++i)
    map.map(oldBody.getArgument(i),
            body->addArgument(oldBody.getArgument(i).getType(), loc));
  Type et = oldBody.getArguments().back().getType();
  Value initArg = init.input ? body->addArgument(et, loc) : Value();
  Value outArg = body->addArgument(et, loc);
  b.setInsertionPointToStart(body);
  // first = every reduction index is 0.
  Value first;
  Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
  for (auto [d, type] : llvm::enumerate(contraction.getIteratorTypesArray())) {
    if (type != utils::IteratorType::reduction)
      continue;
    Value index = b.create<linalg::IndexOp>(loc, d);
    Value isZero =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, index, zero);
    first = first ? b.create<arith::AndIOp>(loc, first, isZero).getResult()
                  : isZero;
  }
  if (!initArg)
    initArg = b.create<arith::ConstantOp>(loc, init.value);
  Value start = b.create<arith::SelectOp>(loc, first, initArg, outArg);
  map.map(oldBody.getArguments().back(), start);
  for (Operation &op : oldBody)
    b.clone(op, map);
  init.op->erase();
  contraction.erase();
}

struct FoldContractionInitPass
    : impl::FoldContractionInitBase<FoldContractionInitPass> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> contractions;
    getOperation().walk([&](linalg::GenericOp op) {
      if (op.hasPureBufferSemantics() && op.getNumDpsInits() == 1 &&
          !op->hasAttr(kContractionInitAttr) && looksLikeContraction(op))
        contractions.push_back(op);
    });
    for (linalg::GenericOp op : contractions) {
      Operation *prev = previousEffect(op);
      std::optional<Init> init = prev ? asInit(prev) : std::nullopt;
      if (!init)
        continue;
      Value out = op.getDpsInitOperand(0)->get();
      Value written =
          cast<DestinationStyleOpInterface>(prev).getDpsInitOperand(0)->get();
      // The init must write exactly the contraction's output, and the
      // contraction must read the output only as its accumulator.
      if (!sameMemory(written, out) ||
          (init->input && sameMemory(init->input, out)) ||
          !op.getMatchingIndexingMap(op.getDpsInitOperand(0))
               .isProjectedPermutation() ||
          llvm::any_of(op.getDpsInputs(),
                       [&](Value in) { return sameMemory(in, out); }))
        continue;
      fold(op, *init);
    }
  }
};

} // namespace
} // namespace lathe
