// lathe-instrument-kernels: the per-kernel profile of `lathe bench
// --profile`. Each kernel call of @main (lathe-outline-kernels) is bracketed
// by two reads of the runtime's monotonic clock, and the elapsed time and
// the call are added to the kernel's row of a public global the Session
// reads after runs. Counting in the compiled code itself (rather than in
// a sampling profiler) names every kernel, even a microsecond one, and
// costs two clock reads (tens of nanoseconds) per kernel call; the pass
// only runs when a profile is asked for, so normal builds carry nothing.
//
// The description of each slot (kernel, ONNX nodes, linalg ops, fusion
// group, FLOPs) goes in the module attribute `lathe.profile`: this is the
// last point where the kernels are still linalg ops with the locations
// the importer gave them.
#include "passes/MatchContraction.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"

#include <optional>

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_INSTRUMENTKERNELS
#include "passes/Passes.h.inc"

namespace {

constexpr const char *kClock = "lathe_profile_clock";
constexpr const char *kKernelPrefix = "lathe_kernel_";

/// ONNX node names (NameLoc) and the fusion group kind (FusedLoc metadata
/// of lathe-fuse, see FusionGroups.h) anywhere in `loc`.
void collectLocation(Location loc, llvm::SetVector<StringRef> &nodes,
                     std::string &fusion) {
  if (auto name = dyn_cast<NameLoc>(loc)) {
    nodes.insert(name.getName().getValue());
    collectLocation(name.getChildLoc(), nodes, fusion);
  } else if (auto fused = dyn_cast<FusedLoc>(loc)) {
    if (auto meta = dyn_cast_or_null<DictionaryAttr>(fused.getMetadata()))
      if (auto kind = meta.getAs<StringAttr>("lathe.fusion_kind"))
        if (fusion.empty())
          fusion = kind.getValue().str();
    for (Location l : fused.getLocations())
      collectLocation(l, nodes, fusion);
  } else if (auto site = dyn_cast<CallSiteLoc>(loc)) {
    collectLocation(site.getCallee(), nodes, fusion);
  }
}

/// How many times the ops directly in `op`'s regions run per run of `op`:
/// the static iteration domain of a linalg op, the trip count of a loop
/// with constant bounds, 1 for a branch (both sides counted: an upper
/// bound). nullopt when not static.
std::optional<int64_t> tripCount(Operation *op) {
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
    int64_t points = 1;
    for (int64_t r : linalgOp.getStaticLoopRanges()) {
      if (ShapedType::isDynamic(r))
        return std::nullopt;
      points *= r;
    }
    return points;
  }
  auto constantTrips = [](OpFoldResult lb, OpFoldResult ub,
                          OpFoldResult step) -> std::optional<int64_t> {
    auto l = getConstantIntValue(lb), u = getConstantIntValue(ub),
         s = getConstantIntValue(step);
    if (!l || !u || !s || *s <= 0)
      return std::nullopt;
    return *u > *l ? (*u - *l + *s - 1) / *s : 0;
  };
  if (auto loop = dyn_cast<scf::ForOp>(op))
    return constantTrips(loop.getLowerBound(), loop.getUpperBound(),
                         loop.getStep());
  if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
    int64_t trips = 1;
    for (auto [lb, ub, step] : llvm::zip(
             loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
      auto t = constantTrips(lb, ub, step);
      if (!t)
        return std::nullopt;
      trips *= *t;
    }
    return trips;
  }
  if (isa<scf::IfOp, func::FuncOp>(op))
    return 1;
  return std::nullopt;
}

/// Float arithmetic of an op (arith/math on floats, per vector lane);
/// constants and conversions are not arithmetic.
int64_t flopsOf(Operation *op) {
  if (!isa<arith::ArithDialect, math::MathDialect>(op->getDialect()) ||
      isa<arith::ConstantOp, arith::ExtFOp, arith::TruncFOp, arith::BitcastOp,
          arith::FPToSIOp, arith::FPToUIOp, arith::SIToFPOp, arith::UIToFPOp,
          arith::SelectOp>(op))
    return 0;
  for (Value v : op->getOperands()) {
    Type t = v.getType();
    int64_t lanes = 1;
    if (auto vector = dyn_cast<VectorType>(t)) {
      lanes = vector.getNumElements();
      t = vector.getElementType();
    }
    if (isa<FloatType>(t))
      return lanes;
  }
  return 0;
}

/// Float ops per call of `kernel`, -1 when some trip count is not static.
int64_t kernelFlops(func::FuncOp kernel) {
  int64_t total = 0;
  bool known = true;
  kernel.walk([&](Operation *op) {
    int64_t flops = flopsOf(op);
    if (!flops || !known)
      return;
    for (Operation *p = op->getParentOp(); p && p != kernel.getOperation();
         p = p->getParentOp()) {
      std::optional<int64_t> trips = tripCount(p);
      if (!trips) {
        known = false;
        return;
      }
      flops *= *trips;
    }
    total += flops;
  });
  return known ? total : -1;
}

/// What a linalg op computes: a named op by its name (`fill`, `copy`,
/// `matmul`, ...); a generic one (most of lathe's lowerings) by its
/// shape: `conv` (a product summed over a window), `matmul` (a product
/// summed over plain dims), `pool` (a window reduction), `reduce`, or
/// `elementwise`.
StringRef kindOf(linalg::LinalgOp op) {
  if (!isa<linalg::GenericOp>(op.getOperation()))
    return op->getName().getStringRef().drop_front(
        op->getName().getDialectNamespace().size() + 1);
  bool window = false;
  for (OpOperand *input : op.getDpsInputOperands())
    for (AffineExpr e : op.getMatchingIndexingMap(input).getResults())
      window |= !isa<AffineDimExpr, AffineConstantExpr>(e);
  if (looksLikeContraction(op))
    return window ? "conv" : "matmul";
  if (op.getNumReductionLoops() > 0)
    return window ? "pool" : "reduce";
  return "elementwise";
}

struct InstrumentKernelsPass
    : impl::InstrumentKernelsBase<InstrumentKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    Builder attrs(ctx);
    auto main = module.lookupSymbol<func::FuncOp>("main");
    SmallVector<std::pair<func::CallOp, func::FuncOp>> calls;
    if (main)
      main.walk([&](func::CallOp call) {
        auto kernel = module.lookupSymbol<func::FuncOp>(call.getCallee());
        if (kernel && !kernel.isExternal() &&
            kernel.getSymName().starts_with(kKernelPrefix))
          calls.push_back({call, kernel});
      });
    SmallVector<Attribute> slots;
    for (auto [call, kernel] : calls)
      slots.push_back(describe(attrs, kernel));
    module->setAttr(kProfileAttr, attrs.getArrayAttr(slots));
    if (calls.empty())
      return;

    OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
    Location loc = module.getLoc();
    auto i64 = b.getI64Type();
    auto clock = module.lookupSymbol<func::FuncOp>(kClock);
    if (!clock) {
      clock = b.create<func::FuncOp>(loc, kClock, b.getFunctionType({}, {i64}));
      clock.setPrivate();
    }
    // Public: lowered with external linkage, so LLVM keeps it and the JIT
    // can look it up by name.
    auto countersType =
        MemRefType::get({static_cast<int64_t>(calls.size()), 2}, i64);
    auto zeros = RankedTensorType::get(countersType.getShape(), i64);
    b.create<memref::GlobalOp>(loc, kProfileCounters, StringAttr(),
                               countersType, b.getZeroAttr(zeros),
                               /*constant=*/false, IntegerAttr());

    for (auto [slot, entry] : llvm::enumerate(calls)) {
      func::CallOp call = entry.first;
      Location at = call.getLoc();
      OpBuilder before(call);
      Value start = before.create<func::CallOp>(at, clock).getResult(0);
      OpBuilder after(call->getContext());
      after.setInsertionPointAfter(call);
      Value end = after.create<func::CallOp>(at, clock).getResult(0);
      Value elapsed = after.create<arith::SubIOp>(at, end, start);
      Value counters =
          after.create<memref::GetGlobalOp>(at, countersType, kProfileCounters);
      Value row = after.create<arith::ConstantIndexOp>(at, slot);
      auto add = [&](int64_t column, Value amount) {
        Value col = after.create<arith::ConstantIndexOp>(at, column);
        Value old =
            after.create<memref::LoadOp>(at, counters, ValueRange{row, col});
        Value sum = after.create<arith::AddIOp>(at, old, amount);
        after.create<memref::StoreOp>(at, sum, counters, ValueRange{row, col});
      };
      add(0, elapsed);
      add(1, after.create<arith::ConstantIntOp>(at, 1, 64));
    }
  }

  /// {kernel, nodes, ops, fusion, flops} of one slot.
  DictionaryAttr describe(Builder &b, func::FuncOp kernel) {
    llvm::SetVector<StringRef> nodes;
    llvm::SetVector<StringRef> ops;
    std::string fusion;
    Operation *root = nullptr;
    // The views and constants lathe-outline-kernels cloned in carry the
    // locations of whatever made their buffers: only the loop nest and
    // what is in it (the ops a fused group's nodes became) name the
    // kernel's own nodes. Constants are shared by CSE across nodes.
    kernel.walk<WalkOrder::PreOrder>([&](Operation *op) {
      bool linalgOp = isa<linalg::LinalgOp>(op);
      bool topLevel = op->getParentOp() == kernel.getOperation();
      if (op == kernel.getOperation() ||
          (topLevel && !linalgOp && op->getNumRegions() == 0) ||
          isa<arith::ConstantOp>(op))
        return;
      if (!root)
        root = op;
      collectLocation(op->getLoc(), nodes, fusion);
      if (linalgOp)
        ops.insert(kindOf(cast<linalg::LinalgOp>(op)));
    });
    // The heaviest kind first: a fused group reads "conv+elementwise".
    SmallVector<StringRef> kinds(ops.begin(), ops.end());
    auto rank = [](StringRef kind) {
      return llvm::StringSwitch<int>(kind)
          .Case("conv", 0)
          .Case("matmul", 1)
          .Case("pool", 2)
          .Case("reduce", 3)
          .Case("elementwise", 4)
          .Default(5);
    };
    llvm::stable_sort(
        kinds, [&](StringRef a, StringRef b) { return rank(a) < rank(b); });
    std::string opText = llvm::join(kinds, "+");
    if (opText.empty() && root)
      opText = root->getName().getStringRef().str();
    SmallVector<Attribute> nodeAttrs;
    for (StringRef n : nodes)
      nodeAttrs.push_back(b.getStringAttr(n));
    return b.getDictionaryAttr({
        b.getNamedAttr("kernel", b.getStringAttr(kernel.getSymName())),
        b.getNamedAttr("nodes", b.getArrayAttr(nodeAttrs)),
        b.getNamedAttr("ops", b.getStringAttr(opText)),
        b.getNamedAttr("fusion", b.getStringAttr(fusion)),
        b.getNamedAttr("flops", b.getI64IntegerAttr(kernelFlops(kernel))),
    });
  }
};

} // namespace
} // namespace lathe
