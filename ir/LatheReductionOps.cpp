// Type inference, verifiers and folders of the ops in LatheReductionOps.td.
#include "ir/InferUtils.h"
#include "ir/LatheOps.h"

using namespace mlir;
using namespace lathe;
using namespace lathe::infer;

namespace {

/// Shape of `in` reduced over `axes` (checked: ascending, in range).
LogicalResult inferReduce(std::optional<Location> loc, StringRef opName,
                          Value input, ArrayRef<int64_t> axes, bool keepdims,
                          SmallVectorImpl<Type> &results) {
  Shape in = shapeOf(input);
  int64_t rank = in.size();
  for (size_t i = 0; i < axes.size(); ++i) {
    if (axes[i] < 0 || axes[i] >= rank)
      return fail(loc, Twine(opName) + ": axis " + Twine(axes[i]) +
                           " is out of range for rank " + Twine(rank));
    if (i > 0 && axes[i] <= axes[i - 1])
      return fail(loc, Twine(opName) + ": axes " + str(axes) +
                           " must be ascending without repeats");
  }
  Shape out;
  for (int64_t d = 0; d < rank; ++d) {
    bool reduced = llvm::is_contained(axes, d);
    if (!reduced)
      out.push_back(in[d]);
    else if (keepdims)
      out.push_back(1);
  }
  return inferred(results, out, elementTypeOf(input));
}

/// `axis` normalised against the rank of `input`, or a failure.
FailureOr<int64_t> checkAxis(std::optional<Location> loc, StringRef opName,
                             Value input, int64_t axis) {
  int64_t rank = shapeOf(input).size();
  auto a = normaliseAxis(axis, rank);
  if (!a) {
    (void)fail(loc, Twine(opName) + ": axis " + Twine(axis) +
                        " is out of range for rank " + Twine(rank));
    return failure();
  }
  return *a;
}

} // namespace

#define LATHE_REDUCE_INFER(OP, NAME)                                           \
  LogicalResult OP::inferReturnTypes(                                          \
      MLIRContext *, std::optional<Location> loc, Adaptor adaptor,             \
      SmallVectorImpl<Type> &results) {                                        \
    return inferReduce(loc, NAME, adaptor.getInput(), adaptor.getAxes(),       \
                       adaptor.getKeepdims(), results);                        \
  }
LATHE_REDUCE_INFER(ReduceSumOp, "lathe.reduce_sum")
LATHE_REDUCE_INFER(ReduceMeanOp, "lathe.reduce_mean")
LATHE_REDUCE_INFER(ReduceMaxOp, "lathe.reduce_max")
LATHE_REDUCE_INFER(ReduceMinOp, "lathe.reduce_min")
LATHE_REDUCE_INFER(ReduceProdOp, "lathe.reduce_prod")
LATHE_REDUCE_INFER(ReduceL1Op, "lathe.reduce_l1")
LATHE_REDUCE_INFER(ReduceL2Op, "lathe.reduce_l2")
LATHE_REDUCE_INFER(ReduceLogSumOp, "lathe.reduce_log_sum")
LATHE_REDUCE_INFER(ReduceLogSumExpOp, "lathe.reduce_log_sum_exp")
LATHE_REDUCE_INFER(ReduceSumSquareOp, "lathe.reduce_sum_square")
#undef LATHE_REDUCE_INFER

/// The reduced shape of an arg-reduction, with int64 elements.
static LogicalResult inferArgReduce(MLIRContext *ctx,
                                    std::optional<Location> loc,
                                    StringRef opName, Value input, int64_t axis,
                                    bool keepdims,
                                    SmallVectorImpl<Type> &results) {
  auto a = checkAxis(loc, opName, input, axis);
  if (failed(a))
    return failure();
  SmallVector<Type> reduced;
  if (failed(inferReduce(loc, opName, input, ArrayRef(*a), keepdims, reduced)))
    return failure();
  return inferred(results, Shape(cast<RankedTensorType>(reduced[0]).getShape()),
                  IntegerType::get(ctx, 64));
}

#define LATHE_ARG_INFER(OP, NAME)                                              \
  LogicalResult OP::inferReturnTypes(                                          \
      MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,          \
      SmallVectorImpl<Type> &results) {                                        \
    return inferArgReduce(ctx, loc, NAME, adaptor.getInput(),                  \
                          adaptor.getAxis(), adaptor.getKeepdims(), results);  \
  }
LATHE_ARG_INFER(ArgMaxOp, "lathe.argmax")
LATHE_ARG_INFER(ArgMinOp, "lathe.argmin")
#undef LATHE_ARG_INFER

LogicalResult CumSumOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  if (failed(checkAxis(loc, "lathe.cumsum", adaptor.getInput(),
                       adaptor.getAxis())))
    return failure();
  return inferSameAsInput(adaptor.getInput(), results);
}

LogicalResult TopKOp::inferReturnTypes(MLIRContext *ctx,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &results) {
  auto axis =
      checkAxis(loc, "lathe.topk", adaptor.getInput(), adaptor.getAxis());
  if (failed(axis))
    return failure();
  Shape shape = shapeOf(adaptor.getInput());
  int64_t k = adaptor.getK();
  if (k < 0 || k > shape[*axis])
    return fail(loc, "lathe.topk: k = " + Twine(k) + " is not in [0, " +
                         Twine(shape[*axis]) + "] (the size of axis " +
                         Twine(*axis) + ")");
  shape[*axis] = k;
  (void)inferred(results, shape, elementTypeOf(adaptor.getInput()));
  return inferred(results, shape, IntegerType::get(ctx, 64));
}
