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
//
// A kernel that is an epilogue's tile loop (lathe-fuse-groups, marked
// `lathe.parallel_tiles`) is cut along that loop instead: its iterations
// write disjoint tiles. Its per-tile scratch buffers, one arena slot shared
// by all iterations, become stack buffers of the kernel function, so each
// thread has its own.
#include "passes/FusionGroups.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_PARALLELIZE
#include "passes/Passes.h.inc"

namespace {

/// Vector-friendly task widths along a buffer's innermost dim: a multiple
/// of the widest register tile (16 f32) keeps lathe-tile-matmul's tiles
/// whole.
constexpr int64_t kInnerChunkMultiple = 16;

/// Per-thread scratch of a tile loop lives on the stack (worker threads
/// have the default 8 MiB); more than this stays serial.
constexpr int64_t kMaxScratchBytes = 256 * 1024;

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

/// Whether `dim` appears in `map` only as whole results (`d`, never `d + k`
/// as a convolution's input window does): cutting it then gives every
/// operand a static-size slice, which lathe-tile-matmul needs.
bool onlyPlainUses(AffineMap map, unsigned dim) {
  for (AffineExpr e : map.getResults())
    if (e.isFunctionOfDim(dim) && !isa<AffineDimExpr>(e))
      return false;
  return true;
}

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
  Operation *kernelOp(func::FuncOp kernel) {
    Operation *found = nullptr;
    for (Operation &op : kernel.getBody().front()) {
      if (op.getNumRegions() == 0)
        continue;
      if (found)
        return nullptr;
      found = &op;
    }
    return found;
  }

  /// Loop points times body ops of every linalg op in `root`.
  static int64_t workOf(Operation *root) {
    int64_t work = 0;
    root->walk([&](linalg::LinalgOp op) {
      int64_t points = 1;
      for (int64_t r : op.getStaticLoopRanges())
        points *= ShapedType::isDynamic(r) ? 1 : r;
      int64_t bodyOps = 1;
      if (op->getNumRegions() == 1)
        bodyOps = std::max<int64_t>(
            1, static_cast<int64_t>(
                   op->getRegion(0).front().getOperations().size()) -
                   1);
      work += points * bodyOps;
    });
    return work;
  }

  std::optional<Plan> plan(linalg::LinalgOp op) {
    if (!op.hasPureBufferSemantics())
      return std::nullopt;
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    if (llvm::any_of(ranges, ShapedType::isDynamic))
      return std::nullopt;
    int64_t work = workOf(op);
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
        if (!onlyPlainUses(map, d)) {
          ok = false;
          break;
        }
        if (op.isDpsInit(&operand)) {
          std::optional<unsigned> r = resultOfDim(map, d);
          if (!r) {
            ok = false;
            break;
          }
          innermost |= *r + 1 == map.getNumResults();
        } else if (!map.isFunctionOfDim(d)) {
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
    Operation *root = kernelOp(kernel);
    if (auto loop = dyn_cast_or_null<scf::ForOp>(root))
      if (loop->hasAttr(kParallelTilesAttr))
        return parallelizeTiles(kernel, call, loop);
    auto op = dyn_cast_or_null<linalg::LinalgOp>(root);
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
    restrictToTasks(kernel, call, loop, /*lower=*/0, /*iterationsPerTask=*/1,
                    chunk, p->tasks);
    return success();
  }

  /// Makes `loop` (iterations from `lower` by `step`) run only tasks
  /// [begin, end) of `tasks`, `iterationsPerTask` iterations each, with
  /// (begin, end) new arguments of the kernel; the call passes [0, tasks).
  void restrictToTasks(func::FuncOp kernel, func::CallOp call, scf::ForOp loop,
                       int64_t lower, int64_t iterationsPerTask, int64_t step,
                       int64_t tasks) {
    IRRewriter rewriter(kernel.getContext());
    Block &body = kernel.getBody().front();
    Location loc = kernel.getLoc();
    IndexType index = rewriter.getIndexType();
    Value begin = body.addArgument(index, loc);
    Value end = body.addArgument(index, loc);
    rewriter.setInsertionPoint(loop);
    Value span =
        rewriter.create<arith::ConstantIndexOp>(loc, iterationsPerTask * step);
    Value base = rewriter.create<arith::ConstantIndexOp>(loc, lower);
    auto bound = [&](Value task) -> Value {
      Value offset = rewriter.create<arith::MulIOp>(loc, task, span);
      return rewriter.create<arith::AddIOp>(loc, base, offset);
    };
    loop.setLowerBound(bound(begin));
    loop.setUpperBound(bound(end));
    kernel.setType(rewriter.getFunctionType(body.getArgumentTypes(), {}));
    kernel->setAttr("lathe.parallel_tasks", rewriter.getI64IntegerAttr(tasks));

    rewriter.setInsertionPoint(call);
    SmallVector<Value> operands(call.getOperands());
    operands.push_back(rewriter.create<arith::ConstantIndexOp>(loc, 0));
    operands.push_back(rewriter.create<arith::ConstantIndexOp>(loc, tasks));
    rewriter.replaceOpWithNewOp<func::CallOp>(call, kernel, operands);
  }

  /// Whether `v` (a buffer written in `loop`) is a view with an offset that
  /// depends on the loop's induction variable: each iteration then writes
  /// a part of its own.
  static bool indexedByLoop(Value v, scf::ForOp loop) {
    while (Operation *def = v.getDefiningOp()) {
      if (auto sub = dyn_cast<memref::SubViewOp>(def)) {
        llvm::SetVector<Value> seen;
        SmallVector<Value> work(sub.getOffsets().begin(),
                                sub.getOffsets().end());
        while (!work.empty()) {
          Value x = work.pop_back_val();
          if (x == loop.getInductionVar())
            return true;
          if (Operation *d = x.getDefiningOp())
            if (loop->isAncestor(d))
              for (Value operand : d->getOperands())
                if (seen.insert(operand))
                  work.push_back(operand);
        }
        v = sub.getSource();
      } else if (isa<memref::ExpandShapeOp, memref::CollapseShapeOp,
                     memref::CastOp>(def)) {
        v = def->getOperand(0);
      } else {
        return false;
      }
    }
    return false;
  }

  LogicalResult parallelizeTiles(func::FuncOp kernel, func::CallOp call,
                                 scf::ForOp loop) {
    if (loop.getNumResults() != 0)
      return success();
    std::optional<int64_t> lb = getConstantIntValue(loop.getLowerBound());
    std::optional<int64_t> ub = getConstantIntValue(loop.getUpperBound());
    std::optional<int64_t> step = getConstantIntValue(loop.getStep());
    if (!lb || !ub || !step || *step <= 0 || *ub <= *lb ||
        (*ub - *lb) % *step != 0)
      return success();
    int64_t trips = (*ub - *lb) / *step;
    int64_t work = workOf(loop) * trips;
    if (trips < 2 || work < minWork)
      return success();

    // Buffers written in the loop but not indexed by its induction variable
    // are the tiles' scratch (one arena slot for every iteration): each
    // task gets its own on the stack. Only plain arena views qualify.
    llvm::SetVector<Operation *> scratch;
    bool ok = true;
    loop.walk([&](linalg::LinalgOp op) {
      for (OpOperand &init : op.getDpsInitsMutable()) {
        if (indexedByLoop(init.get(), loop))
          continue;
        auto view = init.get().getDefiningOp<memref::ViewOp>();
        if (view && view.getType().hasStaticShape() &&
            view.getType().getLayout().isIdentity())
          scratch.insert(view);
        else
          ok = false;
      }
    });
    int64_t scratchBytes = 0;
    for (Operation *view : scratch)
      scratchBytes += bytesOf(view->getResult(0));
    if (!ok || scratchBytes > kMaxScratchBytes)
      return success();

    int64_t tasks = 0;
    for (int64_t t = std::min<int64_t>(maxTasks, trips); t >= 2; --t)
      if (trips % t == 0 && work / t >= minWork / 2) {
        tasks = t;
        break;
      }
    if (tasks == 0)
      return success();

    OpBuilder b = OpBuilder::atBlockBegin(&kernel.getBody().front());
    for (Operation *view : scratch) {
      auto type = cast<MemRefType>(view->getResult(0).getType());
      Value stack = b.create<memref::AllocaOp>(view->getLoc(), type);
      view->getResult(0).replaceAllUsesWith(stack);
      view->erase();
    }
    restrictToTasks(kernel, call, loop, *lb, trips / tasks, *step, tasks);
    return success();
  }
};

} // namespace
} // namespace lathe
