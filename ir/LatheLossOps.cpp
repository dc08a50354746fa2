// Type inference, verifiers and folders of the ops in LatheLossOps.td.
#include "ir/InferUtils.h"
#include "ir/LatheOps.h"

using namespace mlir;
using namespace lathe;
using namespace lathe::infer;

LogicalResult NllLossOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  Shape in = shapeOf(adaptor.getInput()), target = shapeOf(adaptor.getTarget());
  if (in.size() < 2)
    return fail(loc,
                "lathe.nll_loss: input must be [N, C, d...], got " + str(in));
  Shape expect = {in[0]};
  expect.insert(expect.end(), in.begin() + 2, in.end());
  if (target != expect)
    return fail(loc, "lathe.nll_loss: target " + str(target) +
                         " does not fit input " + str(in) + " (expected " +
                         str(expect) + ")");
  if (Value w = adaptor.getWeight()) {
    if (shapeOf(w) != Shape{in[1]})
      return fail(loc, "lathe.nll_loss: weight " + str(shapeOf(w)) +
                           " must be [C] = [" + Twine(in[1]) + "]");
    if (elementTypeOf(w) != elementTypeOf(adaptor.getInput()))
      return fail(loc, "lathe.nll_loss: weight and input element types differ");
  }
  StringRef reduction = adaptor.getReduction();
  if (reduction == "none")
    return inferred(results, expect, elementTypeOf(adaptor.getInput()));
  if (reduction == "sum" || reduction == "mean")
    return inferred(results, {}, elementTypeOf(adaptor.getInput()));
  return fail(loc, "lathe.nll_loss: reduction '" + reduction +
                       "' is not none, sum or mean");
}
