// RUN: lathe-opt --lathe-simplify --split-input-file %s | FileCheck %s

// Neutral constants on either side disappear when the result keeps x's type.
// CHECK-LABEL: func.func @neutral
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NOT: lathe.
// CHECK: return %[[X]]
func.func @neutral(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %one = lathe.constant dense<1.0> : tensor<3xf32>
  %zero = lathe.constant dense<0.0> : tensor<2x3xf32>
  %nzero = lathe.constant dense<-0.0> : tensor<1xf32>
  %0 = lathe.mul %x, %one : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %1 = lathe.mul %one, %0 : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = lathe.add %1, %zero : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = lathe.add %zero, %2 : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %4 = lathe.sub %3, %nzero : (tensor<2x3xf32>, tensor<1xf32>) -> tensor<2x3xf32>
  %5 = lathe.div %4, %one : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %6 = lathe.pow %5, %one : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %6 : tensor<2x3xf32>
}

// -----

// A non-splat constant counts when every element is neutral; integers too;
// Pow's exponent may have another element type.
// CHECK-LABEL: func.func @neutral_dense_int
// CHECK-SAME: (%[[X:.*]]: tensor<2xi64>, %[[F:.*]]: tensor<2xf32>)
// CHECK-NOT: lathe.
// CHECK: return %[[X]], %[[F]]
func.func @neutral_dense_int(%x: tensor<2xi64>, %f: tensor<2xf32>) -> (tensor<2xi64>, tensor<2xf32>) {
  %one = lathe.constant dense<[1, 1]> : tensor<2xi64>
  %zero = lathe.constant dense<[0, 0]> : tensor<2xi64>
  %0 = lathe.mul %x, %one : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %1 = lathe.add %0, %zero : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %2 = lathe.div %1, %one : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %3 = lathe.pow %f, %one : (tensor<2xf32>, tensor<2xi64>) -> tensor<2xf32>
  return %2, %3 : tensor<2xi64>, tensor<2xf32>
}

// -----

// Not folded: a neutral constant that broadcasts x to a larger shape, a
// constant that is not all neutral, x*0, 0-x, 1/x, and a neutral lhs of
// sub, div and pow.
// CHECK-LABEL: func.func @not_neutral
// CHECK-COUNT-9: lathe.{{mul|add|sub|div|pow}}
// CHECK: return
func.func @not_neutral(%x: tensor<3xf32>, %y: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) {
  %ones = lathe.constant dense<1.0> : tensor<2x3xf32>
  %zeros = lathe.constant dense<0.0> : tensor<2x3xf32>
  %mixed = lathe.constant dense<[1.0, 2.0, 1.0]> : tensor<3xf32>
  %one = lathe.constant dense<1.0> : tensor<3xf32>
  %zero = lathe.constant dense<0.0> : tensor<3xf32>
  %0 = lathe.mul %x, %ones : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = lathe.add %zeros, %x : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %2 = lathe.mul %x, %mixed : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %3 = lathe.mul %x, %zero : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %4 = lathe.sub %zero, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %5 = lathe.div %one, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %6 = lathe.pow %one, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %7 = lathe.add %x, %one : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %8 = lathe.div %x, %zero : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %0, %1, %2, %3, %4, %5, %6, %7, %8 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>
}

// -----

// Transposes compose; the identity permutation disappears.
// CHECK-LABEL: func.func @transposes
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK: %[[T:.*]] = lathe.transpose %[[X]] {perm = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
// CHECK-NOT: lathe.transpose
// CHECK: return %[[X]], %[[T]]
func.func @transposes(%x: tensor<2x3x4xf32>) -> (tensor<2x3x4xf32>, tensor<3x4x2xf32>) {
  %0 = lathe.transpose %x {perm = array<i64: 1, 0, 2>} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
  %1 = lathe.transpose %0 {perm = array<i64: 1, 0, 2>} : (tensor<3x2x4xf32>) -> tensor<2x3x4xf32>
  %2 = lathe.transpose %0 {perm = array<i64: 0, 2, 1>} : (tensor<3x2x4xf32>) -> tensor<3x4x2xf32>
  %3 = lathe.transpose %x {perm = array<i64: 0, 1, 2>} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %4 = lathe.transpose %3 {perm = array<i64: 0, 1, 2>} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %5 = lathe.add %1, %4 : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %1, %2 : tensor<2x3x4xf32>, tensor<3x4x2xf32>
}

// -----

// Reshape/Flatten chains (Squeeze and Unsqueeze import as Reshape) become one
// Reshape; one back to the input's shape disappears. A lone Flatten stays.
// CHECK-LABEL: func.func @reshapes
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK: %[[R:.*]] = lathe.reshape %[[X]] {shape = array<i64: 24>} : (tensor<2x3x4xf32>) -> tensor<24xf32>
// CHECK: %[[F:.*]] = lathe.reshape %[[X]] {shape = array<i64: 6, 4>} : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
// CHECK: %[[G:.*]] = lathe.flatten %[[X]] {axis = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x12xf32>
// CHECK-NOT: lathe.
// CHECK: return %[[R]], %[[X]], %[[F]], %[[G]]
func.func @reshapes(%x: tensor<2x3x4xf32>) -> (tensor<24xf32>, tensor<2x3x4xf32>, tensor<6x4xf32>, tensor<2x12xf32>) {
  %0 = lathe.reshape %x {shape = array<i64: 1, 2, 3, 4>} : (tensor<2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %1 = lathe.reshape %0 {shape = array<i64: 6, 4>} : (tensor<1x2x3x4xf32>) -> tensor<6x4xf32>
  %2 = lathe.reshape %1 {shape = array<i64: 24>} : (tensor<6x4xf32>) -> tensor<24xf32>
  %3 = lathe.reshape %0 {shape = array<i64: 2, 3, 4>} : (tensor<1x2x3x4xf32>) -> tensor<2x3x4xf32>
  %4 = lathe.flatten %0 {axis = 2 : i64} : (tensor<1x2x3x4xf32>) -> tensor<2x12xf32>
  %5 = lathe.flatten %4 {axis = 1 : i64} : (tensor<2x12xf32>) -> tensor<2x12xf32>
  %6 = lathe.reshape %5 {shape = array<i64: 6, 4>} : (tensor<2x12xf32>) -> tensor<6x4xf32>
  %7 = lathe.flatten %x {axis = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x12xf32>
  return %2, %3, %6, %7 : tensor<24xf32>, tensor<2x3x4xf32>, tensor<6x4xf32>, tensor<2x12xf32>
}

// -----

// A 2-D transpose feeding Gemm becomes transA/transB (flipping a set flag).
// CHECK-LABEL: func.func @gemm_transpose
// CHECK-SAME: (%[[A:.*]]: tensor<3x2xf32>, %[[B:.*]]: tensor<3x4xf32>, %[[C:.*]]: tensor<4xf32>)
// CHECK-NOT: lathe.transpose
// CHECK: lathe.gemm %[[A]], %[[B]], %[[C]] {alpha = 2.000000e+00 : f32, transA = true} :
// CHECK-NOT: lathe.transpose
func.func @gemm_transpose(%a: tensor<3x2xf32>, %b: tensor<3x4xf32>, %c: tensor<4xf32>) -> tensor<2x4xf32> {
  %at = lathe.transpose %a {perm = array<i64: 1, 0>} : (tensor<3x2xf32>) -> tensor<2x3xf32>
  %bt = lathe.transpose %b {perm = array<i64: 1, 0>} : (tensor<3x4xf32>) -> tensor<4x3xf32>
  %0 = lathe.gemm %at, %bt, %c {transB = true, alpha = 2.0 : f32} : (tensor<2x3xf32>, tensor<4x3xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// Identity, inference Dropout, Cast to the same type and Expand to the same
// shape disappear; a widening Cast and a growing Expand stay.
// CHECK-LABEL: func.func @identities
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK: %[[C:.*]] = lathe.cast %[[X]] {to = f64}
// CHECK: %[[E:.*]] = lathe.expand %[[X]] {shape = array<i64: 4, 1, 1>}
// CHECK-NOT: lathe.
// CHECK: return %[[X]], %[[C]], %[[E]]
func.func @identities(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf64>, tensor<4x2x3xf32>) {
  %0 = lathe.identity %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = lathe.dropout %0 {ratio = 0.5 : f32} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = lathe.cast %1 {to = f32} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = lathe.expand %2 {shape = array<i64: 1, 3>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %4 = lathe.cast %x {to = f64} : (tensor<2x3xf32>) -> tensor<2x3xf64>
  %5 = lathe.expand %x {shape = array<i64: 4, 1, 1>} : (tensor<2x3xf32>) -> tensor<4x2x3xf32>
  return %3, %4, %5 : tensor<2x3xf32>, tensor<2x3xf64>, tensor<4x2x3xf32>
}
