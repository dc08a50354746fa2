// RUN: lathe-opt --lathe-lower-to-linalg %s | FileCheck %s

// The tiled max-pool gradient's window positions (@max_pool_grad).
// CHECK-DAG: #[[W00:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, 0, d4, 0)>
// CHECK-DAG: #[[W11:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, 1, d4, 1)>
// CHECK-DAG: #[[G:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d4)>
// Window access o * stride + k * dilation; groups are an explicit loop (d1).
// Strided along the last dim, the input is read from its phases
// x'[.., p, j] = x[.., j * s + p]: the window's last index becomes
// ((k * d) mod s, o + (k * d) floordiv s), contiguous along o.
// CHECK-DAG: #[[BIAS:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d2)>
// CHECK-DAG: #[[PHASE:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4 * 2 + d3)>
// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5, d3 * 2 + d6, d7 mod 2, d4 + d7 floordiv 2)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d2, d5, d6, d7)>
// CHECK-DAG: #[[PX:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d4, d3 * 2 + d5)>
// Transposed convolution: the begin pad shifts the window, the kernel is
// read flipped.
// CHECK-DAG: #[[CTX:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5, d3 + d6 + 1, d4 + d7)>
// CHECK-DAG: #[[CTW:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d5, d2, -d6 + 2, -d7 + 2)>
// CHECK-DAG: #[[PHASE3:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3 * 3 + d2)>
// CHECK-DAG: #[[DIL:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4, (d5 * 2) mod 3, d3 + (d5 * 2) floordiv 3)>

// The padded width becomes 2 phases x 4 (o + k floordiv 2 < 3 + 1).
// CHECK-LABEL: func.func @conv_grouped
// CHECK: tensor.pad %arg0 low[0, 0, 1, 1] high[0, 0, 1, 2]
// CHECK: linalg.generic {indexing_maps = [#[[PHASE]], #{{.*}}]{{.*}} ins(%{{.*}} : tensor<1x4x7x8xf32>) outs(%{{.*}} : tensor<1x4x7x2x4xf32>)
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0], [1, 2], [3], [4], [5]] output_shape [1, 2, 2, 7, 2, 4]
// CHECK: tensor.expand_shape %arg1 {{\[\[}}0, 1], [2], [3], [4]] output_shape [2, 3, 2, 3, 3]
// CHECK: linalg.generic {indexing_maps = [#[[BIAS]], #{{.*}}]
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[W]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0], [1, 2], [3], [4]] : tensor<1x2x3x3x3xf32> into tensor<1x6x3x3xf32>
func.func @conv_grouped(%x: tensor<1x4x5x5xf32>, %w: tensor<6x2x3x3xf32>, %b: tensor<6xf32>) -> tensor<1x6x3x3xf32> {
  %0 = lathe.conv %x, %w, %b {strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, group = 2} : (tensor<1x4x5x5xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<1x6x3x3xf32>
  return %0 : tensor<1x6x3x3xf32>
}

// 3 phases x 3 cover every read (index <= 8): the last input element is
// never read and is sliced off.
// CHECK-LABEL: func.func @conv1d_dilated
// CHECK-NOT: tensor.pad
// CHECK: tensor.extract_slice %arg0[0, 0, 0] [1, 1, 9] [1, 1, 1]
// CHECK: linalg.generic {indexing_maps = [#[[PHASE3]], #{{.*}}]{{.*}} outs(%{{.*}} : tensor<1x1x3x3xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[DIL]]
func.func @conv1d_dilated(%x: tensor<1x1x10xf32>, %w: tensor<1x1x2xf32>) -> tensor<1x1x3xf32> {
  %0 = lathe.conv %x, %w {strides = array<i64: 3>, dilations = array<i64: 2>, pads = array<i64: 0, 0>, group = 1} : (tensor<1x1x10xf32>, tensor<1x1x2xf32>) -> tensor<1x1x3xf32>
  return %0 : tensor<1x1x3xf32>
}

// ceil_mode needs one more row and column of -inf padding at the end.
// CHECK-LABEL: func.func @maxpool
// CHECK: arith.constant 0xFF800000 : f32
// CHECK: tensor.pad %arg0 low[0, 0, 0, 0] high[0, 0, 1, 1]
// CHECK: tensor.empty() : tensor<3x3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[PX]], {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
// CHECK: arith.maximumf
func.func @maxpool(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32> {
  %0 = lathe.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, ceil_mode = true} : (tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x2x2xf32>
}

// Divisors count only the elements inside the input (count_include_pad = 0).
// CHECK-LABEL: func.func @avgpool
// CHECK: arith.addf
// CHECK: arith.constant dense<{{\[\[}}9.000000e+00, 6.000000e+00], [6.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>
// CHECK: arith.divf
func.func @avgpool(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32> {
  %0 = lathe.average_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, ceil_mode = true, count_include_pad = false} : (tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x2x2xf32>
}

// CHECK-LABEL: func.func @avgpool_include_pad
// CHECK: arith.constant dense<9.000000e+00> : tensor<2x2xf32>
func.func @avgpool_include_pad(%x: tensor<1x1x3x3xf32>) -> tensor<1x1x2x2xf32> {
  %0 = lathe.average_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, ceil_mode = false, count_include_pad = true} : (tensor<1x1x3x3xf32>) -> tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x2x2xf32>
}

// CHECK-LABEL: func.func @global_average_pool
// CHECK: iterator_types = ["parallel", "parallel", "reduction", "reduction"]
// CHECK: arith.constant 2.000000e+01 : f32
// CHECK: arith.divf
// CHECK: tensor.expand_shape {{.*}} into tensor<2x3x1x1xf32>
func.func @global_average_pool(%x: tensor<2x3x4x5xf32>) -> tensor<2x3x1x1xf32> {
  %0 = lathe.global_average_pool %x : (tensor<2x3x4x5xf32>) -> tensor<2x3x1x1xf32>
  return %0 : tensor<2x3x1x1xf32>
}

// Transposed convolution: the input is spread by the strides into a zero
// tensor (insert_slice with steps) padded by (k - 1) * dilation, then a
// stride-1 convolution with the flipped kernel; the begin pad (1) shifts the
// window. A shape-only 3x3 operand gives the kernel loops their extent.
// CHECK-LABEL: func.func @conv_transpose
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 0, 2, 2] [1, 2, 2, 3, 3] [1, 1, 1, 2, 2] : tensor<1x2x2x3x3xf32> into tensor<1x2x2x10x9xf32>
// CHECK: tensor.expand_shape %arg1 {{\[\[}}0, 1], [2], [3], [4]] output_shape [2, 2, 3, 3, 3]
// CHECK: linalg.generic {indexing_maps = [#[[CTX]], #[[CTW]], #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0], [1, 2], [3], [4]] : tensor<1x2x3x7x7xf32> into tensor<1x6x7x7xf32>
func.func @conv_transpose(%x: tensor<1x4x3x3xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<6xf32>) -> tensor<1x6x7x7xf32> {
  %0 = lathe.conv_transpose %x, %w, %b {strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 0, 0, 0>, output_padding = array<i64: 1, 0>, group = 2} : (tensor<1x4x3x3xf32>, tensor<4x3x3x3xf32>, tensor<6xf32>) -> tensor<1x6x7x7xf32>
  return %0 : tensor<1x6x7x7xf32>
}

// Argmax: two accumulators (value, flat index initialised to -1); with
// storage_order 1 the width position is scaled by the height (5).
// CHECK-LABEL: func.func @max_pool_with_indices
// CHECK: %[[NEG:.*]] = arith.constant -1 : i64
// CHECK: linalg.fill ins(%[[NEG]] : i64)
// CHECK: linalg.generic {{.*}} outs(%{{.*}}, %{{.*}} : tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>)
// CHECK: arith.constant 25 : i64
// CHECK: linalg.index 5
// CHECK: %[[WPOS:.*]] = arith.subi
// CHECK: arith.muli %[[WPOS]], %c5_i64{{.*}} : i64
// CHECK: arith.cmpf ogt
// CHECK: arith.select
// CHECK: arith.select
// CHECK: linalg.yield %{{.*}}, %{{.*}} : f32, i64
func.func @max_pool_with_indices(%x: tensor<1x1x5x5xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>) {
  %0, %1 = lathe.max_pool_with_indices %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, ceil_mode = false, storage_order = 1} : (tensor<1x1x5x5xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>)
  return %0, %1 : tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>
}

// The tiled max-pool gradient: the input split into [N, C, o, k, o, k],
// one operand per window position (constant window indices), the first
// strictly greater value wins (as for the indices above), and the output
// gradient goes where the winner's position equals this element's.
// CHECK-LABEL: func.func @max_pool_grad
// CHECK: %[[XS:.*]] = tensor.expand_shape %arg0 {{\[\[}}0], [1], [2, 3], [4, 5]] output_shape [1, 2, 2, 2, 3, 2]
// CHECK: linalg.generic {indexing_maps = [#[[W00]], #{{.*}}, #{{.*}}, #[[W11]], #[[G]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%[[XS]], %[[XS]], %[[XS]], %[[XS]], %arg1 :
// CHECK: arith.cmpf ogt
// CHECK: linalg.index 3
// CHECK: linalg.index 5
// CHECK: arith.cmpi eq
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0], [1], [2, 3], [4, 5]] : tensor<1x2x2x2x3x2xf32> into tensor<1x2x4x6xf32>
func.func @max_pool_grad(%x: tensor<1x2x4x6xf32>, %g: tensor<1x2x2x3xf32>) -> tensor<1x2x4x6xf32> {
  %0 = lathe.max_pool_grad %x, %g {kernel_shape = array<i64: 2, 2>} : (tensor<1x2x4x6xf32>, tensor<1x2x2x3xf32>) -> tensor<1x2x4x6xf32>
  return %0 : tensor<1x2x4x6xf32>
}

// Scatter in a loop (indices outside the index shape skipped), then the
// 4x4 index shape padded with zeros to the 5x5 output.
// CHECK-LABEL: func.func @max_unpool
// CHECK: scf.for
// CHECK: scf.if
// CHECK: tensor.insert %{{.*}} into %{{.*}} : tensor<16xf32>
// CHECK: tensor.expand_shape %{{.*}} output_shape [1, 1, 4, 4]
// CHECK: tensor.pad %{{.*}} low[0, 0, 0, 0] high[0, 0, 1, 1]
func.func @max_unpool(%x: tensor<1x1x2x2xf32>, %i: tensor<1x1x2x2xi64>) -> tensor<1x1x5x5xf32> {
  %0 = lathe.max_unpool %x, %i {index_shape = array<i64: 1, 1, 4, 4>, output_shape = array<i64: 1, 1, 5, 5>} : (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>) -> tensor<1x1x5x5xf32>
  return %0 : tensor<1x1x5x5xf32>
}

// Unsigned max pooling: 0 is the padding value and the max is unsigned.
// CHECK-LABEL: func.func @max_pool_ui8
// CHECK: %[[ZERO:.*]] = arith.constant 0 : i8
// CHECK: tensor.pad %arg0 low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: tensor.yield %[[ZERO]] : i8
// CHECK: arith.maxui
func.func @max_pool_ui8(%x: tensor<1x1x4x4xui8>) -> tensor<1x1x4x4xui8> {
  %0 = lathe.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, ceil_mode = false} : (tensor<1x1x4x4xui8>) -> tensor<1x1x4x4xui8>
  return %0 : tensor<1x1x4x4xui8>
}

// Signed integers pad with the type's minimum.
// CHECK-LABEL: func.func @max_pool_i8
// CHECK: arith.constant -128 : i8
// CHECK: arith.maxsi
func.func @max_pool_i8(%x: tensor<1x1x4x4xi8>) -> tensor<1x1x4x4xi8> {
  %0 = lathe.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, ceil_mode = false} : (tensor<1x1x4x4xi8>) -> tensor<1x1x4x4xi8>
  return %0 : tensor<1x1x4x4xi8>
}

// 2x2 windows at stride 2 over an unpadded float input are marked for
// lathe-vectorize-max-pool; with padding they are not.
// CHECK-LABEL: func.func @max_pool_2x2_marked
// CHECK: linalg.generic {{.*}} attrs = {lathe.max_pool_2x2}
// CHECK-LABEL: func.func @max_pool_2x2_padded
// CHECK-NOT: lathe.max_pool_2x2
// CHECK: return
func.func @max_pool_2x2_marked(%x: tensor<1x2x4x6xf32>) -> tensor<1x2x2x3xf32> {
  %0 = lathe.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, ceil_mode = false} : (tensor<1x2x4x6xf32>) -> tensor<1x2x2x3xf32>
  return %0 : tensor<1x2x2x3xf32>
}
func.func @max_pool_2x2_padded(%x: tensor<1x2x4x6xf32>) -> tensor<1x2x3x4xf32> {
  %0 = lathe.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, ceil_mode = false} : (tensor<1x2x4x6xf32>) -> tensor<1x2x3x4xf32>
  return %0 : tensor<1x2x3x4xf32>
}
