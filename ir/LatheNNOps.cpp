// Type inference, verifiers and folders of the ops in LatheNNOps.td.
#include "ir/InferUtils.h"
#include "ir/LatheOps.h"

using namespace mlir;
using namespace lathe;
using namespace lathe::infer;
