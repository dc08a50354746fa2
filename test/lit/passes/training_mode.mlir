// RUN: lathe-opt --lathe-training-mode="seed=42" --split-input-file %s | FileCheck %s

// Both dropout kinds become training dropout reading the new step argument
// (appended last, named lathe.step), with the pass's seed and their
// ordinals 0 and 1. Inference dropout is switched on with its ratio; a
// training dropout keeps its ratio and training operands.
// CHECK-LABEL: func.func @main(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x3xf32> {lathe.name = "x"}, %[[R:[a-z0-9]+]]: tensor<f64> {lathe.name = "r"}, %[[T:[a-z0-9]+]]: tensor<i1> {lathe.name = "t"}, %[[STEP:[a-z0-9]+]]: tensor<i64> {lathe.name = "lathe.step"})
// CHECK-SAME: -> (tensor<2x3xf32> {lathe.name = "y"})
// CHECK-DAG: %[[RATIO:.*]] = lathe.constant dense<2.500000e-01> : tensor<f32>
// CHECK-DAG: %[[ON:.*]] = lathe.constant dense<true> : tensor<i1>
// CHECK: %[[D0:.*]], %{{.*}} = lathe.training_dropout %[[X]], %[[RATIO]], %[[ON]], %[[STEP]] {op_index = 0 : i64, seed = 42 : i64}
// CHECK: %[[E:.*]] = lathe.exp %[[D0]]
// CHECK: %[[D1:.*]], %{{.*}} = lathe.training_dropout %[[E]], %[[R]], %[[T]], %[[STEP]] {op_index = 1 : i64, seed = 42 : i64}
// CHECK-NOT: lathe.dropout
// CHECK: return %[[D1]]
func.func @main(%x: tensor<2x3xf32> {lathe.name = "x"}, %r: tensor<f64> {lathe.name = "r"}, %t: tensor<i1> {lathe.name = "t"}) -> (tensor<2x3xf32> {lathe.name = "y"}) {
  %0 = lathe.dropout %x {ratio = 2.5e-01 : f32} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = lathe.exp %0 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %2, %3 = lathe.training_dropout %1, %r, %t {seed = 7 : i64} : (tensor<2x3xf32>, tensor<f64>, tensor<i1>) -> (tensor<2x3xf32>, tensor<2x3xi1>)
  return %2 : tensor<2x3xf32>
}

// -----

// Batch norm takes batch statistics; the running mean (the op's own
// update) and the running variance (recomputed with the unbiased batch
// variance: N = 2 * 3 = 6 elements per channel, factor 6/5) are appended
// as results named like their arguments. A function without dropout still
// gets the step argument.
// CHECK-LABEL: func.func @main(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x2x3xf32> {lathe.name = "x"}, %[[G:[a-z0-9]+]]: tensor<2xf32> {lathe.name = "g"}, %[[B:[a-z0-9]+]]: tensor<2xf32> {lathe.name = "b"}, %[[M:[a-z0-9]+]]: tensor<2xf32> {lathe.name = "bn.mean"}, %[[V:[a-z0-9]+]]: tensor<2xf32> {lathe.name = "bn.var"}, %{{.*}}: tensor<i64> {lathe.name = "lathe.step"})
// CHECK-SAME: -> (tensor<2x2x3xf32> {lathe.name = "y"}, tensor<2xf32> {lathe.name = "bn.mean"}, tensor<2xf32> {lathe.name = "bn.var"})
// CHECK: %[[Y:.*]], %[[RM:.*]], %{{.*}}, %{{.*}}, %[[BV:.*]] = lathe.batch_norm_training %[[X]], %[[G]], %[[B]], %[[M]], %[[V]] {epsilon = 9.99999974E-6 : f32, momentum = 8.000000e-01 : f32}
// CHECK: %[[F:.*]] = lathe.constant dense<1.200000e+00> : tensor<f32>
// CHECK: %[[U:.*]] = lathe.mul %[[BV]], %[[F]]
// CHECK: %[[K:.*]] = lathe.constant dense<8.000000e-01> : tensor<f32>
// CHECK: %[[KEEP:.*]] = lathe.mul %[[V]], %[[K]]
// CHECK: %[[K1:.*]] = lathe.constant dense<0.199999988> : tensor<f32>
// CHECK: %[[NEW:.*]] = lathe.mul %[[U]], %[[K1]]
// CHECK: %[[RV:.*]] = lathe.add %[[KEEP]], %[[NEW]]
// CHECK-NOT: lathe.batch_norm %
// CHECK: return %[[Y]], %[[RM]], %[[RV]]
func.func @main(%x: tensor<2x2x3xf32> {lathe.name = "x"}, %g: tensor<2xf32> {lathe.name = "g"}, %b: tensor<2xf32> {lathe.name = "b"}, %m: tensor<2xf32> {lathe.name = "bn.mean"}, %v: tensor<2xf32> {lathe.name = "bn.var"}) -> (tensor<2x2x3xf32> {lathe.name = "y"}) {
  %0 = lathe.batch_norm %x, %g, %b, %m, %v {epsilon = 1.0e-05 : f32, momentum = 0.8 : f32} : (tensor<2x2x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<2x2x3xf32>
  return %0 : tensor<2x2x3xf32>
}
