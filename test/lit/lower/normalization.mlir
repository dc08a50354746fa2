// RUN: lathe-opt --lathe-lower-to-linalg %s | FileCheck %s

// Statistics are reductions into the kept dims (here [C]); the variance is
// a second pass over (x - mean)^2.
// CHECK-DAG: #[[ID4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[CH:.*]] = affine_map<(d0, d1, d2, d3) -> (d1)>
// CHECK-DAG: #[[NC:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
// CHECK-DAG: #[[ROWS:.*]] = affine_map<(d0, d1, d2) -> (d0)>

// CHECK-LABEL: func.func @batch_norm_training
// CHECK: linalg.generic {indexing_maps = [#[[ID4]], #[[CH]]], iterator_types = ["reduction", "parallel", "reduction", "reduction"]}
// CHECK: arith.constant 4.000000e+01 : f32
// CHECK: arith.divf
// CHECK: linalg.generic {indexing_maps = [#[[ID4]], #[[CH]], #[[CH]]], iterator_types = ["reduction", "parallel", "reduction", "reduction"]}
// CHECK: arith.subf
// CHECK: arith.mulf
// The normalisation: scale / sqrt(var + epsilon) once per channel, then
// (x - mean) * factor + bias per element (no square root or divide there).
// CHECK: math.sqrt
// CHECK: arith.divf
// CHECK: linalg.generic {indexing_maps = [#[[ID4]], #[[CH]], #[[CH]], #[[CH]], #[[ID4]]]
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.subf
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: arith.addf
// Running statistics: mean * 0.9 + batch_mean * 0.1.
// CHECK: arith.constant 0.899999976 : f32
// CHECK: arith.constant 0.100000024 : f32
func.func @batch_norm_training(%x: tensor<2x3x4x5xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>) -> (tensor<2x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>) {
  %y, %rm, %rv, %bm, %bv = lathe.batch_norm_training %x, %s, %b, %m, %v {epsilon = 1.0e-5 : f32, momentum = 0.9 : f32} : (tensor<2x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<2x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
  return %y, %rm, %rv : tensor<2x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>
}

// CHECK-LABEL: func.func @instance_norm
// CHECK: linalg.generic {indexing_maps = [#[[ID4]], #[[NC]]], iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
// CHECK: linalg.generic {indexing_maps = [#[[ID4]], #[[NC]], #[[NC]], #[[CH]], #[[CH]], #[[ID4]]]
func.func @instance_norm(%x: tensor<2x3x4x5xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>) -> tensor<2x3x4x5xf32> {
  %0 = lathe.instance_norm %x, %s, %b {epsilon = 1.0e-5 : f32} : (tensor<2x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x4x5xf32>
  return %0 : tensor<2x3x4x5xf32>
}

// f64 input with stash_type 1: statistics in f32, the result truncated back;
// Mean and InvStdDev keep the input's rank with size-1 normalised dims.
// CHECK-LABEL: func.func @layer_norm_stash
// CHECK: arith.truncf %{{.*}} : f64 to f32
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[ROWS]]], iterator_types = ["parallel", "reduction", "reduction"]}
// CHECK: arith.extf %{{.*}} : f32 to f64
// CHECK: tensor.expand_shape %{{.*}} output_shape [2, 1, 1] : tensor<2xf32> into tensor<2x1x1xf32>
func.func @layer_norm_stash(%x: tensor<2x3x4xf64>, %s: tensor<3x4xf64>) -> (tensor<2x3x4xf64>, tensor<2x1x1xf32>, tensor<2x1x1xf32>) {
  %y, %m, %i = lathe.layer_norm %x, %s {axis = 1, epsilon = 1.0e-5 : f32, stash_type = 1} : (tensor<2x3x4xf64>, tensor<3x4xf64>) -> (tensor<2x3x4xf64>, tensor<2x1x1xf32>, tensor<2x1x1xf32>)
  return %y, %m, %i : tensor<2x3x4xf64>, tensor<2x1x1xf32>, tensor<2x1x1xf32>
}

// CHECK-LABEL: func.func @mean_variance_norm
// CHECK: iterator_types = ["reduction", "parallel", "reduction", "reduction"]
// CHECK: math.sqrt
// CHECK: arith.constant 9.99999971E-10 : f32
func.func @mean_variance_norm(%x: tensor<2x3x4x5xf32>) -> tensor<2x3x4x5xf32> {
  %0 = lathe.mean_variance_norm %x {axes = array<i64: 0, 2, 3>} : (tensor<2x3x4x5xf32>) -> tensor<2x3x4x5xf32>
  return %0 : tensor<2x3x4x5xf32>
}

// Size 4: one channel of zero padding before, two after, then a window sum.
// CHECK-LABEL: func.func @lrn
// CHECK: tensor.pad %{{.*}} low[0, 1, 0, 0] high[0, 2, 0, 0]
// CHECK: tensor.empty() : tensor<4xf32>
// CHECK: iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]
// CHECK: math.powf
func.func @lrn(%x: tensor<2x3x4x5xf32>) -> tensor<2x3x4x5xf32> {
  %0 = lathe.lrn %x {size = 4, alpha = 1.0e-4 : f32, beta = 0.75 : f32, bias = 1.0 : f32} : (tensor<2x3x4x5xf32>) -> tensor<2x3x4x5xf32>
  return %0 : tensor<2x3x4x5xf32>
}

// CHECK-LABEL: func.func @lp_norm
// CHECK: math.absf
// CHECK: arith.divf
func.func @lp_norm(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = lathe.lp_norm %x {axis = -1, p = 1} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
