// lathe-parallelize: a kernel with enough work gets its parallel outer loop
// cut into a fixed number of tasks, and its function takes the range of
// tasks to run: @lathe_kernel_N(buffers..., %begin, %end). The call in @main
// passes the whole range [0, tasks) and the kernel is marked
// `lathe.parallel_tasks`; lathe-lower-parallel-calls turns that call into
// one to the runtime's thread pool (lathe_parallel_for), which gives each
// thread a contiguous range of tasks.
//
// The number of tasks is fixed here, not by the thread count at run time,
// so a task computes the same elements with the same code whatever the
// number of threads: results never depend on it. Only parallel loop dims
// are cut (never a reduction), and every output is indexed by the cut dim,
// so tasks write disjoint elements.
#include "passes/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_PARALLELIZE
#include "passes/Passes.h.inc"

namespace {

/// Vector-friendly task widths along a buffer's innermost dim: a multiple
/// of the widest register tile (16 f32) keeps lathe-tile-matmul's tiles
/// whole.
constexpr int64_t kInnerChunkMultiple = 16;

struct Plan {
  unsigned dim = 0;
  int64_t tasks = 0;
};

int64_t bytesOf(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  if (!type || !type.hasStaticShape())
    return 0;
  return type.getNumElements() *
         std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
}

bool mapUses(AffineMap map, unsigned dim) { return map.isFunctionOfDim(dim); }

/// The result of `map` that is exactly loop dim `dim`, if any.
std::optional<unsigned> resultOfDim(AffineMap map, unsigned dim) {
  for (unsigned r = 0; r < map.getNumResults(); ++r)
    if (auto e = dyn_cast<AffineDimExpr>(map.getResult(r)))
      if (e.getPosition() == dim)
        return r;
  return std::nullopt;
}

struct ParallelizePass : impl::ParallelizeBase<ParallelizePass> {
  using ParallelizeBase::ParallelizeBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main)
      return;
    SmallVector<func::CallOp> calls;
    main.walk([&](func::CallOp call) { calls.push_back(call); });
    for (func::CallOp call : calls) {
      auto kernel = module.lookupSymbol<func::FuncOp>(call.getCallee());
      if (!kernel || !kernel->hasAttr("no_inline") ||
          !kernel.getBody().hasOneBlock() ||
          kernel->hasAttr("lathe.parallel_tasks"))
        continue;
      auto uses = SymbolTable::getSymbolUses(kernel, module);
      if (!uses || !llvm::hasSingleElement(*uses))
        continue;
      if (failed(parallelize(kernel, call)))
        return signalPassFailure();
    }
  }

  /// The kernel's loop nest: its only op with regions (the rest are views
  /// and constants lathe-outline-kernels cloned in).
  linalg::LinalgOp kernelOp(func::FuncOp kernel) {
    linalg::LinalgOp found;
    for (Operation &op : kernel.getBody().front()) {
      if (isa<func::ReturnOp>(op))
        continue;
      if (auto linalg = dyn_cast<linalg::LinalgOp>(op)) {
        if (found)
          return {};
        found = linalg;
      } else if (op.getNumRegions() > 0) {
        return {};
      }
    }
    return found;
  }

  std::optional<Plan> plan(linalg::LinalgOp op) {
    if (!op.hasPureBufferSemantics())
      return std::nullopt;
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    int64_t points = 1;
    for (int64_t r : ranges) {
      if (ShapedType::isDynamic(r))
        return std::nullopt;
      points *= r;
    }
    int64_t bodyOps = 1;
    if (op->getNumRegions() == 1)
      bodyOps = std::max<int64_t>(
          1, static_cast<int64_t>(
                 op->getRegion(0).front().getOperations().size()) -
                 1);
    int64_t work = points * bodyOps;
    if (work < minWork)
      return std::nullopt;

    SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    std::optional<Plan> best;
    int64_t bestDup = 0;
    bool bestEven = false;
    for (unsigned d = 0; d < ranges.size(); ++d) {
      if (iterators[d] != utils::IteratorType::parallel || ranges[d] < 2)
        continue;
      // Every output must be indexed by d: tasks then write disjoint
      // elements. Inputs not indexed by d are read whole by every task.
      bool ok = true, innermost = false;
      int64_t dup = 0;
      for (OpOperand &operand : op->getOpOperands()) {
        AffineMap map = maps[operand.getOperandNumber()];
        if (op.isDpsInit(&operand)) {
          std::optional<unsigned> r = resultOfDim(map, d);
          if (!r) {
            ok = false;
            break;
          }
          innermost |= *r + 1 == map.getNumResults();
        } else if (!mapUses(map, d)) {
          dup += bytesOf(operand.get());
        }
      }
      if (!ok)
        continue;
      // The most tasks (up to maxTasks) that divide the dim, keep each
      // task worth a parallel call and, along the vector dim, keep whole
      // register tiles. An even count splits evenly over two threads.
      int64_t tasks = 0;
      for (int64_t t = std::min<int64_t>(maxTasks, ranges[d]); t >= 2; --t) {
        int64_t chunk = ranges[d] / t;
        if (ranges[d] % t != 0 || work / t < minWork / 2)
          continue;
        if (innermost && chunk % kInnerChunkMultiple != 0)
          continue;
        tasks = t;
        break;
      }
      if (tasks == 0)
        continue;
      bool even = tasks % 2 == 0;
      if (!best || (even && !bestEven) || (even == bestEven && dup < bestDup)) {
        best = Plan{d, tasks};
        bestDup = dup;
        bestEven = even;
      }
    }
    return best;
  }

  LogicalResult parallelize(func::FuncOp kernel, func::CallOp call) {
    linalg::LinalgOp op = kernelOp(kernel);
    if (!op)
      return success();
    std::optional<Plan> p = plan(op);
    if (!p)
      return success();
    int64_t extent = op.getStaticLoopRanges()[p->dim];
    int64_t chunk = extent / p->tasks;

    IRRewriter rewriter(kernel.getContext());
    rewriter.setInsertionPoint(op);
    SmallVector<int64_t> sizes(op.getNumLoops(), 0);
    sizes[p->dim] = chunk;
    linalg::LinalgTilingOptions options;
    options.setTileSizes(sizes);
    options.setLoopType(linalg::LinalgTilingLoopType::Loops);
    FailureOr<linalg::TiledLinalgOp> tiled =
        linalg::tileLinalgOp(rewriter, op, options);
    if (failed(tiled) || tiled->loops.size() != 1)
      return op.emitError("lathe-parallelize: cannot cut the loop nest into "
                          "tasks along dim ")
             << p->dim;
    rewriter.eraseOp(op);
    auto loop = cast<scf::ForOp>(tiled->loops.front());

    // The kernel runs tasks [begin, end): iterations begin*chunk to
    // end*chunk of the tiled loop.
    Block &body = kernel.getBody().front();
    Location loc = kernel.getLoc();
    IndexType index = rewriter.getIndexType();
    Value begin = body.addArgument(index, loc);
    Value end = body.addArgument(index, loc);
    rewriter.setInsertionPoint(loop);
    Value step = rewriter.create<arith::ConstantIndexOp>(loc, chunk);
    loop.setLowerBound(rewriter.create<arith::MulIOp>(loc, begin, step));
    loop.setUpperBound(rewriter.create<arith::MulIOp>(loc, end, step));
    kernel.setType(rewriter.getFunctionType(body.getArgumentTypes(), {}));
    kernel->setAttr("lathe.parallel_tasks",
                    rewriter.getI64IntegerAttr(p->tasks));

    rewriter.setInsertionPoint(call);
    SmallVector<Value> operands(call.getOperands());
    operands.push_back(rewriter.create<arith::ConstantIndexOp>(loc, 0));
    operands.push_back(rewriter.create<arith::ConstantIndexOp>(loc, p->tasks));
    rewriter.replaceOpWithNewOp<func::CallOp>(call, kernel, operands);
    return success();
  }
};

} // namespace
} // namespace lathe
