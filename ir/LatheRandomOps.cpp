// Type inference, verifiers and folders of the ops in LatheRandomOps.td.
#include "ir/InferUtils.h"
#include "ir/LatheOps.h"

using namespace mlir;
using namespace lathe;
using namespace lathe::infer;

static LogicalResult inferGenerated(std::optional<Location> loc, StringRef name,
                                    ArrayRef<int64_t> shape, Type dtype,
                                    SmallVectorImpl<Type> &results) {
  if (!isa<FloatType>(dtype))
    return fail(loc, Twine(name) + ": dtype must be a float type");
  for (int64_t d : shape)
    if (d < 0)
      return fail(loc, Twine(name) + ": shape " + str(shape) +
                           " has a negative dim");
  return inferred(results, Shape(shape.begin(), shape.end()), dtype);
}

LogicalResult
RandomUniformOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                  Adaptor adaptor,
                                  SmallVectorImpl<Type> &results) {
  if (adaptor.getHigh().convertToFloat() < adaptor.getLow().convertToFloat())
    return fail(loc, "lathe.random_uniform: high is below low");
  return inferGenerated(loc, "lathe.random_uniform", adaptor.getShape(),
                        adaptor.getDtype(), results);
}

LogicalResult RandomNormalOp::inferReturnTypes(MLIRContext *,
                                               std::optional<Location> loc,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &results) {
  return inferGenerated(loc, "lathe.random_normal", adaptor.getShape(),
                        adaptor.getDtype(), results);
}

LogicalResult BernoulliOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  Type t = adaptor.getDtype();
  if (!isa<FloatType, IntegerType>(t))
    return fail(loc, "lathe.bernoulli: dtype must be a float, integer or bool "
                     "type");
  return inferred(results, shapeOf(adaptor.getInput()), t);
}

LogicalResult TrainingDropoutOp::inferReturnTypes(
    MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &results) {
  if (!shapeOf(adaptor.getRatio()).empty() ||
      !shapeOf(adaptor.getTraining()).empty())
    return fail(loc, "lathe.training_dropout: ratio and training must be "
                     "scalars");
  Value step = adaptor.getStep();
  if (step && !shapeOf(step).empty())
    return fail(loc, "lathe.training_dropout: step must be a scalar");
  if (bool(step) != adaptor.getOpIndex().has_value())
    return fail(loc, "lathe.training_dropout: step and op_index come "
                     "together");
  Shape s = shapeOf(adaptor.getInput());
  (void)inferred(results, s, elementTypeOf(adaptor.getInput()));
  return inferred(results, s, IntegerType::get(ctx, 1));
}
