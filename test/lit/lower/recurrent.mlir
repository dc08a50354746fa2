// RUN: lathe-opt --lathe-lower-to-linalg %s | FileCheck %s

// The backward direction of @rnn_bidirectional reads X and writes Y through
// reversed time maps (4 - t).
// CHECK-DAG: #[[REV:.*]] = affine_map<(d0, d1, d2, d3) -> (-d0 + 4, d1, d3)>
// CHECK-DAG: #[[REVY:.*]] = affine_map<(d0, d1, d2) -> (-d0 + 4, d1, d2)>

// LSTM with peepholes: the input projection of all steps is one contraction
// before the time loop (not unrolled); each step multiplies the hidden state
// by R^T, applies the gates in one elementwise generic (peepholes broadcast
// over the batch), and copies the new states over the carried ones.
// CHECK-LABEL: func.func @lstm
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%arg0, %{{.*}} : tensor<5x2x3xf32>, tensor<16x3xf32>) outs(%{{.*}} : tensor<5x2x16xf32>)
// CHECK: scf.for %[[T:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[H:.*]] = %{{.*}}, %[[C:.*]] = %{{.*}}, %[[Y:.*]] = %{{.*}}) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<5x2x4xf32>)
// CHECK: tensor.extract_slice %{{.*}}[%[[T]], 0, 0] [1, 2, 16] [1, 1, 1] : tensor<5x2x16xf32> to tensor<2x16xf32>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[H]], %{{.*}} : tensor<2x4xf32>, tensor<16x4xf32>)
// CHECK: linalg.generic {{.*}} ins({{.*}}%[[C]], {{.*}} : {{.*}}tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
// CHECK: math.exp
// CHECK: math.tanh
// CHECK: linalg.yield %{{.*}}, %{{.*}} : f32, f32
// CHECK: tensor.insert_slice %{{.*}} into %[[Y]][%[[T]], 0, 0] [1, 2, 4]
// CHECK: linalg.copy ins(%{{.*}} : tensor<2x4xf32>) outs(%[[H]] : tensor<2x4xf32>)
// CHECK: linalg.copy ins(%{{.*}} : tensor<2x4xf32>) outs(%[[C]] : tensor<2x4xf32>)
// CHECK: scf.yield
func.func @lstm(%x: tensor<5x2x3xf32>, %w: tensor<1x16x3xf32>, %r: tensor<1x16x4xf32>, %p: tensor<1x12xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>) {
  %y, %h, %c = lathe.lstm %x, %w, %r peepholes %p {hidden_size = 4 : i64, activations = ["Sigmoid", "Tanh", "Tanh"], activation_alpha = array<f32: 0.0, 0.0, 0.0>, activation_beta = array<f32: 0.0, 0.0, 0.0>, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 1>} : (tensor<5x2x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>, tensor<1x12xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  return %y, %h, %c : tensor<5x1x2x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>
}

// GRU without linear_before_reset: the biases (W's and R's) start the input
// projection; a step multiplies by the z and r rows of R, forms r * H, and
// multiplies that by the h rows.
// CHECK-LABEL: func.func @gru
// CHECK: arith.addf
// CHECK: scf.for
// CHECK: ins(%{{.*}}, %{{.*}} : tensor<2x4xf32>, tensor<8x4xf32>) outs(%{{.*}} : tensor<2x8xf32>)
// CHECK: linalg.generic
// CHECK: arith.mulf
// CHECK: ins(%{{.*}}, %{{.*}} : tensor<2x4xf32>, tensor<4x4xf32>) outs(%{{.*}} : tensor<2x4xf32>)
// CHECK: math.tanh
// CHECK: arith.subf
func.func @gru(%x: tensor<5x2x3xf32>, %w: tensor<1x12x3xf32>, %r: tensor<1x12x4xf32>, %b: tensor<1x24xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>) {
  %y, %h = lathe.gru %x, %w, %r bias %b {hidden_size = 4 : i64, activations = ["Sigmoid", "Tanh"], activation_alpha = array<f32: 0.0, 0.0>, activation_beta = array<f32: 0.0, 0.0>, operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0>} : (tensor<5x2x3xf32>, tensor<1x12x3xf32>, tensor<1x12x4xf32>, tensor<1x24xf32>) -> (tensor<5x1x2x4xf32>, tensor<1x2x4xf32>)
  return %y, %h : tensor<5x1x2x4xf32>, tensor<1x2x4xf32>
}

// Reverse with sequence_lens (batch-first layout): X is gathered into each
// entry's reverse order (len - 1 - t inside the sequence), steps past the
// length keep the state and output 0, and Y is gathered back.
// CHECK-LABEL: func.func @rnn_reverse_lens
// CHECK: linalg.generic {{.*}} ins(%arg3 : tensor<2xi32>) outs(%{{.*}} : tensor<5x2x3xf32>)
// CHECK: arith.subi
// CHECK: arith.cmpi slt
// CHECK: tensor.extract %arg0
// CHECK: scf.for
// CHECK: arith.minimumf
// CHECK: arith.cmpi slt
// CHECK: arith.select
// CHECK: linalg.generic {{.*}} ins(%arg3 : tensor<2xi32>) outs(%{{.*}} : tensor<2x5x4xf32>)
// CHECK: tensor.extract
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 0, 0] [2, 5, 1, 4]
func.func @rnn_reverse_lens(%x: tensor<2x5x3xf32>, %w: tensor<1x4x3xf32>, %r: tensor<1x4x4xf32>, %lens: tensor<2xi32>) -> (tensor<2x5x1x4xf32>, tensor<2x1x4xf32>) {
  %y, %h = lathe.rnn %x, %w, %r sequence_lens %lens {hidden_size = 4 : i64, direction = "reverse", layout = 1 : i64, clip = 2.0 : f32, activations = ["LeakyRelu"], activation_alpha = array<f32: 0.1>, activation_beta = array<f32: 0.0>, operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 0>} : (tensor<2x5x3xf32>, tensor<1x4x3xf32>, tensor<1x4x4xf32>, tensor<2xi32>) -> (tensor<2x5x1x4xf32>, tensor<2x1x4xf32>)
  return %y, %h : tensor<2x5x1x4xf32>, tensor<2x1x4xf32>
}

// Bidirectional: one loop per direction; the backward one reads X and
// writes Y through reversed maps.
// CHECK-LABEL: func.func @rnn_bidirectional
// CHECK: scf.for
// CHECK: linalg.generic {indexing_maps = [#[[REV]]
// CHECK: scf.for
// CHECK: linalg.generic {indexing_maps = [#[[REVY]]
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 1, 0, 0] [5, 1, 2, 4]
func.func @rnn_bidirectional(%x: tensor<5x2x3xf32>, %w: tensor<2x4x3xf32>, %r: tensor<2x4x4xf32>) -> (tensor<5x2x2x4xf32>, tensor<2x2x4xf32>) {
  %y, %h = lathe.rnn %x, %w, %r {hidden_size = 4 : i64, direction = "bidirectional", activations = ["Tanh", "Relu"], activation_alpha = array<f32: 0.0, 0.0>, activation_beta = array<f32: 0.0, 0.0>, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0>} : (tensor<5x2x3xf32>, tensor<2x4x3xf32>, tensor<2x4x4xf32>) -> (tensor<5x2x2x4xf32>, tensor<2x2x4xf32>)
  return %y, %h : tensor<5x2x2x4xf32>, tensor<2x2x4xf32>
}
