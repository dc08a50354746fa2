// lathe-fuse-groups: realises the groups lathe-fuse chose, on linalg.
// Elementwise producers are fused into their consumers within a group (one
// loop nest; a reduction consumer recomputes them in its loop). An epilogue
// group is tiled along the output's parallel dims and the contraction is
// fused into the tile loop, so each tile of the Conv/Gemm result gets its
// bias and activation while it is still in cache.
#include "passes/FusionGroups.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/MapVector.h"

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_FUSEGROUPS
#include "passes/Passes.h.inc"

namespace {

/// Producer and consumer come from one fusion group, or are pieces of one
/// ONNX node's lowering (LayerNorm, Softmax) outside any group.
bool sameKernel(Operation *producer, Operation *consumer) {
  auto p = fusionGroupOf(producer), c = fusionGroupOf(consumer);
  if (p || c)
    return p && c && p->id == c->id;
  return isa<NameLoc>(producer->getLoc()) &&
         producer->getLoc() == consumer->getLoc();
}

/// Fusing would redo the producer's arithmetic for every element of a
/// broadcast: the consumer reads the operand through a map that drops loops
/// (a per-channel statistic read by every element of [N, C, H, W]) and the
/// producer computes something (a divide, a square root), where a copy or
/// a cast would cost nothing. Kept apart, it runs once per element of its
/// own small result.
bool computesPerBroadcast(OpOperand *fused) {
  auto consumer = dyn_cast<linalg::GenericOp>(fused->getOwner());
  auto producer = fused->get().getDefiningOp<linalg::GenericOp>();
  if (!consumer || !producer)
    return false;
  AffineMap map = consumer.getMatchingIndexingMap(fused);
  if (map.getNumResults() == map.getNumDims())
    return false;
  for (Operation &op : producer.getBody()->without_terminator())
    if (!isa<arith::ExtFOp, arith::TruncFOp, arith::BitcastOp>(op))
      return true;
  return false;
}

/// The largest divisor of `size` not above `limit` (tiles that divide their
/// dim keep every buffer static, so the memory planner can place it).
int64_t dividingTile(int64_t size, int64_t limit) {
  for (int64_t t = std::min(size, limit); t > 1; --t)
    if (size % t == 0)
      return t;
  return 1;
}

/// A convolution epilogue's tile: up to 16 output channels (the
/// micro-kernel's rows, 6 at a time), rows of the output up to 8192 elements.
/// Measured on ResNet-18's layers (16 x 8 x 56 against 32 x 4 and 64 x 2 on
/// a 56x56 layer); a layer with fewer channels than one micro-kernel's rows
/// (depthwise) keeps the generic tiles.
constexpr int64_t kConvTileChannels = 16, kMinConvTileChannels = 6,
                  kConvTileElements = 8192;
/// A matmul epilogue's tile: 64 columns, up to 32 rows.
constexpr int64_t kMatmulTileCols = 64, kMatmulTileRows = 32,
                  kMinMatmulTileRows = 8;

/// Tile sizes for the parallel loops of an epilogue: whole inner dims while
/// the tile stays within `budget` elements, the first dim that does not fit
/// split, outer dims one at a time.
SmallVector<OpFoldResult> epilogueTiles(OpBuilder &b, linalg::LinalgOp op,
                                        int64_t budget) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<OpFoldResult> tiles(ranges.size(), b.getIndexAttr(0));
  int64_t inner = 1;
  bool split = false;
  for (int64_t d = static_cast<int64_t>(ranges.size()) - 1; d >= 0; --d) {
    int64_t size = ranges[d];
    if (split) {
      tiles[d] = b.getIndexAttr(size == 1 ? 0 : 1);
    } else if (ShapedType::isDynamic(size)) {
      return SmallVector<OpFoldResult>(ranges.size(), b.getIndexAttr(0));
    } else if (inner * size > budget) {
      tiles[d] = b.getIndexAttr(dividingTile(size, budget / inner));
      split = true;
    }
    if (!ShapedType::isDynamic(size))
      inner *= size;
  }
  return tiles;
}

/// Tiles of one along the first `count` loops (none for a loop of size 1).
void appendUnitTiles(OpBuilder &b, ArrayRef<int64_t> ranges, int64_t count,
                     SmallVectorImpl<OpFoldResult> &tiles) {
  for (int64_t d = 0; d < count; ++d)
    tiles.push_back(b.getIndexAttr(ranges[d] == 1 ? 0 : 1));
}

/// Tile sizes for the epilogue of a convolution with `spatial` spatial dims
/// (loops [.., F, R, rest...]): several output channels (F) and output rows
/// (R) per tile, the rest whole. lathe-tile-matmul's micro-kernel makes the
/// channels its rows, so that each input vector it loads feeds up to 6 FMAs;
/// a tile of one channel and the whole image (what epilogueTiles gives a
/// 56x56 layer) left one channel per micro-kernel, a load per FMA, and the
/// whole input read again from L2 for every channel (ResNet-18's 64-channel
/// 3x3 layers ran at 46 GFLOP/s, against 78 with 16 channels x 8 rows).
SmallVector<OpFoldResult> convEpilogueTiles(OpBuilder &b, linalg::LinalgOp op,
                                            int64_t spatial, int64_t budget) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t rank = ranges.size(), f = rank - spatial - 1;
  if (f < 0 || llvm::any_of(ranges, ShapedType::isDynamic) ||
      ranges[f] < kMinConvTileChannels)
    return epilogueTiles(b, op, budget);
  SmallVector<OpFoldResult> tiles;
  appendUnitTiles(b, ranges, f, tiles);
  int64_t rest = 1;
  for (int64_t d = f + 2; d < rank; ++d)
    rest *= ranges[d];
  int64_t channels = dividingTile(ranges[f], kConvTileChannels);
  int64_t rows = dividingTile(ranges[f + 1],
                              std::max<int64_t>(1, budget / (channels * rest)));
  // A small image fits whole: more channels fill the tile instead.
  if (rows == ranges[f + 1])
    channels =
        dividingTile(ranges[f], std::max(channels, budget / (rows * rest)));
  tiles.push_back(b.getIndexAttr(channels));
  tiles.push_back(b.getIndexAttr(rows));
  for (int64_t d = f + 2; d < rank; ++d)
    tiles.push_back(b.getIndexAttr(0));
  return tiles;
}

/// Tile sizes for the epilogue of a matmul (loops [.., M, N]): 64 columns
/// and up to 32 rows. Whole rows (what epilogueTiles gives: 8 x 512 for a
/// batch-64 MLP layer) made every tile read the whole weight matrix; with
/// 64 columns each tile reads its own 64 columns of B, and B is read once
/// per call. Measured on the MLP 784-512-512-10 at batch 64: 1.22 ms with
/// 8 x 512, 1.08 with 64 x 64, 1.04 with 32 x 64 (one thread); 0.60-0.71
/// against 0.53-0.54 ms on two. Fewer than 8 rows (a batch-1 layer) keep
/// the generic tiles.
SmallVector<OpFoldResult> matmulEpilogueTiles(OpBuilder &b, linalg::LinalgOp op,
                                              int64_t budget) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t rank = ranges.size();
  if (rank < 2 || llvm::any_of(ranges, ShapedType::isDynamic) ||
      ranges[rank - 2] < kMinMatmulTileRows)
    return epilogueTiles(b, op, budget);
  SmallVector<OpFoldResult> tiles;
  appendUnitTiles(b, ranges, rank - 2, tiles);
  int64_t cols = dividingTile(ranges[rank - 1], kMatmulTileCols);
  int64_t rows = dividingTile(
      ranges[rank - 2], std::clamp<int64_t>(budget / cols, 1, kMatmulTileRows));
  tiles.push_back(b.getIndexAttr(rows));
  tiles.push_back(b.getIndexAttr(cols));
  return tiles;
}

/// Whether `e` decreases along some loop dim (a flipped kernel's `2 - k`).
bool decreases(AffineExpr e) {
  bool found = false;
  e.walk([&](AffineExpr sub) {
    if (sub.getKind() != AffineExprKind::Mul)
      return;
    auto rhs =
        dyn_cast<AffineConstantExpr>(cast<AffineBinaryOpExpr>(sub).getRHS());
    found |= rhs && rhs.getValue() < 0;
  });
  return found;
}

/// What tiling an epilogue group needs to know of all its ops.
struct GroupFacts {
  /// The spatial dims of the group's convolution (its reduction loops are
  /// the input channels and the kernel window); 0 for a matmul.
  int64_t spatial = 0;
  /// An op reads an operand through a decreasing map (ConvTranspose's
  /// flipped kernel). Upstream's slice computation for a fused producer
  /// takes the map at the first and last index of each loop as the slice's
  /// bounds, which for a decreasing map gives a slice of one element: such
  /// a group is left untiled.
  bool decreasing = false;
};

struct FuseGroupsPass : impl::FuseGroupsBase<FuseGroupsPass> {
  using FuseGroupsBase::FuseGroupsBase;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    linalg::populateElementwiseOpsFusionPatterns(
        patterns, [](OpOperand *fused) {
          Operation *producer = fused->get().getDefiningOp();
          return producer && sameKernel(producer, fused->getOwner()) &&
                 !computesPerBroadcast(fused);
        });
    // A reshape between a contraction and its epilogue (grouped Conv's
    // collapse of [N, G, F/G, ...]) moves past the epilogue, so that the
    // epilogue reads the contraction's result directly.
    linalg::populateFoldReshapeOpsByExpansionPatterns(
        patterns, [](OpOperand *fused) {
          Operation *reshape = fused->get().getDefiningOp();
          return reshape && sameKernel(reshape, fused->getOwner());
        });
    linalg::GenericOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::EmptyOp::getCanonicalizationPatterns(patterns, ctx);
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    getOperation().walk([&](func::FuncOp func) {
      if (failed(tileEpilogues(func)))
        signalPassFailure();
    });
    // The untiled ops are dead now; erased here so that no later pass sees
    // (or bufferizes) the whole-tensor versions.
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            RewritePatternSet(ctx))))
      return signalPassFailure();
  }

  LogicalResult tileEpilogues(func::FuncOp func) {
    // The last linalg op of each epilogue group reads the others' results.
    llvm::MapVector<int64_t, linalg::LinalgOp> last;
    llvm::DenseMap<int64_t, GroupFacts> facts;
    func.walk([&](linalg::LinalgOp op) {
      auto group = fusionGroupOf(op);
      if (!group)
        return;
      GroupFacts &f = facts[group->id];
      if (op.getNumReductionLoops() >= 2)
        f.spatial = op.getNumReductionLoops() - 1;
      for (AffineMap map : op.getIndexingMapsArray())
        f.decreasing |= llvm::any_of(map.getResults(), decreases);
      if (group->kind == "epilogue" && op->getNumResults() == 1)
        last[group->id] = op;
    });
    IRRewriter rewriter(&getContext());
    for (auto &[id, consumer] : last) {
      auto tileable = dyn_cast<TilingInterface>(consumer.getOperation());
      if (!tileable || consumer.getNumReductionLoops() != 0)
        continue; // the contraction alone: nothing to fuse
      int64_t groupId = id;
      if (facts[groupId].decreasing)
        continue;
      scf::SCFTileAndFuseOptions options;
      rewriter.setInsertionPoint(consumer);
      int64_t spatial = facts[groupId].spatial;
      options.tilingOptions.setTileSizes(
          spatial ? convEpilogueTiles(rewriter, consumer, spatial,
                                      kConvTileElements)
                  : matmulEpilogueTiles(rewriter, consumer, tileElements));
      // Only the group's own linalg ops move into the loop; a padded input
      // stays a whole tensor computed once.
      options.setFusionControlFn([&](tensor::ExtractSliceOp, OpResult producer,
                                     bool) {
        Operation *op = producer.getOwner();
        auto group = fusionGroupOf(op);
        bool fuse = isa<linalg::LinalgOp>(op) && group && group->id == groupId;
        return std::make_tuple(fuse, false);
      });
      FailureOr<scf::SCFTileAndFuseResult> result =
          scf::tileConsumerAndFuseProducersUsingSCF(rewriter, tileable,
                                                    options);
      if (failed(result))
        return consumer.emitError("lathe-fuse-groups: cannot tile the "
                                  "epilogue of fusion group ")
               << id;
      for (OpResult r : consumer->getResults())
        if (Value replacement = result->replacements.lookup(r))
          rewriter.replaceAllUsesWith(r, replacement);
      // Tiles of an epilogue are independent (only parallel dims are
      // tiled): lathe-parallelize may hand them to the thread pool. Every
      // loop is marked, since a loop of one trip folds away later.
      for (LoopLikeOpInterface loop : result->loops)
        loop->setAttr(kParallelTilesAttr, rewriter.getUnitAttr());
    }
    return success();
  }
};

} // namespace
} // namespace lathe
