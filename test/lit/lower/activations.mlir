// RUN: lathe-opt --lathe-lower-to-linalg %s | FileCheck %s

// Hardmax along axis 0 of 2x3: max along the axis (innermost loop), then the
// first index holding it (min over matching indices, 2 when none), then a
// one-hot by index.
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1) -> (d1, d0)>
// CHECK-DAG: #[[KEPT:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @hardmax
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[KEPT]]], iterator_types = ["parallel", "reduction"]}
// CHECK: arith.maximumf
// CHECK: %[[NONE:.*]] = arith.constant 2 : i64
// CHECK: linalg.fill ins(%[[NONE]] : i64)
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[KEPT]], #[[KEPT]]], iterator_types = ["parallel", "reduction"]}
// CHECK: linalg.index 1
// CHECK: arith.cmpf oeq
// CHECK: arith.minsi
// CHECK: linalg.generic {indexing_maps = [#[[COL]], #[[ID]]]
// CHECK: linalg.index 0
// CHECK: arith.cmpi eq
// CHECK: arith.select
func.func @hardmax(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = lathe.hardmax %x {axis = 0} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// The slope broadcasts to the input.
// CHECK-LABEL: func.func @prelu
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[COL]], #[[ID]]]
// CHECK: arith.cmpf olt
// CHECK: arith.mulf
// CHECK: arith.select
func.func @prelu(%x: tensor<2x3xf32>, %s: tensor<3xf32>) -> tensor<2x3xf32> {
  %0 = lathe.prelu %x, %s : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// Softplus as max(x, 0) + log1p(exp(-|x|)) (no overflow); HardSigmoid
// clamps; Shrink selects among x + bias, x - bias and 0; integer Relu.
// CHECK-LABEL: func.func @acts
// CHECK: math.absf
// CHECK: math.exp
// CHECK: math.log1p
// CHECK: arith.maximumf
// CHECK: arith.minimumf
// CHECK: arith.maximumf
// CHECK: arith.cmpf olt
// CHECK: arith.cmpf ogt
// CHECK: arith.maxsi
func.func @acts(%x: tensor<4xf32>, %i: tensor<4xi8>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xi8>) {
  %0 = lathe.softplus %x : (tensor<4xf32>) -> tensor<4xf32>
  %1 = lathe.hard_sigmoid %x {alpha = 0.2 : f32, beta = 0.5 : f32} : (tensor<4xf32>) -> tensor<4xf32>
  %2 = lathe.shrink %x {bias = 0.5 : f32, lambd = 1.0 : f32} : (tensor<4xf32>) -> tensor<4xf32>
  %3 = lathe.relu %i : (tensor<4xi8>) -> tensor<4xi8>
  return %0, %1, %2, %3 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xi8>
}
