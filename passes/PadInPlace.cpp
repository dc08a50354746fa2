// lathe-pad-in-place: a padded tensor whose source is computed by an op of
// the same function gets its border written by fills and its interior by
// the source's producer itself.
//
// tensor.pad bufferizes to a new buffer filled whole with the pad value and
// a copy of the source into its interior: for a convolution's 3x3 "same"
// input that is three passes over a buffer the size of the activation
// (fill, read, write) on top of the producer's own write. Rewritten as
//
//   %e = tensor.empty                      (moved before the producer)
//   %b = fills of each border slab of %e   (low and high, one per padded dim)
//   %p = tensor.insert_slice %src into %b  (where the pad was)
//
// upstream empty-tensor elimination makes the producer write into the
// interior of %b's buffer, and the insertion disappears. The same applies
// to the zero-filled tensor a strided insertion spreads an input into
// (ConvTranspose and the gradient of a convolution): with unit steps only
// the borders are filled; with larger steps the whole fill stays (the gaps
// between elements are padding too) but moves before the producer.
//
// Nothing changes when the source is a block argument or is defined in
// another block (the producer then cannot write into the padded buffer),
// or when a reduction reads the source after the padding (it would read
// the padded rows, see readLaterByReduction).
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_PADINPLACE
#include "passes/Passes.h.inc"

namespace {

/// The op before which the padded buffer must exist for the producer of
/// `source` to write into it (the producer, or the fill that initialises
/// its destination), or null when there is none in `block`.
Operation *producerIn(Value source, Block *block) {
  Operation *def = source.getDefiningOp();
  if (!def || def->getBlock() != block)
    return nullptr;
  // CSE leaves one tensor.empty for all destinations of a type; empty
  // tensor elimination would hand the padded buffer's interior to every
  // op writing into it. The producer gets a tensor.empty of its own.
  // The same holds for the fill of a tensor.empty that initialises a
  // reduction (max pooling's -inf).
  OpBuilder b(def);
  Operation *user = def;
  Value result = source;
  for (int depth = 0; depth < 2; ++depth) {
    auto dps = dyn_cast<DestinationStyleOpInterface>(user);
    OpOperand *init =
        dps ? dps.getTiedOpOperand(cast<OpResult>(result)) : nullptr;
    Operation *initDef = init ? init->get().getDefiningOp() : nullptr;
    if (!initDef || initDef->getNumResults() != 1 ||
        !isa<tensor::EmptyOp, linalg::FillOp>(initDef))
      break;
    if (!initDef->hasOneUse()) {
      b.setInsertionPoint(user);
      initDef = b.clone(*initDef);
      init->set(initDef->getResult(0));
    }
    if (isa<tensor::EmptyOp>(initDef))
      break;
    user = initDef;
    result = initDef->getResult(0);
  }
  // Elimination replaces the tensor.empty where its user (the producer,
  // or the fill before it) reads it: the padded buffer must exist there.
  if (user != def && user->getBlock() == block)
    return user;
  // The producer's own operands (its destination tensor.empty among them)
  // are defined before it: placing the padded buffer just before the
  // producer keeps it dominating everything elimination rewrites.
  return def;
}

/// `tensor` with its static slice [offsets, offsets + sizes) set to
/// `value` (extract, fill, insert: in place once bufferized).
Value fillSlice(OpBuilder &b, Location loc, Value tensor,
                ArrayRef<int64_t> offsets, ArrayRef<int64_t> sizes,
                Value value) {
  SmallVector<OpFoldResult> off, sz, one(offsets.size(), b.getIndexAttr(1));
  for (auto [o, n] : llvm::zip(offsets, sizes)) {
    off.push_back(b.getIndexAttr(o));
    sz.push_back(b.getIndexAttr(n));
  }
  Value part = b.create<tensor::ExtractSliceOp>(loc, tensor, off, sz, one);
  Value filled = b.create<linalg::FillOp>(loc, value, part).getResult(0);
  return b.create<tensor::InsertSliceOp>(loc, filled, tensor, off, sz, one);
}

/// Fills the padding of the last dim: `low` elements before and `high`
/// after each row of `dest`. The high padding of one row and the low
/// padding of the next are adjacent in memory, so they are filled as one
/// run per row (a view of the flattened tensor as rows starting at the
/// gap), plus the first row's low and the last row's high padding. Two
/// separate column fills would each touch every cache line of the buffer.
Value fillRowGaps(OpBuilder &b, Location loc, Value dest, Value value,
                  ArrayRef<int64_t> shape, int64_t low, int64_t high) {
  int64_t width = shape.back();
  int64_t total = ShapedType::getNumElements(shape);
  int64_t rows = total / width;
  auto destType = cast<RankedTensorType>(dest.getType());
  Type et = destType.getElementType();
  auto type1d = [&](int64_t n) { return RankedTensorType::get({n}, et); };
  SmallVector<ReassociationIndices> all = {
      llvm::to_vector(llvm::seq<int64_t>(0, shape.size()))};
  Value flat = b.create<tensor::CollapseShapeOp>(loc, type1d(total), dest, all);
  if (low > 0)
    flat = fillSlice(b, loc, flat, {0}, {low}, value);
  if (high > 0)
    flat = fillSlice(b, loc, flat, {total - high}, {high}, value);
  if (rows > 1) {
    // Rows of the view start at each row's high padding.
    int64_t start = width - high, len = (rows - 1) * width;
    SmallVector<OpFoldResult> off = {b.getIndexAttr(start)},
                              sz = {b.getIndexAttr(len)},
                              one = {b.getIndexAttr(1)};
    Value seg = b.create<tensor::ExtractSliceOp>(loc, flat, off, sz, one);
    auto gridType = RankedTensorType::get({rows - 1, width}, et);
    SmallVector<ReassociationIndices> split = {{0, 1}};
    Value grid = b.create<tensor::ExpandShapeOp>(loc, gridType, seg, split);
    grid = fillSlice(b, loc, grid, {0, 0}, {rows - 1, low + high}, value);
    seg = b.create<tensor::CollapseShapeOp>(loc, type1d(len), grid, split);
    flat = b.create<tensor::InsertSliceOp>(loc, seg, flat, off, sz, one);
  }
  return b.create<tensor::ExpandShapeOp>(loc, destType, flat, all);
}

/// Fills every border slab of `dest` (shape `shape`) around the interior
/// [low, low + size) with `value`: for each dim with padding, the slab
/// below and the slab above, full extent in every other dim. Corners are
/// written more than once, which is cheaper than splitting the slabs.
///
/// Each slab is filled on a view of `dest` collapsed to [outer, dim,
/// inner]: the fill becomes one loop over many rows of a contiguous run
/// (a memset each), where a loop nest in the original rank has short
/// constant trip counts that LLVM unrolls completely into basic blocks of
/// thousands of stores (and then schedules in quadratic time).
Value fillBorders(OpBuilder &b, Location loc, Value dest, Value value,
                  ArrayRef<int64_t> shape, ArrayRef<int64_t> low,
                  ArrayRef<int64_t> size) {
  int64_t rank = shape.size();
  auto elementType = cast<RankedTensorType>(dest.getType()).getElementType();
  for (int64_t d = 0; d < rank; ++d) {
    int64_t high = shape[d] - low[d] - size[d];
    if (low[d] <= 0 && high <= 0)
      continue;
    if (d == rank - 1) {
      dest = fillRowGaps(b, loc, dest, value, shape, low[d], high);
      continue;
    }
    SmallVector<ReassociationIndices> groups;
    SmallVector<int64_t> flat;
    if (d > 0) {
      groups.emplace_back(llvm::to_vector(llvm::seq<int64_t>(0, d)));
      flat.push_back(ShapedType::getNumElements(shape.take_front(d)));
    }
    int64_t at = flat.size();
    groups.push_back({d});
    flat.push_back(shape[d]);
    if (d + 1 < rank) {
      groups.emplace_back(llvm::to_vector(llvm::seq<int64_t>(d + 1, rank)));
      flat.push_back(ShapedType::getNumElements(shape.drop_front(d + 1)));
    }
    auto flatType = RankedTensorType::get(flat, elementType);
    Value view = b.create<tensor::CollapseShapeOp>(loc, flatType, dest, groups);
    auto slab = [&](int64_t start, int64_t len) {
      if (len <= 0)
        return;
      SmallVector<int64_t> offsets(flat.size(), 0), sizes(flat);
      offsets[at] = start;
      sizes[at] = len;
      view = fillSlice(b, loc, view, offsets, sizes, value);
    };
    slab(0, low[d]);
    slab(low[d] + size[d], high);
    dest = b.create<tensor::ExpandShapeOp>(loc, dest.getType(), view, groups);
  }
  return dest;
}

/// A padded tensor: `source` placed at `offsets` with `strides` in a
/// tensor of `type` whose other elements are `value`.
struct Padding {
  Value source;
  RankedTensorType type;
  SmallVector<int64_t> offsets, strides;
  Value value;
};

/// When `p.source` is a reshape whose padded dims each map to one dim of
/// the reshape's input, the padding of that input followed by the same
/// reshape: the producer then writes into the padded buffer through the
/// reshape. Returns the reshape to apply to the padded input.
std::optional<std::pair<Padding, Operation *>>
throughReshape(const Padding &p) {
  Operation *reshape = p.source.getDefiningOp();
  SmallVector<ReassociationIndices> groups;
  Value input;
  bool collapse = false;
  if (auto c = dyn_cast_or_null<tensor::CollapseShapeOp>(reshape)) {
    groups = c.getReassociationIndices();
    input = c.getSrc();
    collapse = true;
  } else if (auto e = dyn_cast_or_null<tensor::ExpandShapeOp>(reshape)) {
    groups = e.getReassociationIndices();
    input = e.getSrc();
  } else {
    return std::nullopt;
  }
  auto inType = cast<RankedTensorType>(input.getType());
  auto srcType = cast<RankedTensorType>(p.source.getType());
  // Each padded dim of the (higher-rank) expanded side must be a group of
  // its own.
  Padding q{input, nullptr, {}, {}, p.value};
  SmallVector<int64_t> shape(inType.getShape());
  q.offsets.assign(inType.getRank(), 0);
  q.strides.assign(inType.getRank(), 1);
  for (auto [j, group] : llvm::enumerate(groups)) {
    for (int64_t i : group) {
      // The dim of p (result side) and of q (input side) this is.
      int64_t pd = collapse ? int64_t(j) : i, qd = collapse ? i : int64_t(j);
      bool padded = p.offsets[pd] != 0 || p.strides[pd] != 1 ||
                    p.type.getDimSize(pd) != srcType.getDimSize(pd);
      if (!padded)
        continue;
      if (group.size() != 1)
        return std::nullopt;
      q.offsets[qd] = p.offsets[pd];
      q.strides[qd] = p.strides[pd];
      shape[qd] = p.type.getDimSize(pd);
    }
  }
  q.type = RankedTensorType::get(shape, p.type.getElementType());
  return std::make_pair(q, reshape);
}

/// Whether `op` (or the op of `at`'s block that contains it) runs after
/// `at`.
bool isAfter(Operation *op, Operation *at) {
  Operation *owner = at->getBlock()->findAncestorOpInBlock(*op);
  return owner && owner != at && at->isBeforeInBlock(owner);
}

/// Later readers of the source read the interior of the padded tensor
/// instead (the same values), and readers of a reshape of the source a
/// reshape of that interior. Once the producer writes into the interior,
/// one-shot bufferization would otherwise see the insertion as a write to
/// memory the source is still read from, and give the producer a buffer
/// of its own again plus a copy.
void readInteriorAfter(tensor::InsertSliceOp insert,
                       ArrayRef<Operation *> reshapes) {
  OpBuilder b(insert->getContext());
  b.setInsertionPointAfter(insert);
  // The new ops read only the insertion's result and each other, so
  // redirecting uses of `from` never touches them.
  auto redirect = [&](Value from, Value to) {
    from.replaceUsesWithIf(
        to, [&](OpOperand &use) { return isAfter(use.getOwner(), insert); });
  };
  Value current = b.create<tensor::ExtractSliceOp>(
      insert.getLoc(), insert.getSourceType(), insert.getResult(),
      insert.getMixedOffsets(), insert.getMixedSizes(),
      insert.getMixedStrides());
  SmallVector<Operation *> made = {current.getDefiningOp()};
  redirect(insert.getSource(), current);
  // Innermost reshape first: each applies to the previous one's result.
  for (Operation *reshape : llvm::reverse(reshapes)) {
    IRMapping map;
    map.map(reshape->getOperand(0), current);
    made.push_back(b.clone(*reshape, map));
    current = made.back()->getResult(0);
    redirect(reshape->getResult(0), current);
  }
  for (Operation *op : llvm::reverse(made))
    if (op->use_empty())
      op->erase();
}

/// Whether an op after `at` that reduces (a convolution's weight gradient,
/// a batch-norm sum) reads `source` or one of its `reshapes`. Those would
/// read the padded tensor's interior instead (readInteriorAfter), whose
/// rows no longer start on vector boundaries (the output gradient of a
/// 32x32 convolution at the 35-element pitch of its input gradient's
/// padded copy): a contraction reads its operands many times over, a
/// copy reads them once.
bool readLaterByReduction(Value source, ArrayRef<Operation *> reshapes,
                          Operation *at) {
  SmallVector<Value> values = {source};
  for (Operation *reshape : reshapes)
    values.push_back(reshape->getResult(0));
  for (Value v : values)
    for (Operation *user : v.getUsers()) {
      auto linalgOp = dyn_cast<linalg::LinalgOp>(user);
      if (linalgOp && linalgOp.getNumReductionLoops() > 0 && isAfter(user, at))
        return true;
    }
  return false;
}

/// Builds `p` with the producer of its source writing into the padded
/// buffer; returns the padded tensor, or null when the source has no
/// producer in `block`.
Value emitPadding(Padding p, Operation *at) {
  Block *block = at->getBlock();
  SmallVector<Operation *> reshapes;
  while (true) {
    auto next = throughReshape(p);
    if (!next)
      break;
    p = next->first;
    reshapes.push_back(next->second);
  }
  if (readLaterByReduction(p.source, reshapes, at))
    return Value();
  Operation *producer = producerIn(p.source, block);
  if (!producer)
    return Value();
  // The pad value must be usable before the producer.
  Operation *valueDef = p.value.getDefiningOp();
  if (valueDef && valueDef->getBlock() == block &&
      !valueDef->isBeforeInBlock(producer)) {
    if (!valueDef->hasTrait<OpTrait::ConstantLike>())
      return Value();
    valueDef->moveBefore(producer);
  }
  auto srcType = cast<RankedTensorType>(p.source.getType());
  Location loc = at->getLoc();
  OpBuilder b(producer);
  Value dest = b.create<tensor::EmptyOp>(loc, p.type.getShape(),
                                         p.type.getElementType());
  // With steps the gaps between elements are padding too: the whole
  // tensor is filled.
  if (llvm::any_of(p.strides, [](int64_t s) { return s != 1; }))
    dest = b.create<linalg::FillOp>(loc, p.value, dest).getResult(0);
  else
    dest = fillBorders(b, loc, dest, p.value, p.type.getShape(), p.offsets,
                       srcType.getShape());
  b.setInsertionPoint(at);
  SmallVector<OpFoldResult> offsets, sizes, steps;
  for (int64_t d = 0; d < p.type.getRank(); ++d) {
    offsets.push_back(b.getIndexAttr(p.offsets[d]));
    sizes.push_back(b.getIndexAttr(srcType.getDimSize(d)));
    steps.push_back(b.getIndexAttr(p.strides[d]));
  }
  auto inserted = b.create<tensor::InsertSliceOp>(loc, p.source, dest, offsets,
                                                  sizes, steps);
  Value result = inserted.getResult();
  // The reshapes again, outermost last.
  for (Operation *reshape : llvm::reverse(reshapes)) {
    auto resultType = cast<RankedTensorType>(reshape->getResult(0).getType());
    SmallVector<int64_t> shape(resultType.getShape());
    if (auto c = dyn_cast<tensor::CollapseShapeOp>(reshape)) {
      result = b.create<tensor::CollapseShapeOp>(loc, result,
                                                 c.getReassociationIndices());
    } else {
      auto e = cast<tensor::ExpandShapeOp>(reshape);
      // The expanded type: the padded input's sizes in singleton groups.
      auto in = cast<RankedTensorType>(result.getType());
      for (auto [j, group] : llvm::enumerate(e.getReassociationIndices()))
        if (group.size() == 1)
          shape[group[0]] = in.getDimSize(j);
      result = b.create<tensor::ExpandShapeOp>(
          loc, RankedTensorType::get(shape, resultType.getElementType()),
          result, e.getReassociationIndices());
    }
  }
  readInteriorAfter(inserted, reshapes);
  return result;
}

/// tensor.pad with static sizes and a pad value defined outside its region.
void rewritePad(tensor::PadOp pad) {
  auto srcType = dyn_cast<RankedTensorType>(pad.getSourceType());
  auto type = pad.getResultType();
  if (!srcType || !srcType.hasStaticShape() || !type.hasStaticShape())
    return;
  Value value = pad.getConstantPaddingValue();
  SmallVector<int64_t> low(pad.getStaticLow());
  if (!value || llvm::any_of(low, ShapedType::isDynamic))
    return;
  Padding p{pad.getSource(), type, low, SmallVector<int64_t>(type.getRank(), 1),
            value};
  if (Value padded = emitPadding(p, pad)) {
    pad.replaceAllUsesWith(padded);
    pad.erase();
  }
}

/// insert_slice of a computed tensor into a fill of a tensor.empty (a
/// strided spread).
void rewriteSpread(tensor::InsertSliceOp insert) {
  auto fill = insert.getDest().getDefiningOp<linalg::FillOp>();
  if (!fill || fill->getBlock() != insert->getBlock())
    return;
  auto empty = fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>();
  if (!empty)
    return;
  auto type = insert.getDestType();
  auto srcType = insert.getSourceType();
  if (!type.hasStaticShape() || !srcType.hasStaticShape() ||
      srcType.getRank() != type.getRank() ||
      llvm::any_of(insert.getStaticOffsets(), ShapedType::isDynamic) ||
      llvm::any_of(insert.getStaticStrides(), ShapedType::isDynamic))
    return;
  Padding p{
      insert.getSource(), type, SmallVector<int64_t>(insert.getStaticOffsets()),
      SmallVector<int64_t>(insert.getStaticStrides()), fill.getInputs()[0]};
  if (Value padded = emitPadding(p, insert)) {
    insert.replaceAllUsesWith(padded);
    insert.erase();
    // CSE may have shared one zero tensor between several spreads.
    if (fill->use_empty())
      fill->erase();
    if (empty->use_empty())
      empty->erase();
  }
}

struct PadInPlacePass : impl::PadInPlaceBase<PadInPlacePass> {
  void runOnOperation() override {
    SmallVector<tensor::PadOp> pads;
    SmallVector<tensor::InsertSliceOp> inserts;
    getOperation().walk([&](Operation *op) {
      if (auto pad = dyn_cast<tensor::PadOp>(op))
        pads.push_back(pad);
      else if (auto insert = dyn_cast<tensor::InsertSliceOp>(op))
        inserts.push_back(insert);
    });
    for (tensor::PadOp pad : pads)
      rewritePad(pad);
    for (tensor::InsertSliceOp insert : inserts)
      rewriteSpread(insert);
  }
};

} // namespace
} // namespace lathe
