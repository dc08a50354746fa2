#include "ir/LatheDialect.h"
#include "ir/LatheOps.h"

using namespace mlir;
using namespace lathe;

#include "ir/LatheDialect.cpp.inc"

void LatheDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "ir/LatheOps.cpp.inc"
      >();
}

Operation *LatheDialect::materializeConstant(OpBuilder &builder,
                                             Attribute value, Type type,
                                             Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return builder.create<ConstantOp>(loc, elements);
}
