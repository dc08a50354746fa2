// lathe-flatten-constants: every multi-dimensional constant memref.global
// becomes a 1-D global viewed through memref.expand_shape. LLVM represents
// an N-D global as nested arrays, one constant object per innermost row
// (786,432 of them for one 512x512x3x3 weight), which made translating and
// optimising ResNet-18's weights take most of its compile time; a 1-D
// global is one raw data array.
#include "passes/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringMap.h"

using namespace mlir;

namespace lathe {
#define GEN_PASS_DEF_FLATTENCONSTANTS
#include "passes/Passes.h.inc"

namespace {

/// The same values as a 1-D attribute of `type`, or null.
Attribute flatValue(Attribute value, RankedTensorType type) {
  if (auto dense = dyn_cast<DenseElementsAttr>(value))
    return dense.reshape(type);
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value))
    return DenseResourceElementsAttr::get(type, resource.getRawHandle());
  return nullptr;
}

struct FlattenConstantsPass : impl::FlattenConstantsBase<FlattenConstantsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Global name -> its original (N-D) type, for the get_global rewrites.
    llvm::StringMap<MemRefType> flattened;
    for (auto global : module.getOps<memref::GlobalOp>()) {
      MemRefType type = global.getType();
      auto init = global.getInitialValue();
      if (!global.getConstant() || !init || type.getRank() < 2 ||
          !type.hasStaticShape() || !type.getLayout().isIdentity())
        continue;
      auto flatTensor =
          RankedTensorType::get({type.getNumElements()}, type.getElementType());
      Attribute flat = flatValue(*init, flatTensor);
      if (!flat)
        continue;
      global.setTypeAttr(TypeAttr::get(
          MemRefType::get({type.getNumElements()}, type.getElementType(),
                          MemRefLayoutAttrInterface(), type.getMemorySpace())));
      global.setInitialValueAttr(flat);
      flattened[global.getSymName()] = type;
    }
    if (flattened.empty())
      return;
    module.walk([&](memref::GetGlobalOp get) {
      auto it = flattened.find(get.getName());
      if (it == flattened.end())
        return;
      MemRefType shaped = it->second;
      OpBuilder b(get);
      auto flatType =
          MemRefType::get({shaped.getNumElements()}, shaped.getElementType(),
                          MemRefLayoutAttrInterface(), shaped.getMemorySpace());
      auto flat =
          b.create<memref::GetGlobalOp>(get.getLoc(), flatType, get.getName());
      ReassociationIndices all;
      for (int64_t i = 0; i < shaped.getRank(); ++i)
        all.push_back(i);
      auto expanded = b.create<memref::ExpandShapeOp>(
          get.getLoc(), shaped, flat.getResult(),
          ArrayRef<ReassociationIndices>{all});
      get.replaceAllUsesWith(expanded.getResult());
      get.erase();
    });
  }
};

} // namespace
} // namespace lathe
