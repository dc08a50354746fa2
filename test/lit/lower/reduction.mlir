// RUN: lathe-opt --lathe-lower-to-linalg %s | FileCheck %s

// A sum over axes 0 and 2 is one linalg.generic whose output keeps dim 1;
// keepdims reshapes it back to rank 3.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[KEEP1:.*]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-LABEL: func.func @reduce_sum
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<3xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[KEEP1]]], iterator_types = ["reduction", "parallel", "reduction"]}
// CHECK: arith.addf
// CHECK: tensor.expand_shape %{{.*}} : tensor<3xf32> into tensor<1x3x1xf32>
func.func @reduce_sum(%x: tensor<2x3x4xf32>) -> tensor<1x3x1xf32> {
  %0 = lathe.reduce_sum %x {axes = array<i64: 0, 2>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<1x3x1xf32>
  return %0 : tensor<1x3x1xf32>
}

// Integer mean: sum, then signed division by the count (truncating).
// CHECK-LABEL: func.func @reduce_mean_i32
// CHECK: arith.addi
// CHECK: arith.constant 4 : i32
// CHECK: arith.divsi
func.func @reduce_mean_i32(%x: tensor<2x4xi32>) -> tensor<2xi32> {
  %0 = lathe.reduce_mean %x {axes = array<i64: 1>, keepdims = false} : (tensor<2x4xi32>) -> tensor<2xi32>
  return %0 : tensor<2xi32>
}

// Unsigned max starts from 0 and compares unsigned; the result is signless.
// CHECK-LABEL: func.func @reduce_max_ui8
// CHECK-SAME: -> tensor<i8>
// CHECK: arith.constant 0 : i8
// CHECK: arith.maxui
func.func @reduce_max_ui8(%x: tensor<5xui8>) -> tensor<ui8> {
  %0 = lathe.reduce_max %x {axes = array<i64: 0>, keepdims = false} : (tensor<5xui8>) -> tensor<ui8>
  return %0 : tensor<ui8>
}

// Float min starts from +inf and propagates NaN.
// CHECK-LABEL: func.func @reduce_min
// CHECK: arith.constant 0x7F800000 : f32
// CHECK: arith.minimumf
func.func @reduce_min(%x: tensor<5xf32>) -> tensor<f32> {
  %0 = lathe.reduce_min %x {axes = array<i64: 0>, keepdims = false} : (tensor<5xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// L2 squares before summing and takes the square root after.
// CHECK-LABEL: func.func @reduce_l2
// CHECK: arith.mulf
// CHECK-NEXT: arith.addf
// CHECK: math.sqrt
func.func @reduce_l2(%x: tensor<2x3xf32>) -> tensor<2xf32> {
  %0 = lathe.reduce_l2 %x {axes = array<i64: 1>, keepdims = false} : (tensor<2x3xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// Integer log-sum runs the logarithm in f64 and truncates back.
// CHECK-LABEL: func.func @reduce_log_sum_i64
// CHECK: arith.addi
// CHECK: arith.sitofp %{{.*}} : i64 to f64
// CHECK: math.log
// CHECK: arith.fptosi %{{.*}} : f64 to i64
func.func @reduce_log_sum_i64(%x: tensor<2x3xi64>) -> tensor<2x1xi64> {
  %0 = lathe.reduce_log_sum %x {axes = array<i64: 1>, keepdims = true} : (tensor<2x3xi64>) -> tensor<2x1xi64>
  return %0 : tensor<2x1xi64>
}

// LogSumExp: max, a shift that is the max where it is finite, then
// log(sum(exp(x - shift))) + shift.
// CHECK-LABEL: func.func @reduce_log_sum_exp
// CHECK: arith.maximumf
// CHECK: math.absf
// CHECK: arith.cmpf olt
// CHECK: arith.select
// CHECK: arith.subf
// CHECK: math.exp
// CHECK: arith.addf
// CHECK: math.log
// CHECK: arith.addf
func.func @reduce_log_sum_exp(%x: tensor<2x3xf64>) -> tensor<2xf64> {
  %0 = lathe.reduce_log_sum_exp %x {axes = array<i64: 1>, keepdims = false} : (tensor<2x3xf64>) -> tensor<2xf64>
  return %0 : tensor<2xf64>
}

// ArgMax: one reduction carrying (value, index); index -1 means none yet.
// CHECK-LABEL: func.func @argmax
// CHECK: linalg.fill ins(%{{.*}} : i64) outs(%{{.*}} : tensor<2x4xi64>)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "parallel"]
// CHECK: linalg.index 1
// CHECK: arith.cmpf ogt
// CHECK: arith.cmpi sgt
// CHECK: arith.select
// CHECK: arith.select
// CHECK: tensor.expand_shape %{{.*}} into tensor<2x1x4xi64>
func.func @argmax(%x: tensor<2x3x4xf32>) -> tensor<2x1x4xi64> {
  %0 = lathe.argmax %x {axis = -2, keepdims = true, select_last_index = true} : (tensor<2x3x4xf32>) -> tensor<2x1x4xi64>
  return %0 : tensor<2x1x4xi64>
}

// CumSum: a loop over the axis adding each slice to an accumulator slice;
// exclusive stores the accumulator before the addition, reverse walks back.
// CHECK-LABEL: func.func @cumsum
// CHECK: scf.for
// CHECK: arith.subi
// CHECK: tensor.extract_slice %{{.*}} : tensor<2x3xi32> to tensor<2x1xi32>
// CHECK: tensor.insert_slice %{{.*}} : tensor<2x1xi32> into tensor<2x3xi32>
// CHECK: arith.addi
// CHECK: scf.yield
func.func @cumsum(%x: tensor<2x3xi32>) -> tensor<2x3xi32> {
  %0 = lathe.cumsum %x {axis = 1, exclusive = true, reverse = true} : (tensor<2x3xi32>) -> tensor<2x3xi32>
  return %0 : tensor<2x3xi32>
}

// TopK: k selection steps, each one reduction along the axis that reads
// the previous step's pick from the results.
// CHECK-LABEL: func.func @topk
// CHECK: %[[K:.*]] = arith.constant 2 : index
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[K]]
// CHECK: tensor.extract_slice %{{.*}} : tensor<3x2xf32> to tensor<3x1xf32>
// CHECK: tensor.extract_slice %{{.*}} : tensor<3x2xi64> to tensor<3x1xi64>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK: tensor.insert_slice %{{.*}} : tensor<3x1xf32> into tensor<3x2xf32>
// CHECK: tensor.insert_slice %{{.*}} : tensor<3x1xi64> into tensor<3x2xi64>
func.func @topk(%x: tensor<3x4xf32>) -> (tensor<3x2xf32>, tensor<3x2xi64>) {
  %v, %i = lathe.topk %x {axis = 1, k = 2, largest = false} : (tensor<3x4xf32>) -> (tensor<3x2xf32>, tensor<3x2xi64>)
  return %v, %i : tensor<3x2xf32>, tensor<3x2xi64>
}
