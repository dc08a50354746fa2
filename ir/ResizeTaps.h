// The sampling rule of lathe.resize along one dimension: for every output
// coordinate, the source indices it reads and their weights (the ONNX
// reference algorithm, onnx/backend/test/case/node/resize.py,
// interpolate_1d_with_x, computed in double at compile time).
#ifndef LATHE_IR_RESIZETAPS_H
#define LATHE_IR_RESIZETAPS_H

#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <utility>
#include <vector>

namespace lathe {

class ResizeOp;

/// Source taps of one output coordinate along one dim.
struct ResizeTaps {
  /// (source index, weight); indices are distinct, out-of-range taps read
  /// the edge (the reference pads by replication).
  llvm::SmallVector<std::pair<int64_t, double>> taps;
  /// tf_crop_and_resize: the sample lies outside the roi and yields
  /// extrapolation_value (then `taps` is one tap of weight 0).
  bool outside = false;
};

/// The taps of every output coordinate along dim `dim` of `op`, resized from
/// `in` to `out` elements.
std::vector<ResizeTaps> resizeTaps(ResizeOp op, int64_t dim, int64_t in,
                                   int64_t out);

} // namespace lathe

#endif // LATHE_IR_RESIZETAPS_H
