// RUN: lathe-opt --lathe-lower-to-linalg %s | FileCheck %s

// Softmax along axis 1 of a 3-D tensor: one pass over the reduction keeps
// the running maximum and the sum of exp(x - max), rescaling the sum when
// the maximum grows; then one elementwise pass divides. The reduction keeps
// the other dims and iterates the axis innermost.
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2) -> (d0, d2, d1)>
// CHECK-DAG: #[[RED:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[KEEP:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-LABEL: func.func @softmax
// CHECK: %[[M0:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<2x4xf32>)
// CHECK: %[[S0:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<2x4xf32>)
// CHECK: %[[R:.*]]:2 = linalg.generic {indexing_maps = [#[[IN]], #[[RED]], #[[RED]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg0 : tensor<2x3x4xf32>) outs(%[[M0]], %[[S0]] : tensor<2x4xf32>, tensor<2x4xf32>)
// CHECK-NEXT: ^bb0(%[[X:.*]]: f32, %[[M:.*]]: f32, %[[S:.*]]: f32):
// CHECK: %[[NEXT:.*]] = arith.maximumf %[[M]], %[[X]]
// CHECK: arith.cmpf oeq, %[[M]], %[[NEXT]]
// CHECK: math.exp
// CHECK: arith.select
// CHECK: %[[SCALED:.*]] = arith.mulf %[[S]]
// CHECK: arith.cmpf oeq, %[[X]], %[[NEXT]]
// CHECK: math.exp
// CHECK: %[[ADD:.*]] = arith.select
// CHECK: %[[TOTAL:.*]] = arith.addf %[[SCALED]], %[[ADD]]
// CHECK: linalg.yield %[[NEXT]], %[[TOTAL]]
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[KEEP]], #[[KEEP]], #{{.*}}]{{.*}} ins(%arg0, %[[R]]#0, %[[R]]#1
// CHECK: arith.subf
// CHECK: math.exp
// CHECK: arith.divf
func.func @softmax(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %0 = lathe.softmax %x {axis = 1} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// LogSoftmax: x - max - log(sum(exp(x - max))), from the same reduction.
// CHECK-LABEL: func.func @log_softmax
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK: arith.maximumf
// CHECK: linalg.yield
// CHECK: linalg.generic
// CHECK: arith.subf
// CHECK-NOT: math.exp
// CHECK: math.log
// CHECK: arith.subf
func.func @log_softmax(%x: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %0 = lathe.log_softmax %x {axis = -1} : (tensor<2x5xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}
