// Lowering of Resize, Upsample and GridSample to linalg.
#include "ir/LatheOps.h"
#include "passes/LoweringUtils.h"

using namespace mlir;

namespace lathe {

void populateResizeLowering(const TypeConverter &converter,
                             RewritePatternSet &patterns) {
  (void)converter;
  (void)patterns;
}

} // namespace lathe
