// Computes float16 and bfloat16 arithmetic in float32: each arith/math op on
// those types gets its operands extended, runs in f32, and has its results
// rounded back; within one linalg body the intermediate roundings are then
// dropped, so an ONNX op reads f16, computes in f32 and rounds once.
// x86 has no half-precision arithmetic here, and upstream's polynomial
// approximations and LLVM's libm lowering only exist for f32/f64.
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_WIDENSMALLFLOATS
#include "passes/Passes.h.inc"

namespace {

bool isSmallFloat(Type t) {
  return isa<Float16Type, BFloat16Type>(getElementTypeOrSelf(t));
}

Type widened(Type t) {
  Type f32 = Float32Type::get(t.getContext());
  if (auto vec = dyn_cast<VectorType>(t))
    return vec.clone(f32);
  return f32;
}

/// Ops that only move or convert bits; they are fine on small floats.
bool isExempt(Operation *op) {
  return isa<arith::ConstantOp, arith::ExtFOp, arith::TruncFOp,
             arith::BitcastOp, arith::SelectOp, arith::FPToSIOp,
             arith::FPToUIOp, arith::SIToFPOp, arith::UIToFPOp>(op);
}

struct WidenSmallFloatsPass
    : impl::WidenSmallFloatsBase<WidenSmallFloatsPass> {
  void runOnOperation() override {
    SmallVector<Operation *> work;
    getOperation()->walk([&](Operation *op) {
      if (!isa<arith::ArithDialect, math::MathDialect>(op->getDialect()) ||
          isExempt(op) || op->getNumRegions() != 0)
        return;
      bool small = llvm::any_of(op->getOperandTypes(), isSmallFloat) ||
                   llvm::any_of(op->getResultTypes(), isSmallFloat);
      if (small)
        work.push_back(op);
    });
    for (Operation *op : work) {
      OpBuilder b(op);
      Location loc = op->getLoc();
      IRMapping map;
      for (Value v : op->getOperands())
        if (isSmallFloat(v.getType()))
          map.map(v, b.create<arith::ExtFOp>(loc, widened(v.getType()), v));
      Operation *wide = b.clone(*op, map);
      for (OpResult r : wide->getResults())
        if (isSmallFloat(r.getType()))
          r.setType(widened(r.getType()));
      for (auto [oldResult, newResult] :
           llvm::zip(op->getResults(), wide->getResults())) {
        Value v = newResult;
        if (oldResult.getType() != newResult.getType())
          v = b.create<arith::TruncFOp>(loc, oldResult.getType(), newResult);
        oldResult.replaceAllUsesWith(v);
      }
      op->erase();
    }
    // Inside one block (one linalg body, i.e. one ONNX op or a fused group)
    // intermediate values stay in f32: only block arguments and yielded
    // values are rounded.
    getOperation()->walk([&](arith::ExtFOp ext) {
      auto trunc = ext.getIn().getDefiningOp<arith::TruncFOp>();
      if (trunc && trunc->getBlock() == ext->getBlock() &&
          trunc.getIn().getType() == ext.getType()) {
        ext.replaceAllUsesWith(trunc.getIn());
        ext->erase();
        if (trunc->use_empty())
          trunc->erase();
      }
    });
  }
};

} // namespace
} // namespace lathe
