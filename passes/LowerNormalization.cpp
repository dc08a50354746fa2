// Lowering of normalisation layers to linalg.
#include "ir/LatheOps.h"
#include "passes/LoweringUtils.h"

using namespace mlir;

namespace lathe {

void populateNormalizationLowering(const TypeConverter &converter,
                             RewritePatternSet &patterns) {
  (void)converter;
  (void)patterns;
}

} // namespace lathe
