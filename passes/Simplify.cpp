// lathe-simplify: the algebraic identities of the lathe ops (their folders and
// canonicalization patterns, defined with the ops in ir/) applied on their
// own, so that the pipeline runs them before BatchNorm folding and fusion
// without waiting for a full upstream canonicalization.
#include "ir/LatheDialect.h"
#include "ir/LatheOps.h"
#include "passes/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_SIMPLIFY
#include "passes/Passes.h.inc"

namespace {

struct SimplifyPass : impl::SimplifyBase<SimplifyPass> {
  LogicalResult initialize(MLIRContext *ctx) override {
    RewritePatternSet set(ctx);
    Dialect *lathe = ctx->getLoadedDialect<LatheDialect>();
    lathe->getCanonicalizationPatterns(set);
    for (RegisteredOperationName op : ctx->getRegisteredOperations())
      if (&op.getDialect() == lathe)
        op.getCanonicalizationPatterns(set, ctx);
    patterns = FrozenRewritePatternSet(std::move(set));
    return success();
  }

  void runOnOperation() override {
    // Folders of every op run too; the greedy driver also erases dead ops.
    if (failed(applyPatternsAndFoldGreedily(getOperation(), patterns)))
      signalPassFailure();
  }

  FrozenRewritePatternSet patterns;
};

} // namespace
} // namespace lathe
