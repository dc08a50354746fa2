// RUN: lathe-opt --lathe-lower-to-linalg %s | FileCheck %s

// CHECK-DAG: #[[C:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[BT:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[BA:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (0, d2, d4)>
// CHECK-DAG: #[[BB:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
// CHECK-DAG: #[[VA:.*]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-DAG: #[[VB:.*]] = affine_map<(d0, d1, d2) -> (d0, d2, d1)>

// Gemm: beta * C initialises the accumulator, alpha scales A's element.
// CHECK-LABEL: func.func @gemm
// CHECK: linalg.generic {indexing_maps = [#[[C]], #{{.*}}]
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[BT]], #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK: arith.constant 2.000000e+00 : f32
// CHECK: arith.mulf
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @gemm(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>, %c: tensor<4xf32>) -> tensor<2x4xf32> {
  %0 = lathe.gemm %a, %b, %c {transB = true, alpha = 2.0 : f32} : (tensor<2x3xf32>, tensor<4x3xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// Batch dims broadcast: A's batch of 1 is read at index 0.
// CHECK-LABEL: func.func @matmul_batched
// CHECK: linalg.generic {indexing_maps = [#[[BA]], #[[BB]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
func.func @matmul_batched(%a: tensor<1x3x4xf32>, %b: tensor<5x2x4x6xf32>) -> tensor<5x2x3x6xf32> {
  %0 = lathe.matmul %a, %b : (tensor<1x3x4xf32>, tensor<5x2x4x6xf32>) -> tensor<5x2x3x6xf32>
  return %0 : tensor<5x2x3x6xf32>
}

// CHECK-LABEL: func.func @matmul_vector
// CHECK: linalg.generic {indexing_maps = [#[[VA]], #[[VB]], #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]}
func.func @matmul_vector(%a: tensor<4xf32>, %b: tensor<2x4x3xf32>) -> tensor<2x3xf32> {
  %0 = lathe.matmul %a, %b : (tensor<4xf32>, tensor<2x4x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// Reshape and Flatten are collapse + expand (views after bufferization).
// CHECK-LABEL: func.func @reshape
// CHECK: tensor.collapse_shape %arg0 {{\[\[}}0, 1, 2]] : tensor<2x3x4xf32> into tensor<24xf32>
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1]] output_shape [4, 6]
func.func @reshape(%x: tensor<2x3x4xf32>) -> tensor<4x6xf32> {
  %0 = lathe.reshape %x {shape = array<i64: 4, 6>} : (tensor<2x3x4xf32>) -> tensor<4x6xf32>
  return %0 : tensor<4x6xf32>
}

// CHECK-LABEL: func.func @flatten
// CHECK: tensor.expand_shape %{{.*}} output_shape [2, 12]
func.func @flatten(%x: tensor<2x3x4xf32>) -> tensor<2x12xf32> {
  %0 = lathe.flatten %x {axis = 1} : (tensor<2x3x4xf32>) -> tensor<2x12xf32>
  return %0 : tensor<2x12xf32>
}

// CHECK-LABEL: func.func @transpose
// CHECK: linalg.transpose ins(%arg0 : tensor<2x3x4xf32>) outs(%{{.*}} : tensor<4x2x3xf32>) permutation = [2, 0, 1]
func.func @transpose(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %0 = lathe.transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  return %0 : tensor<4x2x3xf32>
}

// CHECK-LABEL: func.func @concat
// CHECK: tensor.insert_slice %arg0 into %{{.*}}[0, 0] [2, 3] [1, 1]
// CHECK: tensor.insert_slice %arg1 into %{{.*}}[0, 3] [2, 1] [1, 1]
func.func @concat(%a: tensor<2x3xf32>, %b: tensor<2x1xf32>) -> tensor<2x4xf32> {
  %0 = lathe.concat %a, %b {axis = -1} : (tensor<2x3xf32>, tensor<2x1xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}
