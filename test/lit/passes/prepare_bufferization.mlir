// RUN: lathe-opt --lathe-prepare-bufferization --split-input-file %s | FileCheck %s
// RUN: lathe-opt --lathe-prepare-bufferization --lathe-pad-in-place --eliminate-empty-tensors --split-input-file %s | FileCheck %s --check-prefix=ELIM

#id = affine_map<(d0, d1) -> (d0, d1)>

// CSE left one tensor.empty for a tiled loop's destination, its tiles'
// scratch (a slice of it) and another layer's result. Each gets its own
// tensor.empty, so elimination hands the padded buffer's interior to the
// loop alone: no copy out of the padded buffer and back.
// CHECK-LABEL: func.func @tiled_pad(
// CHECK: %[[E:.*]] = tensor.empty() : tensor<4x8xf32>
// CHECK: %[[E2:.*]] = tensor.empty() : tensor<4x8xf32>
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[E]])
// CHECK: %[[S:.*]] = tensor.empty() : tensor<2x8xf32>
// CHECK: linalg.generic {{.*}} outs(%[[S]] : tensor<2x8xf32>)
// CHECK: linalg.generic {{.*}} outs(%[[E2]] : tensor<4x8xf32>)
// ELIM-LABEL: func.func @tiled_pad(
// ELIM: %[[E2:.*]] = tensor.empty() : tensor<4x8xf32>
// ELIM: %[[SLOT:.*]] = tensor.extract_slice %{{.*}}[0, 2] [4, 8] [1, 1] : tensor<4x11xf32> to tensor<4x8xf32>
// ELIM: scf.for {{.*}} iter_args(%[[ACC:.*]] = %[[SLOT]])
// ELIM: %[[TILE:.*]] = tensor.extract_slice %[[ACC]]
// ELIM: linalg.generic {{.*}} outs(%[[TILE]] : tensor<2x8xf32>)
// ELIM: linalg.generic {{.*}} outs(%[[E2]] : tensor<4x8xf32>)
func.func @tiled_pad(%x: tensor<4x8xf32>) -> (tensor<4x11xf32>, tensor<4x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %e = tensor.empty() : tensor<4x8xf32>
  %r = scf.for %i = %c0 to %c4 step %c2 iter_args(%acc = %e) -> (tensor<4x8xf32>) {
    %xs = tensor.extract_slice %x[%i, 0] [2, 8] [1, 1] : tensor<4x8xf32> to tensor<2x8xf32>
    %s = tensor.extract_slice %e[%i, 0] [2, 8] [1, 1] : tensor<4x8xf32> to tensor<2x8xf32>
    %t = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%xs : tensor<2x8xf32>) outs(%s : tensor<2x8xf32>) {
    ^bb0(%in: f32, %out: f32):
      %m = arith.maximumf %in, %zero : f32
      linalg.yield %m : f32
    } -> tensor<2x8xf32>
    %u = tensor.insert_slice %t into %acc[%i, 0] [2, 8] [1, 1] : tensor<2x8xf32> into tensor<4x8xf32>
    scf.yield %u : tensor<4x8xf32>
  }
  %n = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.negf %in : f32
    linalg.yield %m : f32
  } -> tensor<4x8xf32>
  %p = tensor.pad %r low[0, 2] high[0, 1] {
  ^bb0(%i: index, %j: index):
    tensor.yield %zero : f32
  } : tensor<4x8xf32> to tensor<4x11xf32>
  return %p, %n : tensor<4x11xf32>, tensor<4x8xf32>
}
