// Vector-Jacobian products of the neural-network layers
// (DifferentiableOpInterface, ir/LatheAutodiff.td): MatMul, Gemm,
// GlobalAveragePool and inference Dropout. Convolution and pooling are in
// LatheConvPoolVJP.cpp, the normalisations in LatheNormVJP.cpp.
#include "ir/VJPUtils.h"

#include <numeric>

using namespace mlir;

namespace lathe {

using vjp::typeOf;

/// Swaps the last two dims of a tensor of rank >= 2.
static Value transposeLastTwo(OpBuilder &b, Location loc, Value v) {
  int64_t rank = typeOf(v).getRank();
  SmallVector<int64_t> perm(rank);
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[rank - 2], perm[rank - 1]);
  return b.create<TransposeOp>(loc, v, perm);
}

LogicalResult MatMulOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                 SmallVectorImpl<Value> &operandGrads) {
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  RankedTensorType aType = typeOf(getA()), bType = typeOf(getB());
  // Work on the promoted operands (a vector A is [1, K], a vector B is
  // [K, 1]) and the unsqueezed gradient [batch..., M, N]; reshape back at
  // the end.
  SmallVector<int64_t> aShape(aType.getShape()), bShape(bType.getShape());
  if (aShape.size() == 1)
    aShape.insert(aShape.begin(), 1);
  if (bShape.size() == 1)
    bShape.push_back(1);
  SmallVector<int64_t> gShape(typeOf(g).getShape());
  if (aType.getRank() == 1)
    gShape.insert(gShape.end() - (bType.getRank() == 1 ? 0 : 1), 1);
  if (bType.getRank() == 1)
    gShape.push_back(1);
  Value a = vjp::reshape(b, loc, getA(), aShape);
  Value bm = vjp::reshape(b, loc, getB(), bShape);
  Value gm = vjp::reshape(b, loc, g, gShape);
  // dA = g B^T and dB = A^T g, each over the full broadcast batch; batch
  // dims that broadcasting added to an operand are summed away.
  Value da = b.create<MatMulOp>(loc, gm, transposeLastTwo(b, loc, bm));
  da = vjp::unbroadcast(b, loc, da,
                        RankedTensorType::get(aShape, aType.getElementType()));
  Value db = b.create<MatMulOp>(loc, transposeLastTwo(b, loc, a), gm);
  db = vjp::unbroadcast(b, loc, db,
                        RankedTensorType::get(bShape, bType.getElementType()));
  operandGrads[0] = vjp::reshape(b, loc, da, aType.getShape());
  operandGrads[1] = vjp::reshape(b, loc, db, bType.getShape());
  return success();
}

LogicalResult GemmOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  bool transA = getTransA(), transB = getTransB();
  FloatAttr alpha = getAlphaAttr();
  FloatAttr one = b.getF32FloatAttr(1.0f);
  auto gemm = [&](Value x, Value y, bool tx, bool ty) -> Value {
    return b.create<GemmOp>(loc, x, y, Value(), b.getBoolAttr(tx),
                            b.getBoolAttr(ty), alpha, one);
  };
  // Y = alpha op(A) op(B) + beta C, so d op(A) = alpha g op(B)^T and
  // d op(B) = alpha op(A)^T g; a transposed operand takes the transpose of
  // its gradient, which swaps the factors.
  operandGrads[0] =
      transA ? gemm(getB(), g, transB, true) : gemm(g, getB(), false, !transB);
  operandGrads[1] =
      transB ? gemm(g, getA(), true, transA) : gemm(getA(), g, !transA, false);
  if (Value c = getC()) {
    Value gc = g;
    double beta = getBetaAttr().getValueAsDouble();
    if (beta != 1.0)
      gc = b.create<MulOp>(
          loc, g, vjp::scalar(b, loc, typeOf(g).getElementType(), beta));
    operandGrads[2] = vjp::unbroadcast(b, loc, gc, typeOf(c));
  }
  return success();
}

LogicalResult
GlobalAveragePoolOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  // Every element of a channel contributes 1/count of its mean.
  Value g = vjp::start(*this, resultGrads, operandGrads);
  if (!g)
    return success();
  Location loc = getLoc();
  RankedTensorType inType = typeOf(getInput());
  int64_t count = 1;
  for (int64_t d : inType.getShape().drop_front(2))
    count *= d;
  if (count > 1)
    g = b.create<MulOp>(
        loc, g, vjp::scalar(b, loc, inType.getElementType(), 1.0 / count));
  if (typeOf(g).getShape() != inType.getShape())
    g = b.create<ExpandOp>(loc, g, inType.getShape());
  operandGrads[0] = g;
  return success();
}

LogicalResult DropoutOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads,
                                  SmallVectorImpl<Value> &operandGrads) {
  // Inference dropout is the identity.
  if (Value g = vjp::start(*this, resultGrads, operandGrads))
    operandGrads[0] = g;
  return success();
}

} // namespace lathe
