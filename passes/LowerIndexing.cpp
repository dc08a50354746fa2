// Lowering of index-driven data movement (Gather*, Scatter*, Slice, Pad, ...) to linalg.
#include "ir/LatheOps.h"
#include "passes/LoweringUtils.h"

using namespace mlir;

namespace lathe {

void populateIndexingLowering(const TypeConverter &converter,
                             RewritePatternSet &patterns) {
  (void)converter;
  (void)patterns;
}

} // namespace lathe
