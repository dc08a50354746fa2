// Lowering of random generators to linalg.
#include "ir/LatheOps.h"
#include "passes/LoweringUtils.h"

using namespace mlir;

namespace lathe {

void populateRandomLowering(const TypeConverter &converter,
                             RewritePatternSet &patterns) {
  (void)converter;
  (void)patterns;
}

} // namespace lathe
