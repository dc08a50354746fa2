// RUN: lathe-opt --lathe-autodiff="wrt=0,1,3" --split-input-file %s | FileCheck %s

// @main is kept; @main_grad returns the results, then one gradient per wrt
// argument. x is used twice by one mul (the two contributions are added), b
// is broadcast (summed back over dim 0), u does not reach the output (a zero
// gradient), w is not differentiated, and the exp feeding only the second
// result gets no VJP.
// CHECK-LABEL: func.func @main(
// CHECK-LABEL: func.func @main_grad(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x3xf32>, %[[B:[a-z0-9]+]]: tensor<3xf32>, %[[W:[a-z0-9]+]]: tensor<2x3xf32>, %[[U:[a-z0-9]+]]: tensor<4xf32>)
// CHECK-SAME: -> (tensor<f32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<3xf32>, tensor<4xf32>)
// CHECK: %[[SQ:.*]] = lathe.mul %[[X]], %[[X]]
// CHECK: %[[S:.*]] = lathe.add %[[SQ]], %[[B]]
// CHECK: %[[SIDE:.*]] = lathe.exp %[[S]]
// CHECK: %[[M:.*]] = lathe.mul %[[S]], %[[W]]
// CHECK: %[[L:.*]] = lathe.reduce_sum %[[M]]
// The seed, spread over the reduced dims.
// CHECK: %[[ONE:.*]] = lathe.constant dense<1.000000e+00> : tensor<f32>
// CHECK: %[[R:.*]] = lathe.reshape %[[ONE]] {shape = array<i64: 1, 1>}
// CHECK: %[[G:.*]] = lathe.expand %[[R]] {shape = array<i64: 2, 3>}
// CHECK: %[[GS:.*]] = lathe.mul %[[G]], %[[W]]
// CHECK: %[[GB:.*]] = lathe.reduce_sum %[[GS]] {axes = array<i64: 0>, keepdims = true} : (tensor<2x3xf32>) -> tensor<1x3xf32>
// CHECK: %[[DB:.*]] = lathe.reshape %[[GB]] {shape = array<i64: 3>}
// CHECK: %[[D1:.*]] = lathe.mul %[[GS]], %[[X]]
// CHECK: %[[D2:.*]] = lathe.mul %[[GS]], %[[X]]
// CHECK: %[[DX:.*]] = lathe.add %[[D1]], %[[D2]]
// CHECK-NOT: lathe.exp
// CHECK: %[[DU:.*]] = lathe.constant dense<0.000000e+00> : tensor<4xf32>
// CHECK: return %[[L]], %[[SIDE]], %[[DX]], %[[DB]], %[[DU]]
func.func @main(%x: tensor<2x3xf32>, %b: tensor<3xf32>, %w: tensor<2x3xf32>,
                %u: tensor<4xf32>) -> (tensor<f32>, tensor<2x3xf32>) {
  %sq = lathe.mul %x, %x : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %s = lathe.add %sq, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %side = lathe.exp %s : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %m = lathe.mul %s, %w : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %l = lathe.reduce_sum %m {axes = array<i64: 0, 1>, keepdims = false} : (tensor<2x3xf32>) -> tensor<f32>
  return %l, %side : tensor<f32>, tensor<2x3xf32>
}

// -----

// Argument and result names carry over; gradients are named grad_<arg>.
// The comparison stops the gradient (it gets no VJP): the where passes g to
// x where c holds and to y elsewhere. Gather's int indices are not
// differentiated; t's gradient is a scatter-add of g into zeros.
// CHECK-LABEL: func.func @main_grad(
// CHECK-SAME: -> (tensor<f32> {lathe.name = "loss"}, tensor<4xf32> {lathe.name = "grad_x"}, tensor<4xf32> {lathe.name = "grad_y"}, tensor<3x2xf32> {lathe.name = "grad_t"})
// CHECK: %[[C:.*]] = lathe.greater
// CHECK: %[[IDX:.*]] = lathe.reshape %arg2 {shape = array<i64: 2, 1>}
// CHECK: %[[Z:.*]] = lathe.constant dense<0.000000e+00> : tensor<3x2xf32>
// CHECK: %[[DT:.*]] = lathe.scatter_nd %[[Z]], %[[IDX]], %{{.*}} {reduction = "add"}
// CHECK: %[[DX:.*]] = lathe.where %[[C]], %[[G:.*]], %[[ZERO:.*]] :
// CHECK: %[[DY:.*]] = lathe.where %[[C]], %[[ZERO]], %[[G]] :
// CHECK-NOT: lathe.greater
// CHECK: return %{{.*}}, %[[DX]], %[[DY]], %[[DT]]
func.func @main(%x: tensor<4xf32> {lathe.name = "x"},
                %y: tensor<4xf32> {lathe.name = "y"},
                %i: tensor<2xi64> {lathe.name = "i"},
                %t: tensor<3x2xf32> {lathe.name = "t"})
    -> (tensor<f32> {lathe.name = "loss"}) {
  %c = lathe.greater %x, %y : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
  %w = lathe.where %c, %x, %y : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %g = lathe.gather %t, %i {axis = 0 : i64} : (tensor<3x2xf32>, tensor<2xi64>) -> tensor<2x2xf32>
  %gf = lathe.reshape %g {shape = array<i64: 4>} : (tensor<2x2xf32>) -> tensor<4xf32>
  %p = lathe.mul %w, %gf : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %l = lathe.reduce_sum %p {axes = array<i64: 0>, keepdims = false} : (tensor<4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
