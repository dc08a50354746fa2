// RUN: lathe-opt --lathe-autodiff="wrt=0,1" --split-input-file %s | FileCheck %s

// GridSample's VJP (ir/LatheResampleVJP.cpp) on the sampling rule it shares
// with the lowering (ir/GridSampleRule.h). Bilinear with reflection: the
// grid's x and y columns are sliced out as [N, 1, Ho, Wo]; reflection takes
// the derivative through abs (times the sign) and a select (where); the
// image gradient is one scatter-add of the 4 taps' updates into the
// flattened image; the grid gradient gathers the 4 taps, sums the weight
// derivatives times the taps over channels, and joins x and y on the last
// dim.
// CHECK-LABEL: func.func @main_grad(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<1x2x3x4xf32>, %[[G:[a-z0-9]+]]: tensor<1x2x2x2xf32>)
// CHECK: lathe.slice %[[G]] {offsets = array<i64: 0, 0, 0, 0>, sizes = array<i64: 1, 2, 2, 1>
// CHECK: lathe.abs
// CHECK: lathe.sign
// CHECK: lathe.where
// CHECK: lathe.slice %[[G]] {offsets = array<i64: 0, 0, 0, 1>, sizes = array<i64: 1, 2, 2, 1>
// CHECK: %[[I:.*]] = lathe.concat %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {axis = 2 : i64} : ({{.*}}) -> tensor<1x2x16xi64>
// CHECK: %[[U:.*]] = lathe.concat %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {axis = 2 : i64} : ({{.*}}) -> tensor<1x2x16xf32>
// CHECK: %[[S:.*]] = lathe.scatter_elements %{{.*}}, %[[I]], %[[U]] {axis = 2 : i64, reduction = "add"} : (tensor<1x2x12xf32>, tensor<1x2x16xi64>, tensor<1x2x16xf32>) -> tensor<1x2x12xf32>
// CHECK: %[[DX:.*]] = lathe.reshape %[[S]] {shape = array<i64: 1, 2, 3, 4>}
// CHECK: %[[IMG:.*]] = lathe.reshape %[[X]] {shape = array<i64: 1, 2, 12>}
// CHECK-COUNT-4: lathe.gather_elements %[[IMG]]
// CHECK: lathe.reduce_sum %{{.*}} {axes = array<i64: 1>, keepdims = true}
// CHECK: lathe.reduce_sum %{{.*}} {axes = array<i64: 1>, keepdims = true}
// CHECK: %[[DG:.*]] = lathe.concat %{{.*}}, %{{.*}} {axis = 3 : i64} : (tensor<1x2x2x1xf32>, tensor<1x2x2x1xf32>) -> tensor<1x2x2x2xf32>
// CHECK: return %{{.*}}, %[[DX]], %[[DG]]
func.func @main(%x: tensor<1x2x3x4xf32>, %g: tensor<1x2x2x2xf32>) -> tensor<f32> {
  %c = lathe.grid_sample %x, %g {mode = "bilinear", padding_mode = "reflection", align_corners = false} : (tensor<1x2x3x4xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %l = lathe.reduce_sum %c {axes = array<i64: 0, 1, 2, 3>, keepdims = false} : (tensor<1x2x2x2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Nearest: one tap, rounded half to even; the image gradient scatters the
// output gradient (masked where the tap falls outside) and the grid gets a
// zero gradient, as in PyTorch.
// CHECK-LABEL: func.func @main_grad(
// CHECK: lathe.round
// CHECK: lathe.round
// CHECK: %[[S:.*]] = lathe.scatter_elements %{{.*}}, %{{.*}}, %{{.*}} {axis = 2 : i64, reduction = "add"} : (tensor<1x1x6xf64>, tensor<1x1x3xi64>, tensor<1x1x3xf64>) -> tensor<1x1x6xf64>
// CHECK: %[[DX:.*]] = lathe.reshape %[[S]] {shape = array<i64: 1, 1, 2, 3>}
// CHECK-NOT: gather_elements
// CHECK: %[[DG:.*]] = lathe.constant dense<0.000000e+00> : tensor<1x1x3x2xf64>
// CHECK: return %{{.*}}, %[[DX]], %[[DG]]
func.func @main(%x: tensor<1x1x2x3xf64>, %g: tensor<1x1x3x2xf64>) -> tensor<f64> {
  %c = lathe.grid_sample %x, %g {mode = "nearest", padding_mode = "zeros", align_corners = true} : (tensor<1x1x2x3xf64>, tensor<1x1x3x2xf64>) -> tensor<1x1x1x3xf64>
  %l = lathe.reduce_sum %c {axes = array<i64: 0, 1, 2, 3>, keepdims = false} : (tensor<1x1x1x3xf64>) -> tensor<f64>
  return %l : tensor<f64>
}
