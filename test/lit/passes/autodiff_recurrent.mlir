// RUN: lathe-opt --lathe-autodiff="wrt=1,2" --split-input-file %s | FileCheck %s

// The VJP of a recurrent op (ir/LatheRecurrentVJP.cpp) keeps the op in the
// forward graph and recomputes the cell unrolled in lathe ops: one Gemm
// projects X for all steps, each step slices its rows, adds H*R^T and
// applies the activation; the reverse sweep then goes through those ops'
// own VJPs (tanh' = 1 - y^2, the Gemms' transposed products) and adds up
// dW and dR over the steps.
// CHECK-LABEL: func.func @main_grad(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x1x2xf32>, %[[W:[a-z0-9]+]]: tensor<1x1x2xf32>, %[[R:[a-z0-9]+]]: tensor<1x1x1xf32>)
// CHECK: lathe.rnn %[[X]], %[[W]], %[[R]]
// CHECK: %[[W2:.*]] = lathe.reshape %{{.*}} {shape = array<i64: 1, 2>}
// CHECK: %[[X2:.*]] = lathe.reshape %[[X]] {shape = array<i64: 2, 2>}
// CHECK: lathe.gemm %[[X2]], %[[W2]] {transB = true} : (tensor<2x2xf32>, tensor<1x2xf32>) -> tensor<2x1xf32>
// CHECK: %[[H1:.*]] = lathe.tanh
// CHECK: %[[HR:.*]] = lathe.gemm %[[H1]], %{{.*}} {transB = true}
// CHECK: %[[H2:.*]] = lathe.tanh
// CHECK: lathe.mul %[[H2]], %[[H2]]
// CHECK: %[[DR2:.*]] = lathe.gemm %{{.*}}, %[[H1]] {transA = true}
// CHECK: lathe.mul %[[H1]], %[[H1]]
// CHECK: %[[DR:.*]] = lathe.add %[[DR2]], %{{.*}}
// CHECK: %[[DRR:.*]] = lathe.reshape %[[DR]] {shape = array<i64: 1, 1, 1>}
// CHECK: %[[DW:.*]] = lathe.gemm %{{.*}}, %[[X2]] {transA = true} : (tensor<2x1xf32>, tensor<2x2xf32>) -> tensor<1x2xf32>
// CHECK: %[[DWR:.*]] = lathe.reshape %[[DW]] {shape = array<i64: 1, 1, 2>}
// CHECK: return %{{.*}}, %[[DWR]], %[[DRR]]
func.func @main(%x: tensor<2x1x2xf32>, %w: tensor<1x1x2xf32>, %r: tensor<1x1x1xf32>) -> tensor<f32> {
  %y, %yh = lathe.rnn %x, %w, %r {hidden_size = 1 : i64, activations = ["Tanh"], activation_alpha = array<f32: 0.0>, activation_beta = array<f32: 0.0>} : (tensor<2x1x2xf32>, tensor<1x1x2xf32>, tensor<1x1x1xf32>) -> (tensor<2x1x1x1xf32>, tensor<1x1x1xf32>)
  %l = lathe.reduce_sum %yh {axes = array<i64: 0, 1, 2>, keepdims = false} : (tensor<1x1x1xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// With sequence_lens each step keeps the old state of the entries whose
// sequence has ended: step t compares t < len (t a constant of the lengths'
// type) and selects the new or the old H and C with lathe.where; Y is 0
// there. The gradient of Y_c flows back through the same selects.
// CHECK-LABEL: func.func @main_grad(
// CHECK: lathe.lstm
// CHECK: %[[T0:.*]] = lathe.constant dense<0> : tensor<i32>
// CHECK: %[[IN0:.*]] = lathe.less %[[T0]], %arg3 : (tensor<i32>, tensor<2xi32>) -> tensor<2xi1>
// CHECK: %[[M0:.*]] = lathe.reshape %[[IN0]] {shape = array<i64: 2, 1>}
// CHECK: lathe.where %[[M0]], %{{.*}}, %{{.*}} : (tensor<2x1xi1>, tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<2x1xf32>
// CHECK: %[[T1:.*]] = lathe.constant dense<1> : tensor<i32>
// CHECK: lathe.less %[[T1]], %arg3
// CHECK: return
func.func @main(%x: tensor<2x2x1xf32>, %w: tensor<1x4x1xf32>, %r: tensor<1x4x1xf32>, %lens: tensor<2xi32>) -> tensor<f32> {
  %y, %yh, %yc = lathe.lstm %x, %w, %r sequence_lens %lens {hidden_size = 1 : i64, activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = array<f32: 0.0, 0.0, 0.0>, activation_beta = array<f32: 0.0, 0.0, 0.0>, operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 0, 0, 0>} : (tensor<2x2x1xf32>, tensor<1x4x1xf32>, tensor<1x4x1xf32>, tensor<2xi32>) -> (tensor<2x1x2x1xf32>, tensor<1x2x1xf32>, tensor<1x2x1xf32>)
  %l = lathe.reduce_sum %yc {axes = array<i64: 0, 1, 2>, keepdims = false} : (tensor<1x2x1xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
