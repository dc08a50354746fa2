// lathe-fuse: decides which lathe ops run as one kernel. Groups are
// recorded as attributes (for people and tools: lathe inspect, lathe graph)
// and in the ops' locations (for lathe-fuse-groups, after lowering).
#include "passes/FusionGroups.h"
#include "passes/Passes.h"

#include "ir/LatheOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/EquivalenceClasses.h"
#include "llvm/ADT/MapVector.h"

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_FUSEOPS
#include "passes/Passes.h.inc"

static constexpr llvm::StringLiteral kMetadataKey = "lathe.fusion_group";

Location withoutFusionGroup(Location loc) {
  if (auto fused = dyn_cast<FusedLoc>(loc))
    if (auto meta = dyn_cast_or_null<DictionaryAttr>(fused.getMetadata()))
      if (meta.contains(kMetadataKey) && fused.getLocations().size() == 1)
        return fused.getLocations().front();
  return loc;
}

Location withFusionGroup(Location loc, int64_t id, StringRef kind) {
  loc = withoutFusionGroup(loc);
  MLIRContext *ctx = loc.getContext();
  Builder b(ctx);
  auto meta = b.getDictionaryAttr(
      {b.getNamedAttr(kMetadataKey, b.getI64IntegerAttr(id)),
       b.getNamedAttr("lathe.fusion_kind", b.getStringAttr(kind))});
  return FusedLoc::get(ctx, {loc}, meta);
}

std::optional<FusionGroup> fusionGroupOf(Location loc) {
  auto fused = dyn_cast<FusedLoc>(loc);
  if (!fused)
    return std::nullopt;
  auto meta = dyn_cast_or_null<DictionaryAttr>(fused.getMetadata());
  if (!meta || !meta.contains(kMetadataKey)) {
    // Rewrites that merge ops (elementwise fusion, folding a 0-d constant
    // into the body) fuse their locations: the result belongs to the group
    // its grouped parts agree on. A Clip's max and min merged this way had
    // lost their epilogue, which then ran as a kernel of its own.
    std::optional<FusionGroup> found;
    for (Location part : fused.getLocations()) {
      std::optional<FusionGroup> g = fusionGroupOf(part);
      if (!g)
        continue;
      if (found && found->id != g->id)
        return std::nullopt;
      found = g;
    }
    return found;
  }
  auto id = meta.getAs<IntegerAttr>(kMetadataKey);
  auto kind = meta.getAs<StringAttr>("lathe.fusion_kind");
  if (!id || !kind)
    return std::nullopt;
  return FusionGroup{id.getInt(), kind.getValue()};
}

namespace {

bool isElementwise(Operation *op) {
  return op->hasTrait<OpTrait::Elementwise>() && op->getNumResults() == 1;
}

bool isContraction(Operation *op) {
  return isa<ConvOp, ConvTransposeOp, GemmOp, MatMulOp>(op);
}

bool sameShape(Value a, Value b) {
  auto ta = dyn_cast<RankedTensorType>(a.getType());
  auto tb = dyn_cast<RankedTensorType>(b.getType());
  return ta && tb && ta.getShape() == tb.getShape();
}

/// The one op that reads `v`, when there is exactly one use.
Operation *soleUser(Value v) {
  return v.hasOneUse() ? *v.getUsers().begin() : nullptr;
}

struct FuseOpsPass : impl::FuseOpsBase<FuseOpsPass> {
  void runOnOperation() override {
    getOperation().walk([&](func::FuncOp func) { formGroups(func); });
  }

  void formGroups(func::FuncOp func) {
    llvm::MapVector<Operation *, std::pair<int64_t, StringRef>> groups;
    int64_t next = 0;
    auto assign = [&](ArrayRef<Operation *> ops, StringRef kind) {
      for (Operation *op : ops)
        groups[op] = {next, kind};
      ++next;
    };
    Block &body = func.getBody().front();

    // Epilogues: bias, scale, residual adds and activations that read the
    // result of a contraction (and nothing else does) become part of it, as
    // long as they do not change the shape.
    for (Operation &op : body) {
      if (!isContraction(&op) || op.getNumResults() != 1)
        continue;
      SmallVector<Operation *> chain = {&op};
      Value current = op.getResult(0);
      while (Operation *user = soleUser(current)) {
        if (!isElementwise(user) || groups.count(user) ||
            !sameShape(user->getResult(0), op.getResult(0)))
          break;
        chain.push_back(user);
        current = user->getResult(0);
      }
      if (chain.size() == 1)
        continue;
      // Side inputs of the epilogue computed elementwise for it alone (an
      // optimizer's `momentum * velocity` next to the weight gradient) join
      // too: they are computed per tile instead of being written to a full
      // buffer and read back.
      for (size_t i = 1; i < chain.size(); ++i)
        for (Value operand : chain[i]->getOperands()) {
          Operation *def = operand.getDefiningOp();
          if (def && isElementwise(def) && !groups.count(def) &&
              !llvm::is_contained(chain, def) &&
              soleUser(def->getResult(0)) == chain[i] &&
              sameShape(def->getResult(0), op.getResult(0)))
            chain.push_back(def);
        }
      assign(chain, "epilogue");
    }

    // Softmax: elementwise producers that feed only the softmax are
    // recomputed inside its reduction and normalisation loops.
    for (Operation &op : body) {
      if (!isa<SoftmaxOp, LogSoftmaxOp>(op))
        continue;
      SmallVector<Operation *> members = {&op};
      for (size_t i = 0; i < members.size(); ++i)
        for (Value operand : members[i]->getOperands()) {
          Operation *def = operand.getDefiningOp();
          if (def && isElementwise(def) && !groups.count(def) &&
              soleUser(def->getResult(0)) == members[i] &&
              sameShape(def->getResult(0), op.getResult(0)))
            members.push_back(def);
        }
      assign(members, "softmax");
    }

    // Elementwise chains: a producer whose only reader is an elementwise op
    // of the same shape joins that op's loop nest.
    llvm::EquivalenceClasses<Operation *> classes;
    for (Operation &op : body) {
      if (!isElementwise(&op) || groups.count(&op))
        continue;
      classes.insert(&op);
      for (Value operand : op.getOperands()) {
        Operation *def = operand.getDefiningOp();
        if (def && isElementwise(def) && !groups.count(def) &&
            soleUser(def->getResult(0)) == &op &&
            sameShape(def->getResult(0), op.getResult(0)))
          classes.unionSets(def, &op);
      }
    }
    for (auto it = classes.begin(); it != classes.end(); ++it) {
      if (!it->isLeader())
        continue;
      SmallVector<Operation *> members(classes.member_begin(it),
                                       classes.member_end());
      if (members.size() < 2)
        continue;
      llvm::sort(members, [](Operation *a, Operation *b) {
        return a->isBeforeInBlock(b);
      });
      assign(members, "elementwise");
    }

    // Numbered in program order, so that dumps read top to bottom.
    llvm::DenseMap<int64_t, int64_t> renumber;
    for (Operation &op : body) {
      auto it = groups.find(&op);
      if (it == groups.end())
        continue;
      int64_t id =
          renumber.try_emplace(it->second.first, renumber.size()).first->second;
      Builder b(&op);
      op.setAttr("lathe.fusion_group", b.getI64IntegerAttr(id));
      op.setAttr("lathe.fusion_kind", b.getStringAttr(it->second.second));
      op.setLoc(withFusionGroup(op.getLoc(), id, it->second.second));
    }
  }
};

} // namespace
} // namespace lathe
