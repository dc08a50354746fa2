// RUN: lathe-opt --lathe-lower-to-linalg %s | FileCheck %s

// Affine maps are printed first.
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-DAG: #[[CH:.*]] = affine_map<(d0, d1, d2, d3) -> (d1)>

// Broadcasting lives in the indexing maps: the [3] operand is read at d1.
// CHECK-LABEL: func.func @add_broadcast
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK: arith.addf
func.func @add_broadcast(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
  %0 = lathe.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// A size-1 dim that stretches is read at index 0.
// CHECK-LABEL: func.func @sub_stretch
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[COL]], #[[ID]]]
// CHECK: arith.subf
func.func @sub_stretch(%a: tensor<2x3xf32>, %b: tensor<2x1xf32>) -> tensor<2x3xf32> {
  %0 = lathe.sub %a, %b : (tensor<2x3xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @int_ops
// CHECK: arith.muli
// CHECK: arith.divsi
func.func @int_ops(%a: tensor<4xi64>, %b: tensor<4xi64>) -> tensor<4xi64> {
  %0 = lathe.mul %a, %b : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  %1 = lathe.div %0, %b : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  return %1 : tensor<4xi64>
}

// CHECK-LABEL: func.func @activations
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: math.tanh
// CHECK: arith.cmpf olt
// CHECK: arith.select
// CHECK: math.exp
// CHECK: arith.select
func.func @activations(%x: tensor<8xf32>) -> tensor<8xf32> {
  %0 = lathe.relu %x : (tensor<8xf32>) -> tensor<8xf32>
  %1 = lathe.sigmoid %0 : (tensor<8xf32>) -> tensor<8xf32>
  %2 = lathe.tanh %1 : (tensor<8xf32>) -> tensor<8xf32>
  %3 = lathe.leaky_relu %2 {alpha = 0.1 : f32} : (tensor<8xf32>) -> tensor<8xf32>
  %4 = lathe.elu %3 {alpha = 1.0 : f32} : (tensor<8xf32>) -> tensor<8xf32>
  return %4 : tensor<8xf32>
}

// Identity and inference dropout disappear.
// CHECK-LABEL: func.func @forward
// CHECK-NEXT: return %arg0
func.func @forward(%x: tensor<8xf32>) -> tensor<8xf32> {
  %0 = lathe.identity %x : (tensor<8xf32>) -> tensor<8xf32>
  %1 = lathe.dropout %0 {ratio = 0.5 : f32} : (tensor<8xf32>) -> tensor<8xf32>
  return %1 : tensor<8xf32>
}

// BatchNorm parameters are read per channel (d1).
// CHECK-LABEL: func.func @batch_norm
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[CH]], #[[CH]], #[[CH]], #[[CH]], #{{.*}}]
// CHECK: math.rsqrt
// CHECK: math.fma
func.func @batch_norm(%x: tensor<1x2x3x3xf32>, %s: tensor<2xf32>, %b: tensor<2xf32>, %m: tensor<2xf32>, %v: tensor<2xf32>) -> tensor<1x2x3x3xf32> {
  %0 = lathe.batch_norm %x, %s, %b, %m, %v {epsilon = 1.0e-5 : f32} : (tensor<1x2x3x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32>
  return %0 : tensor<1x2x3x3xf32>
}

// CHECK-LABEL: func.func @constant
// CHECK: arith.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
func.func @constant() -> tensor<2xf32> {
  %0 = lathe.constant dense<[1.0, 2.0]> : tensor<2xf32>
  return %0 : tensor<2xf32>
}
