// RUN: lathe-opt --lathe-transpose-weights --split-input-file %s | FileCheck %s

#a = affine_map<(m, n, k) -> (m, k)>
#w = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>

// Gemm with transB by a constant: the product reads a transposed copy,
// W'[k, n] = W[n, k], through a (k, n) map.
// CHECK-DAG: #[[WT:.*]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-LABEL: func.func @linear(
// CHECK: %[[T:.*]] = arith.constant dense<{{\[\[}}1.000000e+00, 4.000000e+00], [2.000000e+00, 5.000000e+00], [3.000000e+00, 6.000000e+00]]> : tensor<3x2xf32>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[WT]], #{{.*}}], {{.*}} ins(%{{.*}}, %[[T]] : tensor<4x3xf32>, tensor<3x2xf32>)
func.func @linear(%x: tensor<4x3xf32>, %init: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %r = linalg.generic {indexing_maps = [#a, #w, #c], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : tensor<4x3xf32>, tensor<2x3xf32>) outs(%init : tensor<4x2xf32>) {
  ^bb0(%in: f32, %wt: f32, %out: f32):
    %p = arith.mulf %in, %wt : f32
    %s = arith.addf %out, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x2xf32>
  return %r : tensor<4x2xf32>
}

// -----

#a = affine_map<(m, n, k) -> (m, k)>
#w = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>

// A recurrent layer's R of the second direction: a slice of the [2, n, k]
// constant that drops the direction dim.
// CHECK-LABEL: func.func @direction_slice(
// CHECK: arith.constant dense<{{\[\[}}7.000000e+00, 9.000000e+00], [8.000000e+00, 1.000000e+01]]> : tensor<2x2xf32>
func.func @direction_slice(%h: tensor<3x2xf32>, %init: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %r = arith.constant dense<[[[1.0, 2.0], [3.0, 4.0]], [[7.0, 8.0], [9.0, 10.0]]]> : tensor<2x2x2xf32>
  %rd = tensor.extract_slice %r[1, 0, 0] [1, 2, 2] [1, 1, 1] : tensor<2x2x2xf32> to tensor<2x2xf32>
  %y = linalg.generic {indexing_maps = [#a, #w, #c], iterator_types = ["parallel", "parallel", "reduction"]} ins(%h, %rd : tensor<3x2xf32>, tensor<2x2xf32>) outs(%init : tensor<3x2xf32>) {
  ^bb0(%in: f32, %wt: f32, %out: f32):
    %p = arith.mulf %in, %wt : f32
    %s = arith.addf %out, %p : f32
    linalg.yield %s : f32
  } -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

#a = affine_map<(m, n, k) -> (m, k)>
#w = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>

// A matrix-vector product keeps W: its dot products stream it along k. A W
// that is not a constant stays too (a training step's parameters).
// CHECK-LABEL: func.func @unchanged(
// CHECK-NOT: tensor<3x2xf32>
// CHECK: return
func.func @unchanged(%x: tensor<1x3xf32>, %init: tensor<1x2xf32>, %x4: tensor<4x3xf32>, %p: tensor<2x3xf32>, %init4: tensor<4x2xf32>) -> (tensor<1x2xf32>, tensor<4x2xf32>) {
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %r = linalg.generic {indexing_maps = [#a, #w, #c], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : tensor<1x3xf32>, tensor<2x3xf32>) outs(%init : tensor<1x2xf32>) {
  ^bb0(%in: f32, %wt: f32, %out: f32):
    %m = arith.mulf %in, %wt : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2xf32>
  %q = linalg.generic {indexing_maps = [#a, #w, #c], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x4, %p : tensor<4x3xf32>, tensor<2x3xf32>) outs(%init4 : tensor<4x2xf32>) {
  ^bb0(%in: f32, %wt: f32, %out: f32):
    %m = arith.mulf %in, %wt : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<4x2xf32>
  return %r, %q : tensor<1x2xf32>, tensor<4x2xf32>
}
