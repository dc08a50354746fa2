#include "passes/VectorBody.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

namespace lathe {

bool byteSized(MemRefType type) {
  Type t = type.getElementType();
  return t.isIntOrFloat() && t.getIntOrFloatBitWidth() % 8 == 0;
}

bool contiguousLastDim(MemRefType type) {
  int64_t offset;
  SmallVector<int64_t> strides;
  return succeeded(getStridesAndOffset(type, strides, offset)) &&
         !strides.empty() && strides.back() == 1;
}

SmallVector<Value> indicesAt(OpBuilder &b, Location loc, AffineMap map,
                             ArrayRef<Value> ivs) {
  SmallVector<Value> at;
  for (AffineExpr e : map.getResults()) {
    if (auto d = dyn_cast<AffineDimExpr>(e))
      at.push_back(ivs[d.getPosition()]);
    else
      at.push_back(b.create<arith::ConstantIndexOp>(
          loc, cast<AffineConstantExpr>(e).getValue()));
  }
  return at;
}

std::optional<SmallVector<bool>> classifyInputs(linalg::GenericOp op,
                                                unsigned inner) {
  SmallVector<bool> along;
  for (OpOperand *input : op.getDpsInputOperands()) {
    auto type = dyn_cast<MemRefType>(input->get().getType());
    AffineMap map = op.getMatchingIndexingMap(input);
    if (!type || !type.hasStaticShape() || !byteSized(type) ||
        !map.isProjectedPermutation(/*allowZeroInResults=*/true))
      return std::nullopt;
    bool indexed = map.isFunctionOfDim(inner);
    if (indexed &&
        (map.getResults().back() != getAffineDimExpr(inner, op.getContext()) ||
         !contiguousLastDim(type)))
      return std::nullopt;
    along.push_back(indexed);
  }
  return along;
}

bool hasVectorBody(linalg::GenericOp op, Operation *skip) {
  for (Operation &inner : op.getRegion().front().without_terminator()) {
    if (&inner == skip)
      continue;
    StringRef dialect = inner.getName().getDialectNamespace();
    if ((dialect != "arith" && dialect != "math") ||
        inner.getNumRegions() != 0 || inner.getNumResults() != 1 ||
        !inner.getResult(0).getType().isIntOrFloat() ||
        llvm::any_of(inner.getOperandTypes(),
                     [](Type t) { return !t.isIntOrFloat(); }))
      return false;
  }
  return true;
}

Value emitVectorBody(OpBuilder &b, Location loc, linalg::GenericOp op,
                     ArrayRef<bool> alongInner, SmallVectorImpl<Value> &ivs,
                     unsigned inner, int64_t lanes, Value mask, Operation *skip,
                     Value value) {
  IRMapping map;
  Block &body = op.getRegion().front();
  auto vectorOf = [&](Type t) { return VectorType::get({lanes}, t); };
  for (auto [i, input] : llvm::enumerate(op.getDpsInputOperands())) {
    Value v = input->get();
    Type t = cast<MemRefType>(v.getType()).getElementType();
    SmallVector<Value> at =
        indicesAt(b, loc, op.getMatchingIndexingMap(input), ivs);
    Value loaded;
    if (!alongInner[i])
      loaded = b.create<vector::SplatOp>(loc, vectorOf(t),
                                         b.create<memref::LoadOp>(loc, v, at));
    else if (mask)
      loaded = b.create<vector::MaskedLoadOp>(
          loc, vectorOf(t), v, at, mask,
          b.create<arith::ConstantOp>(loc, vectorOf(t),
                                      b.getZeroAttr(vectorOf(t))));
    else
      loaded = b.create<vector::LoadOp>(loc, vectorOf(t), v, at);
    map.map(body.getArgument(i), loaded);
  }
  // Values from outside the body (constants) are broadcast.
  auto lookup = [&](Value v) -> Value {
    if (Value m = map.lookupOrNull(v))
      return m;
    return b.create<vector::SplatOp>(loc, vectorOf(v.getType()), v);
  };
  for (Operation &inner : body.without_terminator()) {
    if (&inner == skip)
      continue;
    if (auto constant = dyn_cast<arith::ConstantOp>(inner)) {
      map.map(constant.getResult(), lookup(b.clone(inner)->getResult(0)));
      continue;
    }
    OperationState state(loc, inner.getName());
    for (Value operand : inner.getOperands())
      state.addOperands(lookup(operand));
    state.addTypes(vectorOf(inner.getResult(0).getType()));
    state.addAttributes(inner.getAttrs());
    map.map(inner.getResult(0), b.create(state)->getResult(0));
  }
  return lookup(value);
}

} // namespace lathe
