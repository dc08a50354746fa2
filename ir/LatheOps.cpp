// Type inference, verifiers and folders of the lathe ops. Inference doubles as
// verification: an op whose operands do not fit its attributes fails here with
// a message naming the op, and the importer reports it with the node name.
#include "ir/LatheOps.h"
#include "ir/InferUtils.h"
#include "ir/ShapeInference.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace lathe;

using namespace lathe::infer;


//===----------------------------------------------------------------------===//
// ConstantOp
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &results) {
  results.push_back(adaptor.getValue().getType());
  return success();
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValueAttr(); }

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

#define LATHE_BINARY_INFER(OP, NAME)                                          \
  LogicalResult OP::inferReturnTypes(MLIRContext *,                           \
                                     std::optional<Location> loc,             \
                                     Adaptor adaptor,                         \
                                     SmallVectorImpl<Type> &results) {        \
    return inferBroadcast(loc, NAME, adaptor.getLhs(), adaptor.getRhs(),      \
                          results);                                           \
  }
LATHE_BINARY_INFER(AddOp, "lathe.add")
LATHE_BINARY_INFER(SubOp, "lathe.sub")
LATHE_BINARY_INFER(MulOp, "lathe.mul")
LATHE_BINARY_INFER(DivOp, "lathe.div")
#undef LATHE_BINARY_INFER

// Unary ops get their inference from SameOperandsAndResultType.

template <typename OpT> static LogicalResult verifySoftmaxAxis(OpT op) {
  int64_t rank = cast<RankedTensorType>(op.getInput().getType()).getRank();
  if (!normaliseAxis(static_cast<int64_t>(op.getAxis()), std::max<int64_t>(rank, 1)))
    return op.emitOpError("axis ")
           << static_cast<int64_t>(op.getAxis()) << " is out of range for rank "
           << rank;
  return success();
}
LogicalResult SoftmaxOp::verify() { return verifySoftmaxAxis(*this); }
LogicalResult LogSoftmaxOp::verify() { return verifySoftmaxAxis(*this); }

OpFoldResult IdentityOp::fold(FoldAdaptor) { return getInput(); }
OpFoldResult DropoutOp::fold(FoldAdaptor) { return getInput(); }

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

LogicalResult GemmOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &results) {
  Shape a = shapeOf(adaptor.getA()), b = shapeOf(adaptor.getB());
  if (a.size() != 2 || b.size() != 2)
    return fail(loc, "lathe.gemm: A and B must be 2-D, got " + str(a) +
                         " and " + str(b));
  int64_t m = adaptor.getTransA() ? a[1] : a[0];
  int64_t ka = adaptor.getTransA() ? a[0] : a[1];
  int64_t kb = adaptor.getTransB() ? b[1] : b[0];
  int64_t n = adaptor.getTransB() ? b[0] : b[1];
  if (ka != kb)
    return fail(loc, "lathe.gemm: inner dims differ: op(A) is " +
                         str({m, ka}) + ", op(B) is " + str({kb, n}));
  if (Value c = adaptor.getC()) {
    auto out = broadcastShapes(shapeOf(c), {m, n});
    if (!out || *out != Shape{m, n})
      return fail(loc, "lathe.gemm: C of shape " + str(shapeOf(c)) +
                           " does not broadcast to " + str({m, n}));
  }
  return inferred(results, {m, n}, elementTypeOf(adaptor.getA()));
}

LogicalResult MatMulOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  Shape a = shapeOf(adaptor.getA()), b = shapeOf(adaptor.getB());
  if (a.empty() || b.empty())
    return fail(loc, "lathe.matmul: operands must have rank >= 1");
  bool vecA = a.size() == 1, vecB = b.size() == 1;
  if (vecA)
    a.insert(a.begin(), 1);
  if (vecB)
    b.push_back(1);
  if (a.back() != b[b.size() - 2])
    return fail(loc, "lathe.matmul: inner dims differ: " +
                         str(shapeOf(adaptor.getA())) + " x " +
                         str(shapeOf(adaptor.getB())));
  Shape batchA(a.begin(), a.end() - 2), batchB(b.begin(), b.end() - 2);
  auto batch = broadcastShapes(batchA, batchB);
  if (!batch)
    return fail(loc, "lathe.matmul: batch dims " + str(batchA) + " and " +
                         str(batchB) + " do not broadcast");
  Shape out = *batch;
  if (!vecA)
    out.push_back(a[a.size() - 2]);
  if (!vecB)
    out.push_back(b.back());
  return inferred(results, out, elementTypeOf(adaptor.getA()));
}

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

LogicalResult ConvOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &results) {
  Shape in = shapeOf(adaptor.getInput()), w = shapeOf(adaptor.getWeight());
  if (w.size() != in.size())
    return fail(loc, "lathe.conv: weight " + str(w) + " and input " + str(in) +
                         " differ in rank");
  size_t spatial = in.size() >= 2 ? in.size() - 2 : 0;
  Shape kernel(w.begin() + std::min<size_t>(2, w.size()), w.end());
  if (failed(checkWindow(loc, "lathe.conv", in, spatial, kernel,
                         adaptor.getStrides(), adaptor.getDilations(),
                         adaptor.getPads())))
    return failure();
  int64_t group = static_cast<int64_t>(adaptor.getGroup());
  if (group < 1 || in[1] % group != 0 || w[0] % group != 0)
    return fail(loc, "lathe.conv: group " + Twine(group) +
                         " does not divide the channels " + Twine(in[1]) +
                         " and filters " + Twine(w[0]));
  if (w[1] * group != in[1])
    return fail(loc, "lathe.conv: weight " + str(w) + " expects " +
                         Twine(w[1] * group) + " input channels, input has " +
                         Twine(in[1]));
  if (Value bias = adaptor.getBias())
    if (shapeOf(bias) != Shape{w[0]})
      return fail(loc, "lathe.conv: bias " + str(shapeOf(bias)) +
                           " must be [" + Twine(w[0]) + "]");
  return inferWindowOutput(loc, "lathe.conv", in, w[0], kernel,
                           adaptor.getStrides(), adaptor.getDilations(),
                           adaptor.getPads(), /*ceilMode=*/false,
                           elementTypeOf(adaptor.getInput()), results);
}

LogicalResult MaxPoolOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  Shape in = shapeOf(adaptor.getInput());
  size_t spatial = adaptor.getKernelShape().size();
  if (failed(checkWindow(loc, "lathe.max_pool", in, in.size() - 2,
                         adaptor.getKernelShape(), adaptor.getStrides(),
                         adaptor.getDilations(), adaptor.getPads())) ||
      spatial != in.size() - 2)
    return failure();
  return inferWindowOutput(loc, "lathe.max_pool", in, in[1],
                           adaptor.getKernelShape(), adaptor.getStrides(),
                           adaptor.getDilations(), adaptor.getPads(),
                           adaptor.getCeilMode(),
                           elementTypeOf(adaptor.getInput()), results);
}

LogicalResult AveragePoolOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &results) {
  Shape in = shapeOf(adaptor.getInput());
  Shape ones(adaptor.getKernelShape().size(), 1);
  if (failed(checkWindow(loc, "lathe.average_pool", in, in.size() - 2,
                         adaptor.getKernelShape(), adaptor.getStrides(), ones,
                         adaptor.getPads())))
    return failure();
  return inferWindowOutput(loc, "lathe.average_pool", in, in[1],
                           adaptor.getKernelShape(), adaptor.getStrides(), ones,
                           adaptor.getPads(), adaptor.getCeilMode(),
                           elementTypeOf(adaptor.getInput()), results);
}

LogicalResult GlobalAveragePoolOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &results) {
  Shape in = shapeOf(adaptor.getInput());
  if (in.size() < 2)
    return fail(loc, "lathe.global_average_pool: input must be [N, C, ...]");
  Shape out(in.size(), 1);
  out[0] = in[0];
  out[1] = in[1];
  return inferred(results, out, elementTypeOf(adaptor.getInput()));
}

LogicalResult BatchNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  Shape in = shapeOf(adaptor.getInput());
  if (in.size() < 2)
    return fail(loc, "lathe.batch_norm: input must be [N, C, ...]");
  for (Value p : {adaptor.getScale(), adaptor.getBias(), adaptor.getMean(),
                  adaptor.getVariance()})
    if (shapeOf(p) != Shape{in[1]})
      return fail(loc, "lathe.batch_norm: parameter of shape " +
                           str(shapeOf(p)) + " must be [" + Twine(in[1]) + "]");
  return inferSameAsInput(adaptor.getInput(), results);
}

//===----------------------------------------------------------------------===//
// Shape and data movement
//===----------------------------------------------------------------------===//

LogicalResult FlattenOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  Shape in = shapeOf(adaptor.getInput());
  int64_t rank = in.size();
  int64_t axis = static_cast<int64_t>(adaptor.getAxis());
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis > rank)
    return fail(loc, "lathe.flatten: axis " +
                         Twine(static_cast<int64_t>(adaptor.getAxis())) +
                         " is out of range for rank " + Twine(rank));
  int64_t rows = numElements(Shape(in.begin(), in.begin() + axis));
  int64_t cols = numElements(Shape(in.begin() + axis, in.end()));
  return inferred(results, {rows, cols}, elementTypeOf(adaptor.getInput()));
}

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  Shape in = shapeOf(adaptor.getInput());
  Shape out(adaptor.getShape().begin(), adaptor.getShape().end());
  for (int64_t d : out)
    if (d < 0)
      return fail(loc, "lathe.reshape: shape " + str(out) + " is not resolved");
  if (numElements(in) != numElements(out))
    return fail(loc, "lathe.reshape: cannot reshape " + str(in) + " to " +
                         str(out));
  return inferred(results, out, elementTypeOf(adaptor.getInput()));
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  Shape in = shapeOf(adaptor.getInput());
  ArrayRef<int64_t> perm = adaptor.getPerm();
  if (perm.size() != in.size())
    return fail(loc, "lathe.transpose: perm " + str(perm) +
                         " does not match rank " + Twine(in.size()));
  std::vector<bool> seen(in.size(), false);
  Shape out;
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(in.size()) || seen[p])
      return fail(loc, "lathe.transpose: perm " + str(perm) +
                           " is not a permutation");
    seen[p] = true;
    out.push_back(in[p]);
  }
  return inferred(results, out, elementTypeOf(adaptor.getInput()));
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  if (adaptor.getInputs().empty())
    return fail(loc, "lathe.concat: needs at least one input");
  Shape out = shapeOf(adaptor.getInputs().front());
  auto axis = normaliseAxis(static_cast<int64_t>(adaptor.getAxis()), out.size());
  if (!axis)
    return fail(loc, "lathe.concat: axis " +
                         Twine(static_cast<int64_t>(adaptor.getAxis())) +
                         " is out of range for rank " + Twine(out.size()));
  out[*axis] = 0;
  for (Value v : adaptor.getInputs()) {
    Shape s = shapeOf(v);
    if (s.size() != out.size())
      return fail(loc, "lathe.concat: inputs differ in rank");
    for (size_t i = 0; i < s.size(); ++i)
      if (static_cast<int64_t>(i) != *axis && s[i] != out[i])
        return fail(loc, "lathe.concat: input " + str(s) +
                             " differs outside the axis from " +
                             str(shapeOf(adaptor.getInputs().front())));
    out[*axis] += s[*axis];
  }
  return inferred(results, out, elementTypeOf(adaptor.getInputs().front()));
}

#define GET_OP_CLASSES
#include "ir/LatheOps.cpp.inc"
