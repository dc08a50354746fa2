// Internals of the compile-time evaluator (ConstantEval.cpp): host element
// access over lathe::Tensor with the compiled code's conversions, and the
// elementwise evaluators (ConstantEvalMath.cpp). Internal to frontend/.
#ifndef LATHE_FRONTEND_CONSTANTEVALINTERNAL_H
#define LATHE_FRONTEND_CONSTANTEVALINTERNAL_H

#include "frontend/NodeImporter.h"
#include "ir/ShapeInference.h"
#include "lathe/Tensor.h"

#include <functional>
#include <vector>

namespace lathe::eval {

/// Folding is for shape arithmetic; results past this size stay in the
/// compiled code (ops that can only be constants are exempt).
constexpr int64_t kMaxFoldElements = 1 << 20;

bool isFloat(DType t);
bool isInteger(DType t);
/// Dtypes whose values the arithmetic evaluators read and write.
bool isNumeric(DType t);
/// Whether every value of `t` is its int64 reading: uint64 values past
/// INT64_MAX are not, and only wrapping arithmetic (+, -, *, ==) may use
/// them.
bool fitsInt64(const Tensor &t);

/// Element `i` as an integer (floats truncated) or as a double.
int64_t readI(const Tensor &t, int64_t i);
double readF(const Tensor &t, int64_t i);
/// Stores an integer: wraps to the width (as arith.trunci), converts to a
/// float type with one rounding (as arith.sitofp).
void writeI(Tensor &t, int64_t i, int64_t v);
/// Stores a float into a float tensor, rounding once.
void writeF(Tensor &t, int64_t i, double v);
void copyElement(Tensor &dst, int64_t di, const Tensor &src, int64_t si);

/// Row-major strides of `shape`.
Shape stridesOf(const Shape &shape);
/// Calls f(multi-index, linear index) for every element of `shape`.
void forEachIndex(const Shape &shape,
                  const std::function<void(const Shape &, int64_t)> &f);
/// For every element of `out`, the linear index of the element of a tensor
/// of shape `in` that numpy broadcasting reads.
std::vector<int64_t> broadcastIndices(const Shape &in, const Shape &out);
/// A copy of `src` with another shape (same elements, same order).
Tensor reshaped(const Tensor &src, Shape shape);

using Outputs = std::vector<Tensor>;
/// Evaluates a node whose inputs are all constants; false declines.
using EvalFn = std::function<bool(const NodeImporter &, Outputs &)>;

/// The constant value of input `i` (the caller checked it is one).
inline const Tensor &in(const NodeImporter &n, size_t i) {
  return *n.constInput(i);
}

enum class Binary {
  Add,
  Sub,
  Mul,
  Div,
  Min,
  Max,
  Equal,
  Less,
  Greater,
  LessOrEqual,
  GreaterOrEqual,
  And,
  Or,
  Xor
};
enum class Unary { Neg, Abs, Not, Floor, Ceil, Sqrt, Reciprocal, Relu, Sign };

/// a op b with numpy broadcasting; false when the compiled code would not
/// give a defined result (integer division by zero) or the dtypes do not fit.
bool binary(Binary op, const Tensor &a, const Tensor &b, Tensor &out);

EvalFn binaryFn(Binary op);
/// Min, Max and Sum take any number of inputs from opset 8 on.
EvalFn variadicFn(Binary op);
EvalFn unaryFn(Unary op);
/// ReduceSum/Prod/Min/Max in index order (as the compiled loops accumulate).
EvalFn reduceFn(Binary op, bool product);
bool evalCast(const NodeImporter &n, Outputs &outs);
bool evalCastLike(const NodeImporter &n, Outputs &outs);
bool evalMod(const NodeImporter &n, Outputs &outs);
bool evalWhere(const NodeImporter &n, Outputs &outs);
bool evalIdentity(const NodeImporter &n, Outputs &outs);

} // namespace lathe::eval

#endif // LATHE_FRONTEND_CONSTANTEVALINTERNAL_H
