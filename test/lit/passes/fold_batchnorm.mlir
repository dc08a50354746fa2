// RUN: lathe-opt --lathe-fold-batchnorm --split-input-file %s | FileCheck %s

// Parameters used below: gamma [4, 3], beta [0.5, 0], mean [1, 2],
// var [3, 0], eps 1 give scale = gamma / sqrt(var + eps) = [2, 3] and
// shift = beta - mean * scale = [-1.5, -6].

// Conv with bias: W' = W * scale per output channel, b' = b * scale + shift.
// CHECK-LABEL: func.func @conv_bias
// CHECK-DAG: %[[W:.*]] = lathe.constant {lathe.folded} dense<[{{\[\[\[}}4.000000e+00]]], {{\[\[\[}}9.000000e+00]]]]> : tensor<2x1x1x1xf32>
// CHECK-DAG: %[[B:.*]] = lathe.constant {lathe.folded} dense<[5.000000e-01, -9.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = lathe.conv %arg0, %[[W]], %[[B]] {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
// CHECK-NOT: lathe.batch_norm
// CHECK-NOT: lathe.constant
// CHECK: return %[[Y]]
func.func @conv_bias(%x: tensor<1x1x3x3xf32>) -> tensor<1x2x3x3xf32> {
  %w = lathe.constant dense<[[[[2.0]]], [[[3.0]]]]> : tensor<2x1x1x1xf32>
  %b = lathe.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %gamma = lathe.constant dense<[4.0, 3.0]> : tensor<2xf32>
  %beta = lathe.constant dense<[0.5, 0.0]> : tensor<2xf32>
  %mean = lathe.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %var = lathe.constant dense<[3.0, 0.0]> : tensor<2xf32>
  %0 = lathe.conv %x, %w, %b {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x3x3xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32>
  %1 = lathe.batch_norm %0, %gamma, %beta, %mean, %var {epsilon = 1.0 : f32} : (tensor<1x2x3x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32>
  return %1 : tensor<1x2x3x3xf32>
}

// -----

// Conv without bias in f16: the bias is created (the shift); values are
// rounded once to f16.
// CHECK-LABEL: func.func @conv_no_bias_f16
// CHECK-DAG: %[[W:.*]] = lathe.constant {lathe.folded} dense<[{{\[\[\[}}4.000000e+00]]], {{\[\[\[}}9.000000e+00]]]]> : tensor<2x1x1x1xf16>
// CHECK-DAG: %[[B:.*]] = lathe.constant {lathe.folded} dense<[-1.500000e+00, -6.000000e+00]> : tensor<2xf16>
// CHECK: lathe.conv %arg0, %[[W]], %[[B]]
// CHECK-NOT: lathe.batch_norm
func.func @conv_no_bias_f16(%x: tensor<1x1x3x3xf16>) -> tensor<1x2x3x3xf16> {
  %w = lathe.constant dense<[[[[2.0]]], [[[3.0]]]]> : tensor<2x1x1x1xf16>
  %gamma = lathe.constant dense<[4.0, 3.0]> : tensor<2xf16>
  %beta = lathe.constant dense<[0.5, 0.0]> : tensor<2xf16>
  %mean = lathe.constant dense<[1.0, 2.0]> : tensor<2xf16>
  %var = lathe.constant dense<[3.0, 0.0]> : tensor<2xf16>
  %0 = lathe.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x3x3xf16>, tensor<2x1x1x1xf16>) -> tensor<1x2x3x3xf16>
  %1 = lathe.batch_norm %0, %gamma, %beta, %mean, %var {epsilon = 1.0 : f32} : (tensor<1x2x3x3xf16>, tensor<2xf16>, tensor<2xf16>, tensor<2xf16>, tensor<2xf16>) -> tensor<1x2x3x3xf16>
  return %1 : tensor<1x2x3x3xf16>
}

// -----

// A conv with a second user keeps its weights; the batch norm becomes
// x * scale + shift with [C, 1, 1] constants.
// CHECK-LABEL: func.func @conv_multi_use
// CHECK-DAG: %[[W:.*]] = lathe.constant dense<{{\[\[\[\[}}2.000000e+00]]], {{\[\[\[}}3.000000e+00]]]]> : tensor<2x1x1x1xf32>
// CHECK: %[[C:.*]] = lathe.conv %arg0, %[[W]] {
// CHECK-DAG: %[[S:.*]] = lathe.constant {lathe.folded} dense<{{\[\[\[}}2.000000e+00]], {{\[\[}}3.000000e+00]]]> : tensor<2x1x1xf32>
// CHECK-DAG: %[[T:.*]] = lathe.constant {lathe.folded} dense<{{\[\[\[}}-1.500000e+00]], {{\[\[}}-6.000000e+00]]]> : tensor<2x1x1xf32>
// CHECK: %[[M:.*]] = lathe.mul %[[C]], %[[S]] : (tensor<1x2x3x3xf32>, tensor<2x1x1xf32>) -> tensor<1x2x3x3xf32>
// CHECK: %[[A:.*]] = lathe.add %[[M]], %[[T]] : (tensor<1x2x3x3xf32>, tensor<2x1x1xf32>) -> tensor<1x2x3x3xf32>
// CHECK-NOT: lathe.batch_norm
// CHECK: return %[[A]], %[[C]]
func.func @conv_multi_use(%x: tensor<1x1x3x3xf32>) -> (tensor<1x2x3x3xf32>, tensor<1x2x3x3xf32>) {
  %w = lathe.constant dense<[[[[2.0]]], [[[3.0]]]]> : tensor<2x1x1x1xf32>
  %gamma = lathe.constant dense<[4.0, 3.0]> : tensor<2xf32>
  %beta = lathe.constant dense<[0.5, 0.0]> : tensor<2xf32>
  %mean = lathe.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %var = lathe.constant dense<[3.0, 0.0]> : tensor<2xf32>
  %0 = lathe.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x3x3xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x3x3xf32>
  %1 = lathe.batch_norm %0, %gamma, %beta, %mean, %var {epsilon = 1.0 : f32} : (tensor<1x2x3x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32>
  return %1, %0 : tensor<1x2x3x3xf32>, tensor<1x2x3x3xf32>
}

// -----

// A conv whose weights are not constant is not folded either.
// CHECK-LABEL: func.func @conv_runtime_weight
// CHECK: lathe.conv %arg0, %arg1 {
// CHECK: lathe.mul
// CHECK: lathe.add
// CHECK-NOT: lathe.batch_norm
func.func @conv_runtime_weight(%x: tensor<1x1x3x3xf32>, %w: tensor<2x1x1x1xf32>) -> tensor<1x2x3x3xf32> {
  %gamma = lathe.constant dense<[4.0, 3.0]> : tensor<2xf32>
  %beta = lathe.constant dense<[0.5, 0.0]> : tensor<2xf32>
  %mean = lathe.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %var = lathe.constant dense<[3.0, 0.0]> : tensor<2xf32>
  %0 = lathe.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x3x3xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x3x3xf32>
  %1 = lathe.batch_norm %0, %gamma, %beta, %mean, %var {epsilon = 1.0 : f32} : (tensor<1x2x3x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32>
  return %1 : tensor<1x2x3x3xf32>
}

// -----

// ConvTranspose weights are [Cin, Cout/group, k...]: with 2 groups of 2,
// W[ci, j] feeds output channel (ci / 2) * 2 + j. scale = [1, 2, 3, 4],
// shift = beta = [1, 0, 0, -1].
// CHECK-LABEL: func.func @conv_transpose_groups
// CHECK-DAG: %[[W:.*]] = lathe.constant {lathe.folded} dense<{{\[\[\[\[}}1.000000e+00]], {{\[\[}}4.000000e+00]]], {{\[\[\[}}3.000000e+00]], {{\[\[}}8.000000e+00]]], {{\[\[\[}}1.500000e+01]], {{\[\[}}2.400000e+01]]], {{\[\[\[}}2.100000e+01]], {{\[\[}}3.200000e+01]]]]> : tensor<4x2x1x1xf32>
// CHECK-DAG: %[[B:.*]] = lathe.constant {lathe.folded} dense<[1.000000e+00, 0.000000e+00, 0.000000e+00, -1.000000e+00]> : tensor<4xf32>
// CHECK: lathe.conv_transpose %arg0, %[[W]], %[[B]] {{{.*}}group = 2 : i64
// CHECK-NOT: lathe.batch_norm
func.func @conv_transpose_groups(%x: tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> {
  %w = lathe.constant dense<[[[[1.0]], [[2.0]]], [[[3.0]], [[4.0]]], [[[5.0]], [[6.0]]], [[[7.0]], [[8.0]]]]> : tensor<4x2x1x1xf32>
  %gamma = lathe.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %beta = lathe.constant dense<[1.0, 0.0, 0.0, -1.0]> : tensor<4xf32>
  %mean = lathe.constant dense<0.0> : tensor<4xf32>
  %var = lathe.constant dense<0.0> : tensor<4xf32>
  %0 = lathe.conv_transpose %x, %w {dilations = array<i64: 1, 1>, group = 2 : i64, output_padding = array<i64: 0, 0>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x2x2xf32>, tensor<4x2x1x1xf32>) -> tensor<1x4x2x2xf32>
  %1 = lathe.batch_norm %0, %gamma, %beta, %mean, %var {epsilon = 1.0 : f32} : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32>
  return %1 : tensor<1x4x2x2xf32>
}

// -----

// Gemm with transB: row n of B is column n of op(B). C' = beta * C * scale +
// shift, and beta becomes 1 (the default, not printed): [2 * 1 * 2 - 1.5, 2 * 2 * 3 - 6].
// CHECK-LABEL: func.func @gemm_trans_b
// CHECK-DAG: %[[B:.*]] = lathe.constant {lathe.folded} dense<{{\[\[}}2.000000e+00, 4.000000e+00, 6.000000e+00], [3.000000e+00, 3.000000e+00, 3.000000e+00]]> : tensor<2x3xf32>
// CHECK-DAG: %[[C:.*]] = lathe.constant {lathe.folded} dense<[2.500000e+00, 6.000000e+00]> : tensor<2xf32>
// CHECK: lathe.gemm %arg0, %[[B]], %[[C]] {alpha = 5.000000e-01 : f32, transB = true} :
// CHECK-NOT: lathe.batch_norm
func.func @gemm_trans_b(%a: tensor<4x3xf32>) -> tensor<4x2xf32> {
  %b = lathe.constant dense<[[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]]> : tensor<2x3xf32>
  %c = lathe.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %gamma = lathe.constant dense<[4.0, 3.0]> : tensor<2xf32>
  %beta = lathe.constant dense<[0.5, 0.0]> : tensor<2xf32>
  %mean = lathe.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %var = lathe.constant dense<[3.0, 0.0]> : tensor<2xf32>
  %0 = lathe.gemm %a, %b, %c {transB = true, alpha = 0.5 : f32, beta = 2.0 : f32} : (tensor<4x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  %1 = lathe.batch_norm %0, %gamma, %beta, %mean, %var {epsilon = 1.0 : f32} : (tensor<4x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  return %1 : tensor<4x2xf32>
}

// -----

// A C of shape [M, 1] broadcasts: the new C is [M, N].
// CHECK-LABEL: func.func @gemm_c_column
// CHECK-DAG: %[[B:.*]] = lathe.constant {lathe.folded} dense<{{\[\[}}2.000000e+00, 3.000000e+00], [4.000000e+00, 6.000000e+00]]> : tensor<2x2xf32>
// CHECK-DAG: %[[C:.*]] = lathe.constant {lathe.folded} dense<{{\[\[}}5.000000e-01, -3.000000e+00], [2.500000e+00, 0.000000e+00]]> : tensor<2x2xf32>
// CHECK: lathe.gemm %arg0, %[[B]], %[[C]] :
func.func @gemm_c_column(%a: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %b = lathe.constant dense<[[1.0, 1.0], [2.0, 2.0]]> : tensor<2x2xf32>
  %c = lathe.constant dense<[[1.0], [2.0]]> : tensor<2x1xf32>
  %gamma = lathe.constant dense<[4.0, 3.0]> : tensor<2xf32>
  %beta = lathe.constant dense<[0.5, 0.0]> : tensor<2xf32>
  %mean = lathe.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %var = lathe.constant dense<[3.0, 0.0]> : tensor<2xf32>
  %0 = lathe.gemm %a, %b, %c : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x1xf32>) -> tensor<2x2xf32>
  %1 = lathe.batch_norm %0, %gamma, %beta, %mean, %var {epsilon = 1.0 : f32} : (tensor<2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  return %1 : tensor<2x2xf32>
}

// -----

// A 2-D MatMul becomes a Gemm with C = shift.
// CHECK-LABEL: func.func @matmul_2d
// CHECK-DAG: %[[B:.*]] = lathe.constant {lathe.folded} dense<{{\[\[}}2.000000e+00, 3.000000e+00], [4.000000e+00, 6.000000e+00], [2.000000e+00, 0.000000e+00]]> : tensor<3x2xf32>
// CHECK-DAG: %[[C:.*]] = lathe.constant {lathe.folded} dense<[-1.500000e+00, -6.000000e+00]> : tensor<2xf32>
// CHECK: lathe.gemm %arg0, %[[B]], %[[C]] :
// CHECK-NOT: lathe.matmul
// CHECK-NOT: lathe.batch_norm
func.func @matmul_2d(%a: tensor<5x3xf32>) -> tensor<5x2xf32> {
  %b = lathe.constant dense<[[1.0, 1.0], [2.0, 2.0], [1.0, 0.0]]> : tensor<3x2xf32>
  %gamma = lathe.constant dense<[4.0, 3.0]> : tensor<2xf32>
  %beta = lathe.constant dense<[0.5, 0.0]> : tensor<2xf32>
  %mean = lathe.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %var = lathe.constant dense<[3.0, 0.0]> : tensor<2xf32>
  %0 = lathe.matmul %a, %b : (tensor<5x3xf32>, tensor<3x2xf32>) -> tensor<5x2xf32>
  %1 = lathe.batch_norm %0, %gamma, %beta, %mean, %var {epsilon = 1.0 : f32} : (tensor<5x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<5x2xf32>
  return %1 : tensor<5x2xf32>
}

// -----

// A 3-D MatMul output [B, C, N]: batch norm normalises axis 1, not the
// matmul's columns, so the matmul stays and the batch norm becomes a
// multiply-add with [C, 1] constants.
// CHECK-LABEL: func.func @matmul_3d
// CHECK: %[[M:.*]] = lathe.matmul
// CHECK: lathe.mul %[[M]], %{{.*}} : (tensor<4x2x3xf32>, tensor<2x1xf32>) -> tensor<4x2x3xf32>
// CHECK: lathe.add
// CHECK-NOT: lathe.batch_norm
func.func @matmul_3d(%a: tensor<4x2x5xf32>) -> tensor<4x2x3xf32> {
  %b = lathe.constant dense<1.0> : tensor<5x3xf32>
  %gamma = lathe.constant dense<[4.0, 3.0]> : tensor<2xf32>
  %beta = lathe.constant dense<[0.5, 0.0]> : tensor<2xf32>
  %mean = lathe.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %var = lathe.constant dense<[3.0, 0.0]> : tensor<2xf32>
  %0 = lathe.matmul %a, %b : (tensor<4x2x5xf32>, tensor<5x3xf32>) -> tensor<4x2x3xf32>
  %1 = lathe.batch_norm %0, %gamma, %beta, %mean, %var {epsilon = 1.0 : f32} : (tensor<4x2x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<4x2x3xf32>
  return %1 : tensor<4x2x3xf32>
}

// -----

// f64, lone: the values are exact in double (1 / sqrt(3) is not a float).
// CHECK-LABEL: func.func @lone_f64
// CHECK: lathe.constant {lathe.folded} dense<[0.57735026918962584, 1.000000e+00]> : tensor<2xf64>
// CHECK: lathe.constant {lathe.folded} dense<[-0.57735026918962584, -2.000000e+00]> : tensor<2xf64>
// CHECK: lathe.mul %arg0
// CHECK: lathe.add
func.func @lone_f64(%x: tensor<3x2xf64>) -> tensor<3x2xf64> {
  %gamma = lathe.constant dense<1.0> : tensor<2xf64>
  %beta = lathe.constant dense<0.0> : tensor<2xf64>
  %mean = lathe.constant dense<[1.0, 2.0]> : tensor<2xf64>
  %var = lathe.constant dense<[2.0, 0.0]> : tensor<2xf64>
  %1 = lathe.batch_norm %x, %gamma, %beta, %mean, %var {epsilon = 1.0 : f32} : (tensor<3x2xf64>, tensor<2xf64>, tensor<2xf64>, tensor<2xf64>, tensor<2xf64>) -> tensor<3x2xf64>
  return %1 : tensor<3x2xf64>
}

// -----

// Parameters that are not constants, and training mode, are left alone.
// CHECK-LABEL: func.func @left_alone
// CHECK: lathe.batch_norm %arg0
// CHECK: lathe.batch_norm_training
// CHECK-NOT: lathe.mul
func.func @left_alone(%x: tensor<1x2x3xf32>, %gamma: tensor<2xf32>) -> (tensor<1x2x3xf32>, tensor<1x2x3xf32>) {
  %beta = lathe.constant dense<[0.5, 0.0]> : tensor<2xf32>
  %mean = lathe.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %var = lathe.constant dense<[3.0, 0.0]> : tensor<2xf32>
  %0 = lathe.batch_norm %x, %gamma, %beta, %mean, %var {epsilon = 1.0 : f32} : (tensor<1x2x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x3xf32>
  %y, %rm, %rv, %bm, %bv = lathe.batch_norm_training %x, %beta, %beta, %mean, %var {epsilon = 1.0e-5 : f32, momentum = 0.9 : f32} : (tensor<1x2x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<1x2x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>)
  return %0, %y : tensor<1x2x3xf32>, tensor<1x2x3xf32>
}

// -----

// Parameters shared between batch norms (exporters deduplicate equal
// initializers: beta and mean are one zero tensor here), and a batch norm of
// a batch norm: the first folds into the conv, the second into the result.
// scale = 1 / sqrt(3 + 1) = 0.5 twice: W' = 2 * 0.25, b' = 0.
// CHECK-LABEL: func.func @shared_params_chain
// CHECK-DAG: %[[W:.*]] = lathe.constant {lathe.folded} dense<5.000000e-01> : tensor<2x1x1x1xf32>
// CHECK-DAG: %[[B:.*]] = lathe.constant {lathe.folded} dense<0.000000e+00> : tensor<2xf32>
// CHECK: %[[Y:.*]] = lathe.conv %arg0, %[[W]], %[[B]]
// CHECK-NOT: lathe.batch_norm
// CHECK-NOT: lathe.constant
// CHECK: return %[[Y]]
func.func @shared_params_chain(%x: tensor<1x1x3x3xf32>) -> tensor<1x2x3x3xf32> {
  %w = lathe.constant dense<2.0> : tensor<2x1x1x1xf32>
  %one = lathe.constant dense<1.0> : tensor<2xf32>
  %zero = lathe.constant dense<0.0> : tensor<2xf32>
  %var = lathe.constant dense<3.0> : tensor<2xf32>
  %0 = lathe.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x3x3xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x3x3xf32>
  %1 = lathe.batch_norm %0, %one, %zero, %zero, %var {epsilon = 1.0 : f32} : (tensor<1x2x3x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32>
  %2 = lathe.batch_norm %1, %one, %zero, %zero, %var {epsilon = 1.0 : f32} : (tensor<1x2x3x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32>
  return %2 : tensor<1x2x3x3xf32>
}
