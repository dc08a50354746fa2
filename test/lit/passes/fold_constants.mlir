// RUN: lathe-opt --lathe-fold-constants --split-input-file %s | FileCheck %s
// RUN: lathe-opt --lathe-fold-constants=grow-limit=0 --split-input-file %s | FileCheck %s --check-prefix=NOGROW

// A chain of ops on constants becomes one constant with the compiled code's
// values; the op that reads a graph input stays.
// CHECK-LABEL: func.func @chain
// CHECK-NOT: dense<[1.000000e+00, 2.000000e+00]>
// CHECK: %[[E:.*]] = lathe.constant {lathe.folded} dense<[2.71828175, 7.3890562]> : tensor<2xf32>
// CHECK-NEXT: %[[S:.*]] = lathe.add %arg0, %[[E]]
// CHECK-NEXT: %[[B:.*]] = lathe.constant {lathe.folded} dense<true> : tensor<2xi1>
// CHECK-NEXT: return %[[S]], %[[B]]
func.func @chain(%x: tensor<2xf32>) -> (tensor<2xf32>, tensor<2xi1>) {
  %0 = lathe.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %1 = lathe.exp %0 : (tensor<2xf32>) -> tensor<2xf32>
  %2 = lathe.add %x, %1 : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %3 = lathe.less %0, %1 : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xi1>
  return %2, %3 : tensor<2xf32>, tensor<2xi1>
}

// -----

// Weight layout changes and shape arithmetic fold; unsigned and half
// precision values come out of the compiled code as they are.
// CHECK-LABEL: func.func @layouts
// CHECK-DAG: lathe.constant {lathe.folded} dense<{{\[}}[1, 4], [2, 5], [3, 6]]> : tensor<3x2xi64>
// CHECK-DAG: lathe.constant {lathe.folded} dense<[6, 255]> : tensor<2xui8>
// CHECK-DAG: lathe.constant {lathe.folded} dense<[1.500000e+00, 3.000000e+00]> : tensor<2xf16>
// CHECK-NOT: lathe.transpose
// CHECK-NOT: lathe.add
// CHECK-NOT: lathe.mul
func.func @layouts() -> (tensor<3x2xi64>, tensor<2xui8>, tensor<2xf16>) {
  %0 = lathe.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  %1 = lathe.transpose %0 {perm = array<i64: 1, 0>} : (tensor<2x3xi64>) -> tensor<3x2xi64>
  %2 = lathe.constant dense<[5, 254]> : tensor<2xui8>
  %3 = lathe.constant dense<1> : tensor<2xui8>
  %4 = lathe.add %2, %3 : (tensor<2xui8>, tensor<2xui8>) -> tensor<2xui8>
  %5 = lathe.constant dense<[0.75, 1.5]> : tensor<2xf16>
  %6 = lathe.constant dense<2.0> : tensor<f16>
  %7 = lathe.mul %5, %6 : (tensor<2xf16>, tensor<f16>) -> tensor<2xf16>
  return %1, %4, %7 : tensor<3x2xi64>, tensor<2xui8>, tensor<2xf16>
}

// -----

// A broadcast that makes a constant larger than its operands is left to run
// time once it passes the grow limit (1 MiB by default; 0 in NOGROW).
// CHECK-LABEL: func.func @growth
// CHECK: lathe.constant {lathe.folded} dense<3.000000e+00> : tensor<4x8xf32>
// NOGROW-LABEL: func.func @growth
// NOGROW: lathe.expand
// NOGROW-NOT: lathe.folded
func.func @growth() -> tensor<4x8xf32> {
  %0 = lathe.constant dense<3.0> : tensor<1x8xf32>
  %1 = lathe.expand %0 {shape = array<i64: 4, 8>} : (tensor<1x8xf32>) -> tensor<4x8xf32>
  return %1 : tensor<4x8xf32>
}
