// Compile-time evaluation of ONNX nodes whose inputs are all constants.
// lathe compiles static shapes, yet exported models compute shapes at run
// time (Shape → Gather → Concat → Reshape, ConstantOfShape, Range, ...):
// evaluating those subgraphs on the host turns them into constants that the
// consumers needing constants (Reshape's shape, Slice's starts, ...) can read.
// Results are bit-identical to what the compiled code would compute; an
// evaluator declines (and the node is compiled) where it could not promise
// that. Internal to frontend/.
#ifndef LATHE_FRONTEND_CONSTANTEVAL_H
#define LATHE_FRONTEND_CONSTANTEVAL_H

#include "lathe/Tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lathe {

class NodeImporter;

/// When every input of the node is a compile-time constant and its op type is
/// in the evaluator's table, evaluates it, emits its outputs as lathe.constant
/// and records them as constant outputs. Returns false, having emitted
/// nothing, when it does not apply or the evaluator declines.
bool foldConstantNode(NodeImporter &n);

/// Whether `opType` (default domain) is in the evaluator's table.
bool isConstantFoldable(const std::string &opType);

/// Emits `t` as a lathe.constant (a splat when all elements are equal), sets
/// it as output `i` and records it as a constant output. Fails with an error
/// at the node when lathe cannot hold `t`'s element type.
bool setConstantOutput(NodeImporter &n, size_t i, Tensor t);

/// ONNX Shape (with opset 15's start/end, clamped) of a tensor of `shape`.
Tensor shapeTensor(const std::vector<int64_t> &shape, int64_t start,
                   int64_t end);

/// The elements of a constant integer tensor (any integer dtype) as int64;
/// false when `t` is not an integer tensor.
bool readInts(const Tensor &t, std::vector<int64_t> &out);

/// Element `i` of `t` as a double (any numeric dtype but f16).
double elementAsDouble(const Tensor &t, int64_t i);

/// ONNX EyeLike: ones where `col - row == k`, zeros elsewhere; false when
/// the evaluator cannot write `dtype`.
bool eyeTensor(DType dtype, const std::vector<int64_t> &shape, int64_t k,
               Tensor &out);

} // namespace lathe

#endif // LATHE_FRONTEND_CONSTANTEVAL_H
