// RUN: lathe-opt --lathe-autodiff="wrt=0,1,2" --split-input-file %s | FileCheck %s

// Conv -> MaxPool -> AveragePool. Backwards: the average pool divides by
// each window's count (a constant; the end pad is not counted) and spreads
// with a transposed convolution of ones per (n, c) plane; the max pool
// scatter-adds into the flattened input at MaxPoolWithIndices' arg-max; the
// conv's dX is a transposed convolution with the same weight, attributes
// and group, dW a convolution of the input (batch and channel roles
// swapped, per group) with the output gradient, the stride and dilation
// exchanged, and dB a sum over all dims but 1.
// CHECK-LABEL: func.func @main_grad(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<1x2x5x5xf32>, %[[W:[a-z0-9]+]]: tensor<4x1x3x3xf32>, %[[B:[a-z0-9]+]]: tensor<4xf32>)
// CHECK: %[[C:.*]] = lathe.conv %[[X]], %[[W]], %[[B]]
// CHECK: %[[G:.*]] = lathe.expand
// CHECK: %[[DIV:.*]] = lathe.constant dense<{{\[\[\[\[}}2.500000e-01, 5.000000e-01], [5.000000e-01, 1.000000e+00]]]]> : tensor<1x1x2x2xf32>
// CHECK: %[[GD:.*]] = lathe.mul %[[G]], %[[DIV]]
// CHECK: %[[ONES:.*]] = lathe.constant dense<1.000000e+00> : tensor<1x1x2x2xf32>
// CHECK: %[[PLANES:.*]] = lathe.reshape %[[GD]] {shape = array<i64: 4, 1, 2, 2>}
// CHECK: %[[AT:.*]] = lathe.conv_transpose %[[PLANES]], %[[ONES]] {dilations = array<i64: 1, 1>, group = 1 : i64, output_padding = array<i64: 0, 0>, pads = array<i64: 0, 0, 1, 1>, strides = array<i64: 1, 1>}
// CHECK: %[[GP:.*]] = lathe.reshape %[[AT]] {shape = array<i64: 1, 4, 2, 2>}
// CHECK: %{{.*}}, %[[IDX:.*]] = lathe.max_pool_with_indices %[[C]] {{.*}}storage_order = 0
// CHECK: %[[FI:.*]] = lathe.reshape %[[IDX]] {shape = array<i64: 16>}
// CHECK: %[[FG:.*]] = lathe.reshape %[[GP]] {shape = array<i64: 16>}
// CHECK: %[[Z:.*]] = lathe.constant dense<0.000000e+00> : tensor<36xf32>
// CHECK: %[[SC:.*]] = lathe.scatter_elements %[[Z]], %[[FI]], %[[FG]] {axis = 0 : i64, reduction = "add"}
// CHECK: %[[GC:.*]] = lathe.reshape %[[SC]] {shape = array<i64: 1, 4, 3, 3>}
// CHECK: %[[DX:.*]] = lathe.conv_transpose %[[GC]], %[[W]] {dilations = array<i64: 1, 1>, group = 2 : i64, output_padding = array<i64: 0, 0>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x4x3x3xf32>, tensor<4x1x3x3xf32>) -> tensor<1x2x5x5xf32>
// CHECK: %[[XS:.*]] = lathe.reshape %[[X]] {shape = array<i64: 1, 2, 1, 5, 5>}
// CHECK: %[[XT:.*]] = lathe.transpose %[[XS]] {perm = array<i64: 2, 1, 0, 3, 4>}
// CHECK: %[[XR:.*]] = lathe.reshape %[[XT]] {shape = array<i64: 1, 2, 5, 5>}
// CHECK: %[[GT:.*]] = lathe.transpose %[[GC]] {perm = array<i64: 1, 0, 2, 3>}
// CHECK: %[[CW:.*]] = lathe.conv %[[XR]], %[[GT]] {dilations = array<i64: 2, 2>, group = 2 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x2x5x5xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x3x3xf32>
// CHECK: %[[DW:.*]] = lathe.transpose %[[CW]] {perm = array<i64: 1, 0, 2, 3>} : (tensor<1x4x3x3xf32>) -> tensor<4x1x3x3xf32>
// CHECK: %[[SB:.*]] = lathe.reduce_sum %[[GC]] {axes = array<i64: 0, 2, 3>, keepdims = true}
// CHECK: %[[DB:.*]] = lathe.reshape %[[SB]] {shape = array<i64: 4>}
// CHECK: return %{{.*}}, %[[DX]], %[[DW]], %[[DB]]
func.func @main(%x: tensor<1x2x5x5xf32>, %w: tensor<4x1x3x3xf32>, %b: tensor<4xf32>) -> tensor<f32> {
  %c = lathe.conv %x, %w, %b {strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, group = 2 : i64} : (tensor<1x2x5x5xf32>, tensor<4x1x3x3xf32>, tensor<4xf32>) -> tensor<1x4x3x3xf32>
  %p = lathe.max_pool %c {kernel_shape = array<i64: 2, 2>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, ceil_mode = false} : (tensor<1x4x3x3xf32>) -> tensor<1x4x2x2xf32>
  %a = lathe.average_pool %p {kernel_shape = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 1, 1>, ceil_mode = false, count_include_pad = false} : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %l = lathe.reduce_sum %a {axes = array<i64: 0, 1, 2, 3>, keepdims = false} : (tensor<1x4x2x2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Stride 3 over 9 inputs with k = 2 reads 6 of them (not 2, 5, 8): dX is a transposed
// convolution whose output_padding restores the unread tail (zeros), and the
// weight-gradient convolution (stride 1, dilation 3, kernel = the 3 output
// positions) yields 3 taps, cropped to the kernel's 2.
// CHECK-LABEL: func.func @main_grad(
// CHECK: lathe.conv_transpose %{{.*}}, %arg1 {dilations = array<i64: 1>, group = 1 : i64, output_padding = array<i64: 1>, pads = array<i64: 0, 0>, strides = array<i64: 3>} : (tensor<1x3x3xf32>, tensor<3x2x2xf32>) -> tensor<1x2x9xf32>
// CHECK: %[[CW:.*]] = lathe.conv %{{.*}}, %{{.*}} {dilations = array<i64: 3>, group = 1 : i64, pads = array<i64: 0, 0>, strides = array<i64: 1>} : (tensor<2x1x9xf32>, tensor<3x1x3xf32>) -> tensor<2x3x3xf32>
// CHECK: %[[CR:.*]] = lathe.slice %[[CW]] {offsets = array<i64: 0, 0, 0>, sizes = array<i64: 2, 3, 2>, strides = array<i64: 1, 1, 1>}
// CHECK: lathe.transpose %[[CR]] {perm = array<i64: 1, 0, 2>} : (tensor<2x3x2xf32>) -> tensor<3x2x2xf32>
func.func @main(%x: tensor<1x2x9xf32>, %w: tensor<3x2x2xf32>, %u: tensor<f32>) -> tensor<f32> {
  %c = lathe.conv %x, %w {strides = array<i64: 3>, dilations = array<i64: 1>, pads = array<i64: 0, 0>, group = 1 : i64} : (tensor<1x2x9xf32>, tensor<3x2x2xf32>) -> tensor<1x3x3xf32>
  %l = lathe.reduce_sum %c {axes = array<i64: 0, 1, 2>, keepdims = false} : (tensor<1x3x3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Windows that tile the input (2x2, stride 2, 4x6 input) differentiate in
// one elementwise op, lathe.max_pool_grad, with no indices or scatter.
// CHECK-LABEL: func.func @main_grad(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x3x4x6xf32>
// CHECK-NOT: lathe.max_pool_with_indices
// CHECK-NOT: lathe.scatter_elements
// CHECK: %[[DX:.*]] = lathe.max_pool_grad %[[X]], %{{.*}} {kernel_shape = array<i64: 2, 2>} : (tensor<2x3x4x6xf32>, tensor<2x3x2x3xf32>) -> tensor<2x3x4x6xf32>
// CHECK: return %{{.*}}, %[[DX]]
func.func @main(%x: tensor<2x3x4x6xf32>, %unused0: tensor<f32>, %unused1: tensor<f32>) -> tensor<f32> {
  %p = lathe.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, ceil_mode = false} : (tensor<2x3x4x6xf32>) -> tensor<2x3x2x3xf32>
  %l = lathe.reduce_sum %p {axes = array<i64: 0, 1, 2, 3>, keepdims = false} : (tensor<2x3x2x3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// A 5-wide input leaves its last element out of every 2-wide window: the
// indices and the scatter stay.
// CHECK-LABEL: func.func @main_grad(
// CHECK-NOT: lathe.max_pool_grad
// CHECK: lathe.max_pool_with_indices
// CHECK: lathe.scatter_elements
func.func @main(%x: tensor<1x1x5xf32>, %unused0: tensor<f32>, %unused1: tensor<f32>) -> tensor<f32> {
  %p = lathe.max_pool %x {kernel_shape = array<i64: 2>, strides = array<i64: 2>, dilations = array<i64: 1>, pads = array<i64: 0, 0>, ceil_mode = false} : (tensor<1x1x5xf32>) -> tensor<1x1x2xf32>
  %l = lathe.reduce_sum %p {axes = array<i64: 0, 1, 2>, keepdims = false} : (tensor<1x1x2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
