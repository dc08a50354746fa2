// RUN: lathe-opt --lathe-lower-to-linalg %s | FileCheck %s

// CHECK-DAG: #[[TAPS:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d2, d4)>
// CHECK-DAG: #[[ROWTAB:.*]] = affine_map<(d0, d1, d2, d3) -> (d2, 0)>
// CHECK-DAG: #[[COLTAB:.*]] = affine_map<(d0, d1, d2, d3) -> (d3, 0)>
// CHECK-DAG: #[[ROWFLAG:.*]] = affine_map<(d0, d1, d2, d3) -> (d2)>
// CHECK-DAG: #[[GX:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3, 0)>
// CHECK-DAG: #[[GY:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3, 1)>
// CHECK-DAG: #[[EA:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[EB:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
// CHECK-DAG: #[[DIAG:.*]] = affine_map<(d0) -> (d0, d0)>

// Linear half_pixel 2 -> 4 rows: per-row tables of source rows and weights
// (the edge taps clamp and merge); the unchanged columns index directly.
// CHECK-LABEL: func.func @resize_linear
// CHECK: arith.constant dense<{{\[\[}}0, 0], [0, 1], [0, 1], [1, 0]]> : tensor<4x2xi64>
// CHECK: arith.constant dense<{{\[\[}}1.000000e+00, 0.000000e+00], [7.500000e-01, 2.500000e-01], [2.500000e-01, 7.500000e-01], [1.000000e+00, 0.000000e+00]]> : tensor<4x2xf32>
// CHECK: linalg.generic {indexing_maps = [#[[TAPS]], #[[TAPS]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK: %[[ROW:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK: %[[COL:.*]] = linalg.index 3 : index
// CHECK: tensor.extract %arg0[%{{.*}}, %{{.*}}, %[[ROW]], %[[COL]]]
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @resize_linear(%x: tensor<1x1x2x4xf32>) -> tensor<1x1x4x4xf32> {
  %0 = lathe.resize %x {mode = "linear", coordinate_transformation_mode = "half_pixel", nearest_mode = "round_prefer_floor", cubic_coeff_a = -7.500000e-01 : f32, exclude_outside = false, extrapolation_value = 0.000000e+00 : f32, scales = array<f64: 1.0, 1.0, 2.0, 1.0>, roi = array<f64>, sizes = array<i64: 1, 1, 4, 4>} : (tensor<1x1x2x4xf32>) -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}

// Nearest: one tap per dim, a pure gather (integers too).
// CHECK-LABEL: func.func @resize_nearest
// CHECK: arith.constant dense<{{\[\[}}0], [0], [1], [1]]> : tensor<4x1xi64>
// CHECK: arith.constant dense<{{\[\[}}0], [0], [0], [1], [1], [1]]> : tensor<6x1xi64>
// CHECK: linalg.generic {indexing_maps = [#[[ROWTAB]], #[[COLTAB]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK: %[[V:.*]] = tensor.extract
// CHECK-NEXT: linalg.yield %[[V]] : i32
func.func @resize_nearest(%x: tensor<1x1x2x2xi32>) -> tensor<1x1x4x6xi32> {
  %0 = lathe.resize %x {mode = "nearest", coordinate_transformation_mode = "asymmetric", nearest_mode = "floor", cubic_coeff_a = -7.500000e-01 : f32, exclude_outside = false, extrapolation_value = 0.000000e+00 : f32, scales = array<f64: 1.0, 1.0, 2.0, 3.0>, roi = array<f64>, sizes = array<i64: 1, 1, 4, 6>} : (tensor<1x1x2x2xi32>) -> tensor<1x1x4x6xi32>
  return %0 : tensor<1x1x4x6xi32>
}

// tf_crop_and_resize: samples outside the roi get the extrapolation value
// through per-dim flags.
// CHECK-LABEL: func.func @crop_and_resize
// CHECK: arith.constant dense<[false, false, true]> : tensor<3xi1>
// CHECK: arith.constant dense<[false, true, true]> : tensor<3xi1>
// CHECK: iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[ROWFLAG]], #{{.*}}, #{{.*}}]
// CHECK: arith.ori
// CHECK: arith.constant 1.000000e+01 : f32
// CHECK: arith.select
func.func @crop_and_resize(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x3x3xf32> {
  %0 = lathe.resize %x {mode = "linear", coordinate_transformation_mode = "tf_crop_and_resize", nearest_mode = "round_prefer_floor", cubic_coeff_a = -7.500000e-01 : f32, exclude_outside = false, extrapolation_value = 1.000000e+01 : f32, scales = array<f64: 1.0, 1.0, 0.75, 0.75>, roi = array<f64: 0.0, 0.0, 0.4, 0.6, 1.0, 1.0, 1.2, 1.7>, sizes = array<i64: 1, 1, 3, 3>} : (tensor<1x1x4x4xf32>) -> tensor<1x1x3x3xf32>
  return %0 : tensor<1x1x3x3xf32>
}

// GridSample reads x and y of the grid through constant indices; bilinear
// gathers four clamped taps, zeroed outside the input.
// CHECK-LABEL: func.func @grid_sample
// CHECK: linalg.generic {indexing_maps = [#[[GX]], #[[GY]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK: math.floor
// CHECK-COUNT-4: tensor.extract %arg0
func.func @grid_sample(%x: tensor<1x2x3x4xf32>, %g: tensor<1x5x6x2xf32>) -> tensor<1x2x5x6xf32> {
  %0 = lathe.grid_sample %x, %g {mode = "bilinear", padding_mode = "zeros", align_corners = false} : (tensor<1x2x3x4xf32>, tensor<1x5x6x2xf32>) -> tensor<1x2x5x6xf32>
  return %0 : tensor<1x2x5x6xf32>
}

// Einsum is one generic: output labels as parallel loops, the summed label
// j as a reduction.
// CHECK-LABEL: func.func @einsum_batch_matmul
// CHECK: linalg.generic {indexing_maps = [#[[EA]], #[[EB]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @einsum_batch_matmul(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>) -> tensor<2x3x5xf32> {
  %0 = lathe.einsum %a, %b {labels = array<i64: 98, 105, 106, 98, 106, 107>, output_labels = array<i64: 98, 105, 107>} : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
  return %0 : tensor<2x3x5xf32>
}

// A repeated label reads the diagonal: the trace.
// CHECK-LABEL: func.func @einsum_trace
// CHECK: linalg.generic {indexing_maps = [#[[DIAG]], #{{.*}}], iterator_types = ["reduction"]}
// CHECK: arith.addi
func.func @einsum_trace(%a: tensor<3x3xi64>) -> tensor<i64> {
  %0 = lathe.einsum %a {labels = array<i64: 105, 105>, output_labels = array<i64>} : (tensor<3x3xi64>) -> tensor<i64>
  return %0 : tensor<i64>
}
