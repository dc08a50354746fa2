// RUN: lathe-opt --lathe-lower-to-linalg %s | FileCheck %s

// Counter-based generation: the element's row-major index (from
// linalg.index) goes through SplitMix64's mixing (shifts 30, 27, 31 with
// xor and multiply); the top 24 bits make an f32 uniform in [0, 1).
// CHECK-LABEL: func.func @uniform
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<4x5xf32>)
// CHECK: linalg.index 0
// CHECK: linalg.index 1
// CHECK: arith.index_cast %{{.*}} : index to i64
// CHECK: arith.shrui %{{.*}}, %c30_i64
// CHECK: arith.xori
// CHECK: arith.muli
// CHECK: arith.shrui %{{.*}}, %c27_i64
// CHECK: arith.shrui %{{.*}}, %c31_i64
// CHECK: arith.shrui %{{.*}}, %c40_i64
// CHECK: arith.uitofp %{{.*}} : i64 to f32
// CHECK: arith.constant 5.96046448E-8 : f32
// CHECK: arith.constant 2.000000e+00 : f32
// CHECK: arith.constant -1.000000e+00 : f32
func.func @uniform() -> tensor<4x5xf32> {
  %0 = lathe.random_uniform {shape = array<i64: 4, 5>, dtype = f32, low = -1.0 : f32, high = 1.0 : f32, seed = 7 : i64} : () -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// f64 uses 53 bits; Box-Muller takes two streams.
// CHECK-LABEL: func.func @normal
// CHECK: arith.shrui %{{.*}}, %c11_i64
// CHECK: arith.uitofp %{{.*}} : i64 to f64
// CHECK: math.log
// CHECK: math.sqrt
// CHECK: math.cos
func.func @normal() -> tensor<8xf64> {
  %0 = lathe.random_normal {shape = array<i64: 8>, dtype = f64, mean = 0.0 : f32, scale = 1.0 : f32, seed = 7 : i64} : () -> tensor<8xf64>
  return %0 : tensor<8xf64>
}

// CHECK-LABEL: func.func @bernoulli
// CHECK: linalg.generic {{.*}} ins(%arg0 : tensor<6xf32>) outs(%{{.*}} : tensor<6xi1>)
// CHECK: %[[HIT:.*]] = arith.cmpf olt
// CHECK: linalg.yield %[[HIT]] : i1
func.func @bernoulli(%p: tensor<6xf32>) -> tensor<6xi1> {
  %0 = lathe.bernoulli %p {dtype = i1, seed = 3 : i64} : (tensor<6xf32>) -> tensor<6xi1>
  return %0 : tensor<6xi1>
}

// Training dropout: one generic with two results; ratio and training are
// rank-0 operands; kept elements are scaled by 1 / (1 - ratio).
// CHECK-LABEL: func.func @dropout
// CHECK: linalg.generic {{.*}} ins(%arg0, %arg1, %arg2 : tensor<3x4xf32>, tensor<f32>, tensor<i1>) outs(%{{.*}}, %{{.*}} : tensor<3x4xf32>, tensor<3x4xi1>)
// CHECK: %[[KEEP:.*]] = arith.cmpf oge
// CHECK: arith.divf
// CHECK: arith.select %[[KEEP]]
// CHECK: arith.select %{{.*}}
// CHECK: arith.ori %[[KEEP]]
func.func @dropout(%x: tensor<3x4xf32>, %r: tensor<f32>, %t: tensor<i1>) -> (tensor<3x4xf32>, tensor<3x4xi1>) {
  %0, %1 = lathe.training_dropout %x, %r, %t {seed = 0 : i64} : (tensor<3x4xf32>, tensor<f32>, tensor<i1>) -> (tensor<3x4xf32>, tensor<3x4xi1>)
  return %0, %1 : tensor<3x4xf32>, tensor<3x4xi1>
}

// Training dropout keyed by a step: the 0-d step is one more rank-0 input,
// xor-ed into the (seed, op_index) key and mixed before the element's bits.
// CHECK-LABEL: func.func @dropout_step
// CHECK: linalg.generic {{.*}} ins(%arg0, %arg1, %arg2, %arg3 : tensor<3x4xf32>, tensor<f32>, tensor<i1>, tensor<i64>)
// CHECK: ^bb0(%{{.*}}: f32, %{{.*}}: f32, %{{.*}}: i1, %[[STEP:.*]]: i64,
// CHECK: arith.xori %{{.*}}, %[[STEP]] : i64
// CHECK: arith.cmpf oge
func.func @dropout_step(%x: tensor<3x4xf32>, %r: tensor<f32>, %t: tensor<i1>, %s: tensor<i64>) -> (tensor<3x4xf32>, tensor<3x4xi1>) {
  %0, %1 = lathe.training_dropout %x, %r, %t, %s {seed = 3 : i64, op_index = 1 : i64} : (tensor<3x4xf32>, tensor<f32>, tensor<i1>, tensor<i64>) -> (tensor<3x4xf32>, tensor<3x4xi1>)
  return %0, %1 : tensor<3x4xf32>, tensor<3x4xi1>
}
