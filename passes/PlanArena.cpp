// The memory planner: every intermediate buffer of @main gets an offset in
// one arena, from the live ranges of the buffers over @main's top-level ops.
//
// A buffer is live from the first top-level op that touches its memory
// (through it or any alias) to the last. Buffers whose ranges overlap get
// disjoint bytes; the rest may share. An elementwise op whose input dies
// there may write its output over that input (in place). Placement is greedy
// best fit, tried in a few orders; the smallest arena wins.
#include "passes/Passes.h"

#include "ir/Location.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "llvm/ADT/SetVector.h"

#include <algorithm>
#include <functional>

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_PLANARENA
#include "passes/Passes.h.inc"

namespace {

constexpr int64_t kAlignment = 64;

int64_t alignUp(int64_t v) {
  return (v + kAlignment - 1) / kAlignment * kAlignment;
}

// Bytes of one element as the LLVM lowering stores it; 0 when unknown.
int64_t elementBytes(Type type) {
  if (type.isIndex())
    return 8;
  if (auto complex = dyn_cast<ComplexType>(type))
    return 2 * elementBytes(complex.getElementType());
  if (type.isIntOrFloat())
    return std::max<int64_t>(1, (type.getIntOrFloatBitWidth() + 7) / 8);
  return 0;
}

struct Buffer {
  memref::AllocOp alloc;
  int64_t bytes = 0;
  int64_t aligned = 0;
  // Live range, inclusive, in indices of @main's top-level ops.
  int64_t first = 0, last = 0;
  // Uses that may touch memory, with the index of their top-level op.
  SmallVector<std::pair<OpOperand *, int64_t>> uses;
  bool inPlace = false;
  // Whether an in-place output already took this buffer's bytes.
  bool donated = false;
  unsigned slot = 0;
};

// Buffers that share bytes (in-place chains) form one slot.
struct Slot {
  int64_t first = 0, last = 0, size = 0, offset = 0;
};

// Which ops of @main are "the same time": the top-level op that holds them.
class Timeline {
public:
  explicit Timeline(func::FuncOp main) : main(main.getOperation()) {
    int64_t i = 0;
    for (Block &block : main.getBody())
      for (Operation &op : block)
        index[&op] = i++;
    size = i;
  }
  Operation *topLevel(Operation *op) const {
    while (op->getParentOp() != main)
      op = op->getParentOp();
    return op;
  }
  int64_t indexOf(Operation *op) const { return index.lookup(topLevel(op)); }
  int64_t numOps() const { return size; }

private:
  Operation *main;
  DenseMap<Operation *, int64_t> index;
  int64_t size = 0;
};

// Finds every memory-touching use of `root` and of the values that may alias
// it. Aliases are over-approximated: every memref result of an op that takes
// an alias as operand, and of the ops around it up to the top level (a loop
// may yield it), is an alias too.
void collectUses(Value root, const Timeline &timeline, Buffer &buffer,
                 DenseMap<Value, SmallVector<unsigned>> &owners,
                 unsigned bufferIndex) {
  llvm::SetVector<Value> aliases;
  aliases.insert(root);
  for (unsigned i = 0; i < aliases.size(); ++i) {
    Value v = aliases[i];
    owners[v].push_back(bufferIndex);
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      Operation *top = timeline.topLevel(user);
      // Views, reshapes and casts only compute addresses; what their results
      // reach is followed instead. A terminator may hand the buffer out.
      if (!isMemoryEffectFree(user) || user->hasTrait<OpTrait::IsTerminator>())
        buffer.uses.push_back({&use, timeline.indexOf(top)});
      for (Operation *op = user;; op = op->getParentOp()) {
        for (Value result : op->getResults())
          if (isa<BaseMemRefType>(result.getType()))
            aliases.insert(result);
        if (op == top)
          break;
      }
    }
  }
}

// Whether `v` is `root` seen through reshapes that keep the element order and
// the start (so that element i of both is at the same byte).
bool sameElementOrder(Value v, Value root) {
  while (v != root) {
    Operation *def = v.getDefiningOp();
    if (!def)
      return false;
    if (auto collapse = dyn_cast<memref::CollapseShapeOp>(def))
      v = collapse.getSrc();
    else if (auto expand = dyn_cast<memref::ExpandShapeOp>(def))
      v = expand.getSrc();
    else if (auto cast = dyn_cast<memref::CastOp>(def))
      v = cast.getSource();
    else
      return false;
    auto type = dyn_cast<MemRefType>(v.getType());
    if (!type || !type.getLayout().isIdentity())
      return false;
  }
  return true;
}

// The uses of `buffer` at top-level op `at`.
SmallVector<OpOperand *> usesAt(const Buffer &buffer, int64_t at) {
  SmallVector<OpOperand *> result;
  for (auto [use, index] : buffer.uses)
    if (index == at)
      result.push_back(use);
  return result;
}

// Lets buffer `b` take the slot of an input that dies at the elementwise op
// that writes `b` first, when each iteration reads that input's element i and
// writes b's element i at the same byte, and nothing else there touches them.
void tryInPlace(unsigned b, SmallVectorImpl<Buffer> &buffers,
                SmallVectorImpl<Slot> &slots,
                DenseMap<Value, SmallVector<unsigned>> &owners,
                const Timeline &timeline) {
  Buffer &out = buffers[b];
  if (out.bytes == 0 || out.uses.empty())
    return;
  SmallVector<OpOperand *> outUses = usesAt(out, out.first);
  if (outUses.size() != 1)
    return;
  OpOperand *init = outUses.front();
  auto linalgOp = dyn_cast<linalg::LinalgOp>(init->getOwner());
  if (!linalgOp || timeline.topLevel(linalgOp) != linalgOp.getOperation() ||
      !linalgOp.hasPureBufferSemantics() ||
      linalgOp.getNumLoops() != linalgOp.getNumParallelLoops() ||
      !linalgOp.isDpsInit(init) ||
      !linalgOp.getMatchingIndexingMap(init).isIdentity() ||
      linalgOp.payloadUsesValueFromOperand(init) ||
      !sameElementOrder(init->get(), out.alloc.getResult()))
    return;
  Type outElement = cast<MemRefType>(init->get().getType()).getElementType();
  int64_t outElementBytes = elementBytes(outElement);
  for (OpOperand *input : linalgOp.getDpsInputOperands()) {
    auto it = owners.find(input->get());
    if (it == owners.end() || it->second.size() != 1)
      continue;
    unsigned a = it->second.front();
    Buffer &in = buffers[a];
    auto inType = dyn_cast<MemRefType>(input->get().getType());
    // An input first touched here has no slot yet (and no value to reuse).
    if (!inType || a == b || in.first >= out.first || in.donated ||
        in.bytes != out.bytes || in.last != out.first ||
        slots[in.slot].last != out.first ||
        elementBytes(inType.getElementType()) != outElementBytes ||
        usesAt(in, out.first).size() != 1 ||
        !linalgOp.getMatchingIndexingMap(input).isIdentity() ||
        !sameElementOrder(input->get(), in.alloc.getResult()))
      continue;
    in.donated = true;
    out.inPlace = true;
    out.slot = in.slot;
    slots[in.slot].last = std::max(slots[in.slot].last, out.last);
    return;
  }
}

// Greedy placement in `order`: each slot goes into the smallest gap left by
// the placed slots it overlaps in time, or above them all.
int64_t place(ArrayRef<unsigned> order, SmallVectorImpl<Slot> &slots) {
  SmallVector<unsigned> placed;
  int64_t total = 0;
  for (unsigned s : order) {
    Slot &slot = slots[s];
    slot.offset = 0;
    if (slot.size == 0)
      continue;
    SmallVector<std::pair<int64_t, int64_t>> busy;
    for (unsigned p : placed)
      if (slots[p].first <= slot.last && slot.first <= slots[p].last)
        busy.push_back({slots[p].offset, slots[p].offset + slots[p].size});
    llvm::sort(busy);
    int64_t cursor = 0, best = -1, bestGap = 0;
    for (auto [begin, end] : busy) {
      int64_t gap = begin - cursor;
      if (gap >= slot.size && (best < 0 || gap < bestGap)) {
        best = cursor;
        bestGap = gap;
      }
      cursor = std::max(cursor, end);
    }
    slot.offset = best >= 0 ? best : cursor;
    total = std::max(total, slot.offset + slot.size);
    placed.push_back(s);
  }
  return total;
}

// Tries a few orders (size, start, lifetime length, size x lifetime) and
// keeps the smallest arena, stopping at `lowerBound`; leaves its offsets in
// `slots`.
int64_t placeBest(SmallVectorImpl<Slot> &slots, int64_t lowerBound) {
  using Key = std::function<bool(const Slot &, const Slot &)>;
  auto length = [](const Slot &s) { return s.last - s.first + 1; };
  SmallVector<Key> keys = {
      [](const Slot &x, const Slot &y) { return x.size > y.size; },
      [&](const Slot &x, const Slot &y) {
        return std::make_pair(x.size, length(x)) >
               std::make_pair(y.size, length(y));
      },
      [&](const Slot &x, const Slot &y) { return length(x) > length(y); },
      [&](const Slot &x, const Slot &y) {
        return x.size * length(x) > y.size * length(y);
      },
      [](const Slot &x, const Slot &y) { return x.first < y.first; },
  };
  int64_t best = -1;
  SmallVector<int64_t> bestOffsets;
  for (const Key &key : keys) {
    SmallVector<unsigned> order(slots.size());
    for (unsigned i = 0; i < slots.size(); ++i)
      order[i] = i;
    // Ties keep program order, so that plans are deterministic.
    llvm::sort(order, [&](unsigned x, unsigned y) {
      if (key(slots[x], slots[y]) || key(slots[y], slots[x]))
        return key(slots[x], slots[y]);
      return x < y;
    });
    int64_t total = place(order, slots);
    if (best < 0 || total < best) {
      best = total;
      bestOffsets.clear();
      for (const Slot &s : slots)
        bestOffsets.push_back(s.offset);
    }
    if (best <= lowerBound)
      break;
  }
  for (auto [slot, offset] : llvm::zip(slots, bestOffsets))
    slot.offset = offset;
  return std::max<int64_t>(best, 0);
}

// The largest sum of sizes of slots live at one top-level op: no placement
// of these slots can be smaller.
int64_t peakBytes(ArrayRef<Slot> slots, int64_t numOps) {
  SmallVector<int64_t> delta(numOps + 2, 0);
  for (const Slot &s : slots) {
    delta[s.first] += s.size;
    delta[s.last + 1] -= s.size;
  }
  int64_t live = 0, peak = 0;
  for (int64_t d : delta) {
    live += d;
    peak = std::max(peak, live);
  }
  return peak;
}

struct PlanArenaPass : impl::PlanArenaBase<PlanArenaPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main || main.isExternal()) {
      module.emitError("lathe-plan-arena: no @main function");
      return signalPassFailure();
    }
    SmallVector<Buffer> buffers;
    bool ok = true;
    main.walk([&](Operation *op) {
      if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
        MemRefType type = alloc.getType();
        if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
            elementBytes(type.getElementType()) == 0) {
          alloc.emitError("buffer of type ") << type << " cannot be planned";
          ok = false;
          return;
        }
        Buffer buffer;
        buffer.alloc = alloc;
        buffer.bytes =
            type.getNumElements() * elementBytes(type.getElementType());
        buffer.aligned = alignUp(buffer.bytes);
        buffers.push_back(buffer);
      } else if (isa<memref::DeallocOp, memref::AllocaOp>(op)) {
        op->emitError("unexpected ") << op->getName() << " before planning";
        ok = false;
      }
    });
    if (!ok)
      return signalPassFailure();

    Timeline timeline(main);
    // With branches between blocks, op order is not time: every buffer is
    // then live throughout.
    bool straightLine = main.getBody().hasOneBlock();
    DenseMap<Value, SmallVector<unsigned>> owners;
    for (auto [i, buffer] : llvm::enumerate(buffers)) {
      collectUses(buffer.alloc.getResult(), timeline, buffer, owners, i);
      if (!straightLine) {
        buffer.first = 0;
        buffer.last = timeline.numOps() - 1;
      } else if (buffer.uses.empty()) {
        buffer.first = buffer.last = timeline.indexOf(buffer.alloc);
      } else {
        buffer.first = buffer.last = buffer.uses.front().second;
        for (auto [use, index] : buffer.uses) {
          buffer.first = std::min(buffer.first, index);
          buffer.last = std::max(buffer.last, index);
        }
      }
    }

    SmallVector<unsigned> byStart(buffers.size());
    for (unsigned i = 0; i < buffers.size(); ++i)
      byStart[i] = i;
    llvm::sort(byStart, [&](unsigned x, unsigned y) {
      return std::make_pair(buffers[x].first, x) <
             std::make_pair(buffers[y].first, y);
    });
    SmallVector<Slot> slots;
    for (unsigned b : byStart) {
      Buffer &buffer = buffers[b];
      if (straightLine)
        tryInPlace(b, buffers, slots, owners, timeline);
      if (buffer.inPlace)
        continue;
      buffer.slot = slots.size();
      slots.push_back({buffer.first, buffer.last, buffer.aligned, 0});
    }
    int64_t peak = peakBytes(slots, timeline.numOps());
    int64_t arenaBytes = placeBest(slots, peak);
    int64_t naiveBytes = 0;
    for (const Buffer &buffer : buffers)
      naiveBytes += buffer.aligned;

    OpBuilder b(module.getContext());
    auto arenaType = MemRefType::get({arenaBytes}, b.getI8Type());
    main.insertArgument(0, arenaType, {}, main.getLoc());
    main.setArgAttr(0, "lathe.name", b.getStringAttr("arena"));
    Value arena = main.getArgument(0);
    SmallVector<Attribute> records;
    for (Buffer &buffer : buffers) {
      int64_t offset = slots[buffer.slot].offset;
      Operation *writer = buffer.uses.empty()
                              ? buffer.alloc.getOperation()
                              : buffer.uses.front().first->getOwner();
      for (auto [use, index] : buffer.uses)
        if (index == buffer.first) {
          writer = use->getOwner();
          break;
        }
      records.push_back(b.getDictionaryAttr({
          b.getNamedAttr("offset", b.getI64IntegerAttr(offset)),
          b.getNamedAttr("size", b.getI64IntegerAttr(buffer.bytes)),
          b.getNamedAttr("first", b.getI64IntegerAttr(buffer.first)),
          b.getNamedAttr("last", b.getI64IntegerAttr(buffer.last)),
          b.getNamedAttr("node",
                         b.getStringAttr(describeLocation(writer->getLoc()))),
          b.getNamedAttr("in_place", b.getBoolAttr(buffer.inPlace)),
      }));
      memref::AllocOp alloc = buffer.alloc;
      b.setInsertionPoint(alloc);
      Value shift = b.create<arith::ConstantIndexOp>(alloc.getLoc(), offset);
      Value view = b.create<memref::ViewOp>(alloc.getLoc(), alloc.getType(),
                                            arena, shift, ValueRange{});
      alloc.replaceAllUsesWith(view);
      alloc.erase();
    }
    // LLVM's bare-pointer convention rejects a memref argument with a zero
    // dim beside others (3x0x5); such a tensor has no bytes, so the argument
    // becomes memref<0xT> and its uses read an empty view of the arena.
    b.setInsertionPointToStart(&main.front());
    for (unsigned i = 1; i < main.getNumArguments(); ++i) {
      auto type = dyn_cast<MemRefType>(main.getArgument(i).getType());
      if (!type || type.getNumElements() != 0 || type.getRank() <= 1)
        continue;
      Location loc = main.getArgument(i).getLoc();
      Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
      Value view =
          b.create<memref::ViewOp>(loc, type, arena, zero, ValueRange{});
      main.getArgument(i).replaceAllUsesWith(view);
      auto flat = MemRefType::get({0}, type.getElementType());
      main.getArgument(i).setType(flat);
      SmallVector<Type> inputs(main.front().getArgumentTypes());
      main.setFunctionType(
          b.getFunctionType(inputs, main.getFunctionType().getResults()));
    }
    module->setAttr("lathe.arena_bytes", b.getI64IntegerAttr(arenaBytes));
    module->setAttr("lathe.naive_bytes", b.getI64IntegerAttr(naiveBytes));
    module->setAttr("lathe.peak_bytes", b.getI64IntegerAttr(peak));
    module->setAttr("lathe.buffers", b.getArrayAttr(records));
  }
};

} // namespace
} // namespace lathe
