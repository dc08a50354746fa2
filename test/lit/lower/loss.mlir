// RUN: lathe-opt --lathe-lower-to-linalg %s | FileCheck %s

// Mean NLL loss with weights and ignore_index: one reduction over the
// target's dims accumulates the loss and the weight of the targets that
// count; the class is read with tensor.extract at a safe index (0 for
// ignored or out-of-range targets); a 0-d generic divides.
// CHECK-LABEL: func.func @nll_mean
// CHECK: %[[SUMS:.*]]:2 = linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]} ins(%arg1 : tensor<3x2xi64>) outs(%{{.*}}, %{{.*}} : tensor<f32>, tensor<f32>)
// CHECK: %[[IGN:.*]] = arith.cmpi ne, %{{.*}}, %c1_i64
// CHECK: %[[CLS:.*]] = arith.index_cast
// CHECK: tensor.extract %arg0[%{{.*}}, %[[CLS]], %{{.*}}] : tensor<3x5x2xf32>
// CHECK: tensor.extract %arg2[%[[CLS]]] : tensor<5xf32>
// CHECK: arith.negf
// CHECK: arith.select %[[IGN]]
// CHECK: linalg.yield %{{.*}}, %{{.*}} : f32, f32
// CHECK: linalg.generic {{.*}} ins(%[[SUMS]]#0, %[[SUMS]]#1 : tensor<f32>, tensor<f32>)
// CHECK: arith.divf
func.func @nll_mean(%x: tensor<3x5x2xf32>, %t: tensor<3x2xi64>, %w: tensor<5xf32>) -> tensor<f32> {
  %0 = lathe.nll_loss %x, %t, %w {ignore_index = 1 : i64, reduction = "mean"} : (tensor<3x5x2xf32>, tensor<3x2xi64>, tensor<5xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// reduction = none: one loss per target, no weights (1).
// CHECK-LABEL: func.func @nll_none
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel"]} ins(%arg1 : tensor<3xi32>) outs(%{{.*}} : tensor<3xf32>)
// CHECK: tensor.extract %arg0[%{{.*}}, %{{.*}}] : tensor<3x5xf32>
// CHECK: arith.negf
// CHECK-NOT: arith.divf
func.func @nll_none(%x: tensor<3x5xf32>, %t: tensor<3xi32>) -> tensor<3xf32> {
  %0 = lathe.nll_loss %x, %t {reduction = "none"} : (tensor<3x5xf32>, tensor<3xi32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// reduction = sum: a single accumulator.
// CHECK-LABEL: func.func @nll_sum
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<f64>)
// CHECK-NOT: arith.divf
// CHECK: return
func.func @nll_sum(%x: tensor<2x4xf64>, %t: tensor<2xi64>) -> tensor<f64> {
  %0 = lathe.nll_loss %x, %t {reduction = "sum"} : (tensor<2x4xf64>, tensor<2xi64>) -> tensor<f64>
  return %0 : tensor<f64>
}
