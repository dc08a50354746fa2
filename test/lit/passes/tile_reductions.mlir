// RUN: lathe-opt --lathe-tile-reductions="vector-bits=256" --split-input-file %s | FileCheck %s

// A convolution's bias gradient: the sum over N, H, W of [2, 3, 4, 20] into
// [3]. The parallel dim (C) goes outermost; per channel three accumulators
// (20 elements fill three vectors) through the N and H loops; a row is
// shorter than one unrolled step (24), so it is two whole vectors and one
// masked to 4 with the identity 0 as the passthrough; then one lane
// reduction and one add into C.
#in = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#out = affine_map<(d0, d1, d2, d3) -> (d1)>
// CHECK-LABEL: func.func @bias_grad(
// CHECK-SAME: %[[X:.*]]: memref<2x3x4x20xf32>, %[[Y:.*]]: memref<3xf32>)
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: scf.for %[[C:.*]] = %{{.*}} to %c3{{.*}} step %c1
// CHECK: %[[SPLAT:.*]] = vector.splat %[[ZERO]] : vector<8xf32>
// CHECK: scf.for %[[N:.*]] = %{{.*}} to %c2{{.*}} step %c1{{.*}} iter_args(%[[A0:.*]] = %[[SPLAT]], %[[A1:.*]] = %[[SPLAT]], %[[A2:.*]] = %[[SPLAT]])
// CHECK: scf.for %[[H:.*]] = %{{.*}} to %c4{{.*}} step %c1
// CHECK: vector.load %[[X]][%[[N]], %[[C]], %[[H]], %{{.*}}] : memref<2x3x4x20xf32>, vector<8xf32>
// CHECK: arith.addf %[[A0_IN:.*]], %{{.*}} : vector<8xf32>
// CHECK: vector.load %[[X]]
// CHECK: vector.create_mask %c4
// CHECK: vector.maskedload %[[X]]
// CHECK: vector.reduction <add>
// CHECK: %[[OLD:.*]] = memref.load %[[Y]][%[[C]]]
// CHECK: %[[NEW:.*]] = arith.addf %[[OLD]]
// CHECK: memref.store %[[NEW]], %[[Y]][%[[C]]]
func.func @bias_grad(%x: memref<2x3x4x20xf32>, %y: memref<3xf32>) {
  linalg.generic {indexing_maps = [#in, #out], iterator_types = ["reduction", "parallel", "reduction", "reduction"]}
      ins(%x : memref<2x3x4x20xf32>) outs(%y : memref<3xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %a, %acc : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A row max (softmax's first pass), out op in: the identity is -inf, four
// accumulators over steps of 32, the lanes combined with maximumf (NaN
// propagates as in the scalar op).
#in2 = affine_map<(d0, d1) -> (d0, d1)>
#out2 = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @row_max(
// CHECK: arith.constant 0xFF800000 : f32
// CHECK: scf.for
// CHECK: scf.for %{{.*}} = %{{.*}} to %c64{{.*}} step %c32{{.*}} iter_args(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}})
// CHECK: arith.maximumf %{{.*}} : vector<8xf32>
// CHECK: vector.reduction <maximumf>
// CHECK: arith.maximumf %{{.*}} : f32
func.func @row_max(%x: memref<5x64xf32>, %y: memref<5xf32>) {
  linalg.generic {indexing_maps = [#in2, #out2], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<5x64xf32>) outs(%y : memref<5xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.maximumf %acc, %a : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// BatchNorm's variance: sum((x - mean)^2) per channel, the mean read once
// per step and broadcast, the body's ops applied to vectors.
// CHECK-LABEL: func.func @variance(
// CHECK-SAME: %[[X:.*]]: memref<2x3x16xf32>, %[[M:.*]]: memref<3xf32>, %[[V:.*]]: memref<3xf32>)
// CHECK: scf.for %[[C:.*]] = %{{.*}} to %c3
// CHECK: scf.for %[[N:.*]] = {{.*}} iter_args(
// CHECK: %[[XV:.*]] = vector.load %[[X]][%[[N]], %[[C]], %{{.*}}] : memref<2x3x16xf32>, vector<8xf32>
// CHECK: %[[MS:.*]] = memref.load %[[M]][%[[C]]]
// CHECK: %[[MV:.*]] = vector.splat %[[MS]] : vector<8xf32>
// CHECK: %[[D:.*]] = arith.subf %[[XV]], %[[MV]] : vector<8xf32>
// CHECK: %[[SQ:.*]] = arith.mulf %[[D]], %[[D]] : vector<8xf32>
// CHECK: arith.addf %{{.*}}, %[[SQ]] : vector<8xf32>
// CHECK: vector.reduction <add>
func.func @variance(%x: memref<2x3x16xf32>, %m: memref<3xf32>, %v: memref<3xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d1)>, affine_map<(d0, d1, d2) -> (d1)>], iterator_types = ["reduction", "parallel", "reduction"]}
      ins(%x, %m : memref<2x3x16xf32>, memref<3xf32>) outs(%v : memref<3xf32>) {
  ^bb0(%a: f32, %mean: f32, %acc: f32):
    %d = arith.subf %a, %mean : f32
    %sq = arith.mulf %d, %d : f32
    %r = arith.addf %acc, %sq : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A masked tail with a term that is not 0 at a 0 input (exp): the lanes
// past the end keep the accumulator through a select.
// CHECK-LABEL: func.func @sum_exp(
// CHECK: %[[MASK:.*]] = vector.create_mask %c4{{.*}} : vector<8xi1>
// CHECK: vector.maskedload
// CHECK: %[[E:.*]] = math.exp %{{.*}} : vector<8xf32>
// CHECK: %[[S:.*]] = arith.addf %[[ACC:.*]], %[[E]] : vector<8xf32>
// CHECK: arith.select %[[MASK]], %[[S]], %[[ACC]] : vector<8xi1>, vector<8xf32>
func.func @sum_exp(%x: memref<2x12xf32>, %y: memref<2xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<2x12xf32>) outs(%y : memref<2xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %e = math.exp %a : f32
    %r = arith.addf %e, %acc : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Left alone: a reduction along a parallel last dim (column sums), an
// input read across the innermost loop (a transposed operand), and a row
// of 5 (less than a vector).
// CHECK-LABEL: func.func @untouched(
// CHECK-COUNT-3: linalg.generic
// CHECK-NOT: vector.
func.func @untouched(%x: memref<5x64xf32>, %c: memref<64xf32>, %xt: memref<64x5xf32>, %s: memref<5xf32>, %z: memref<4x5xf32>, %t: memref<4xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>], iterator_types = ["reduction", "parallel"]}
      ins(%x : memref<5x64xf32>) outs(%c : memref<64xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%xt : memref<64x5xf32>) outs(%s : memref<5xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%z : memref<4x5xf32>) outs(%t : memref<4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  }
  return
}
