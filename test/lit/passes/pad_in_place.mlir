// RUN: lathe-opt --lathe-pad-in-place --split-input-file %s | FileCheck %s
// RUN: lathe-opt --lathe-pad-in-place --eliminate-empty-tensors --split-input-file %s | FileCheck %s --check-prefix=ELIM

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// A ReLU padded for a 3x3 convolution. The padded tensor is created before
// the ReLU: its first and last rows as one fill each of the rows viewed as
// [N*C, H, W], the columns as one run per row gap on the flattened tensor.
// The ReLU's other reader, after the pad, reads the padded interior.
// CHECK-LABEL: func.func @relu_pad(
// CHECK-SAME: %[[X:.*]]: tensor<2x3x4x5xf32>
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x3x6x7xf32>
// CHECK: %[[ROWS:.*]] = tensor.collapse_shape %[[E]] {{\[\[}}0, 1], [2], [3]] : tensor<2x3x6x7xf32> into tensor<6x6x7xf32>
// CHECK: %[[TOP:.*]] = tensor.extract_slice %[[ROWS]][0, 0, 0] [6, 1, 7] [1, 1, 1]
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[TOP]] : tensor<6x1x7xf32>)
// CHECK: tensor.extract_slice %{{.*}}[0, 5, 0] [6, 1, 7] [1, 1, 1]
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1, 2, 3]] : tensor<2x3x6x7xf32> into tensor<252xf32>
// CHECK: tensor.extract_slice %[[FLAT]][0] [1] [1]
// CHECK: tensor.extract_slice %{{.*}}[251] [1] [1]
// CHECK: %[[SEG:.*]] = tensor.extract_slice %{{.*}}[6] [245] [1] : tensor<252xf32> to tensor<245xf32>
// CHECK: %[[GRID:.*]] = tensor.expand_shape %[[SEG]] {{\[\[}}0, 1]] output_shape [35, 7] : tensor<245xf32> into tensor<35x7xf32>
// CHECK: %[[GAP:.*]] = tensor.extract_slice %[[GRID]][0, 0] [35, 2] [1, 1]
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[GAP]] : tensor<35x2xf32>)
// CHECK: %[[BORDERS:.*]] = tensor.expand_shape %{{.*}} {{\[\[}}0, 1, 2, 3]] output_shape [2, 3, 6, 7] : tensor<252xf32> into tensor<2x3x6x7xf32>
// CHECK: %[[RELU:.*]] = linalg.generic
// CHECK-NOT: tensor.pad
// CHECK: %[[PADDED:.*]] = tensor.insert_slice %[[RELU]] into %[[BORDERS]][0, 0, 1, 1] [2, 3, 4, 5] [1, 1, 1, 1]
// CHECK: %[[INTERIOR:.*]] = tensor.extract_slice %[[PADDED]][0, 0, 1, 1] [2, 3, 4, 5] [1, 1, 1, 1]
// CHECK: return %[[PADDED]], %[[INTERIOR]]
// Elimination then makes the ReLU write into the padded tensor's interior.
// ELIM-LABEL: func.func @relu_pad(
// ELIM: %[[BORDERS:.*]] = tensor.expand_shape %{{.*}} {{\[\[}}0, 1, 2, 3]] output_shape [2, 3, 6, 7]
// ELIM: %[[SLOT:.*]] = tensor.extract_slice %[[BORDERS]][0, 0, 1, 1] [2, 3, 4, 5] [1, 1, 1, 1]
// ELIM: linalg.generic {{.*}} outs(%[[SLOT]] : tensor<2x3x4x5xf32>)
func.func @relu_pad(%x: tensor<2x3x4x5xf32>) -> (tensor<2x3x6x7xf32>, tensor<2x3x4x5xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3x4x5xf32>
  %relu = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x : tensor<2x3x4x5xf32>) outs(%e : tensor<2x3x4x5xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maximumf %in, %zero : f32
    linalg.yield %r : f32
  } -> tensor<2x3x4x5xf32>
  %padded = tensor.pad %relu low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<2x3x4x5xf32> to tensor<2x3x6x7xf32>
  return %padded, %relu : tensor<2x3x6x7xf32>, tensor<2x3x4x5xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// CSE left one tensor.empty for two producers: the padded one gets its own,
// so elimination hands the padded buffer to it alone.
// ELIM-LABEL: func.func @shared_empty(
// ELIM: %[[E:.*]] = tensor.empty() : tensor<4x8xf32>
// ELIM: %[[A:.*]] = linalg.generic {{.*}} outs(%[[E]] : tensor<4x8xf32>)
// ELIM: %[[SLOT:.*]] = tensor.extract_slice %{{.*}}[0, 2] [4, 8] [1, 1] : tensor<4x11xf32> to tensor<4x8xf32>
// ELIM: %[[B:.*]] = linalg.generic {{.*}} outs(%[[SLOT]] : tensor<4x8xf32>)
func.func @shared_empty(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x11xf32>) {
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.addf %in, %one : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %b = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%a : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.mulf %in, %in : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %padded = tensor.pad %b low[0, 2] high[0, 1] {
  ^bb0(%i: index, %j: index):
    tensor.yield %one : f32
  } : tensor<4x8xf32> to tensor<4x11xf32>
  return %a, %padded : tensor<4x8xf32>, tensor<4x11xf32>
}

// -----

// The pad of a reshaped transpose (a convolution's weight gradient reads
// its input so): the padding moves onto the transpose's own shape, whose
// padded dims are groups of their own, and the reshape follows it.
// CHECK-LABEL: func.func @through_collapse(
// CHECK: %[[E:.*]] = tensor.empty() : tensor<3x1x2x6x6xf32>
// CHECK: %[[T:.*]] = linalg.transpose
// CHECK: %[[P:.*]] = tensor.insert_slice %[[T]] into %{{.*}}[0, 0, 0, 1, 1] [3, 1, 2, 4, 4] [1, 1, 1, 1, 1] : tensor<3x1x2x4x4xf32> into tensor<3x1x2x6x6xf32>
// CHECK: %[[C:.*]] = tensor.collapse_shape %[[P]] {{\[\[}}0], [1, 2], [3], [4]] : tensor<3x1x2x6x6xf32> into tensor<3x2x6x6xf32>
// CHECK: return %[[C]]
func.func @through_collapse(%x: tensor<2x1x3x4x4xf32>) -> tensor<3x2x6x6xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x1x2x4x4xf32>
  %t = linalg.transpose ins(%x : tensor<2x1x3x4x4xf32>) outs(%e : tensor<3x1x2x4x4xf32>) permutation = [2, 1, 0, 3, 4]
  %c = tensor.collapse_shape %t [[0], [1, 2], [3], [4]] : tensor<3x1x2x4x4xf32> into tensor<3x2x4x4xf32>
  %padded = tensor.pad %c low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<3x2x4x4xf32> to tensor<3x2x6x6xf32>
  return %padded : tensor<3x2x6x6xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// A strided spread (a transposed convolution's input): the gaps are
// padding too, so the whole fill stays, created before the producer.
// CHECK-LABEL: func.func @strided_spread(
// CHECK: %[[E:.*]] = tensor.empty() : tensor<7x7xf32>
// CHECK: %[[F:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[E]] : tensor<7x7xf32>)
// CHECK: %[[G:.*]] = linalg.generic
// CHECK: tensor.insert_slice %[[G]] into %[[F]][1, 1] [3, 3] [2, 2]
func.func @strided_spread(%x: tensor<3x3xf32>) -> tensor<7x7xf32> {
  %e = tensor.empty() : tensor<3x3xf32>
  %g = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<3x3xf32>) outs(%e : tensor<3x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.negf %in : f32
    linalg.yield %r : f32
  } -> tensor<3x3xf32>
  %zero = arith.constant 0.0 : f32
  %big = tensor.empty() : tensor<7x7xf32>
  %filled = linalg.fill ins(%zero : f32) outs(%big : tensor<7x7xf32>) -> tensor<7x7xf32>
  %spread = tensor.insert_slice %g into %filled[1, 1] [3, 3] [2, 2] : tensor<3x3xf32> into tensor<7x7xf32>
  return %spread : tensor<7x7xf32>
}

// -----

// A function argument has no producer to write into the padded buffer.
// CHECK-LABEL: func.func @argument(
// CHECK: tensor.pad
func.func @argument(%x: tensor<4x4xf32>) -> tensor<6x6xf32> {
  %zero = arith.constant 0.0 : f32
  %padded = tensor.pad %x low[1, 1] high[1, 1] {
  ^bb0(%i: index, %j: index):
    tensor.yield %zero : f32
  } : tensor<4x4xf32> to tensor<6x6xf32>
  return %padded : tensor<6x6xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// Two unit-step spreads into one zero tensor (CSE shares it between the
// input gradients of two convolutions of one shape): each gets its own
// padded tensor with its borders filled, and the shared fill goes.
// CHECK-LABEL: func.func @shared_spread(
// CHECK-NOT: outs(%{{.*}} : tensor<6x6xf32>)
// CHECK: %[[G:.*]] = linalg.generic
// CHECK: tensor.insert_slice %[[G]] into %{{.*}}[1, 1] [4, 4] [1, 1]
// CHECK: %[[H:.*]] = linalg.generic
// CHECK: tensor.insert_slice %[[H]] into %{{.*}}[1, 1] [4, 4] [1, 1]
func.func @shared_spread(%x: tensor<4x4xf32>) -> (tensor<6x6xf32>, tensor<6x6xf32>) {
  %zero = arith.constant 0.0 : f32
  %big = tensor.empty() : tensor<6x6xf32>
  %filled = linalg.fill ins(%zero : f32) outs(%big : tensor<6x6xf32>) -> tensor<6x6xf32>
  %e = tensor.empty() : tensor<4x4xf32>
  %g = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.negf %in : f32
    linalg.yield %r : f32
  } -> tensor<4x4xf32>
  %a = tensor.insert_slice %g into %filled[1, 1] [4, 4] [1, 1] : tensor<4x4xf32> into tensor<6x6xf32>
  %h = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%g : tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.mulf %in, %in : f32
    linalg.yield %r : f32
  } -> tensor<4x4xf32>
  %b = tensor.insert_slice %h into %filled[1, 1] [4, 4] [1, 1] : tensor<4x4xf32> into tensor<6x6xf32>
  return %a, %b : tensor<6x6xf32>, tensor<6x6xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// A reduction reads the source after the pad (a weight gradient reading
// the output gradient that the input gradient pads): it would read the
// padded interior at the padded pitch, so the pad stays as it is.
// CHECK-LABEL: func.func @read_by_reduction(
// CHECK: linalg.generic
// CHECK: tensor.pad
func.func @read_by_reduction(%x: tensor<4x8xf32>) -> (tensor<6x10xf32>, tensor<4xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %g = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.negf %in : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %padded = tensor.pad %g low[1, 1] high[1, 1] {
  ^bb0(%i: index, %j: index):
    tensor.yield %zero : f32
  } : tensor<4x8xf32> to tensor<6x10xf32>
  %acc = tensor.empty() : tensor<4xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]} ins(%g : tensor<4x8xf32>) outs(%acc : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.addf %in, %out : f32
    linalg.yield %r : f32
  } -> tensor<4xf32>
  return %padded, %sum : tensor<6x10xf32>, tensor<4xf32>
}
