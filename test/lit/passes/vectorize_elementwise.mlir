// RUN: lathe-opt --lathe-vectorize-elementwise="vector-bits=256" --split-input-file %s | FileCheck %s

// BatchNorm's normalisation, (x - mean) * factor + bias over [2, 3, 16]
// with per-channel mean, factor and bias: x loaded 8 lanes at a time, the
// per-channel values loaded once per step and broadcast, one vector store.
#x = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#c = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-LABEL: func.func @normalise(
// CHECK-SAME: %[[X:.*]]: memref<2x3x16xf32>, %[[M:.*]]: memref<3xf32>, %[[F:.*]]: memref<3xf32>, %[[B:.*]]: memref<3xf32>, %[[Y:.*]]: memref<2x3x16xf32>)
// CHECK-NOT: linalg.generic
// CHECK: scf.for %[[N:.*]] = %{{.*}} to %c2{{.*}} step %c1
// CHECK: scf.for %[[C:.*]] = %{{.*}} to %c3{{.*}} step %c1
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %c16{{.*}} step %c8
// CHECK: %[[XV:.*]] = vector.load %[[X]][%[[N]], %[[C]], %[[K]]] : memref<2x3x16xf32>, vector<8xf32>
// CHECK: %[[MS:.*]] = memref.load %[[M]][%[[C]]]
// CHECK: vector.splat %[[MS]] : vector<8xf32>
// CHECK: arith.subf %[[XV]], %{{.*}} : vector<8xf32>
// CHECK: arith.mulf {{.*}} : vector<8xf32>
// CHECK: %[[R:.*]] = arith.addf {{.*}} : vector<8xf32>
// CHECK: vector.store %[[R]], %[[Y]][%[[N]], %[[C]], %[[K]]] : memref<2x3x16xf32>, vector<8xf32>
// CHECK-NOT: vector.maskedstore
func.func @normalise(%x: memref<2x3x16xf32>, %m: memref<3xf32>, %f: memref<3xf32>, %b: memref<3xf32>, %y: memref<2x3x16xf32>) {
  linalg.generic {indexing_maps = [#x, #c, #c, #c, #x], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %m, %f, %b : memref<2x3x16xf32>, memref<3xf32>, memref<3xf32>, memref<3xf32>) outs(%y : memref<2x3x16xf32>) {
  ^bb0(%a: f32, %mean: f32, %factor: f32, %bias: f32, %o: f32):
    %d = arith.subf %a, %mean : f32
    %s = arith.mulf %d, %factor : f32
    %r = arith.addf %s, %bias : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A per-channel operand kept with size-1 dims ([1, 3, 1], read through
// constant 0 indices, as BatchNorm's backward graph keeps its statistics).
// CHECK-LABEL: func.func @keepdims_scale(
// CHECK: scf.for %[[C:.*]] = %{{.*}} to %c3
// CHECK: memref.load %arg1[%c0{{.*}}, %[[C]], %c0{{.*}}] : memref<1x3x1xf32>
// CHECK: arith.mulf {{.*}} : vector<8xf32>
func.func @keepdims_scale(%x: memref<2x3x16xf32>, %s: memref<1x3x1xf32>, %y: memref<2x3x16xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (0, d1, 0)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %s : memref<2x3x16xf32>, memref<1x3x1xf32>) outs(%y : memref<2x3x16xf32>) {
  ^bb0(%a: f32, %scale: f32, %o: f32):
    %r = arith.mulf %a, %scale : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A row of 12: one whole vector, then a masked load and store of 4; a
// constant in the body is broadcast.
// CHECK-LABEL: func.func @relu_tail(
// CHECK: scf.for %{{.*}} = %{{.*}} to %c8{{.*}} step %c8
// CHECK: arith.maximumf %{{.*}} : vector<8xf32>
// CHECK: vector.store
// CHECK: %[[MASK:.*]] = vector.create_mask %c4{{.*}} : vector<8xi1>
// CHECK: vector.maskedload %arg0[%{{.*}}, %c8{{.*}}], %[[MASK]]
// CHECK: vector.maskedstore %arg1[%{{.*}}, %c8{{.*}}], %[[MASK]]
func.func @relu_tail(%x: memref<5x12xf32>, %y: memref<5x12xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<5x12xf32>) outs(%y : memref<5x12xf32>) {
  ^bb0(%a: f32, %o: f32):
    %zero = arith.constant 0.0 : f32
    %r = arith.maximumf %a, %zero : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Left alone: an output the body reads (an accumulation), an input read
// across the innermost loop (a transpose), and rows shorter than a vector.
// CHECK-LABEL: func.func @untouched(
// CHECK-COUNT-3: linalg.generic
// CHECK-NOT: vector.
func.func @untouched(%x: memref<4x16xf32>, %y: memref<4x16xf32>, %t: memref<16x4xf32>, %s: memref<4x5xf32>, %z: memref<4x5xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<4x16xf32>) outs(%y : memref<4x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %a, %o : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%t : memref<16x4xf32>) outs(%y : memref<4x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%s : memref<4x5xf32>) outs(%z : memref<4x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A strided convolution's input split into its 2 phases (lathe-lower-to-
// linalg), out[c, p, j] = in[c, j * 2 + p] over rows of 2 x 9: one 16-lane
// load of the row gives 8 lanes of each phase (the even and the odd lanes,
// shuffled apart); the ninth column is copied element by element.
#in = affine_map<(d0, d1, d2) -> (d0, d2 * 2 + d1)>
#out = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @phases(
// CHECK-SAME: %[[X:.*]]: memref<3x18xf32>, %[[Y:.*]]: memref<3x2x9xf32>)
// CHECK-NOT: linalg.generic
// CHECK: scf.for %[[C:.*]] = %{{.*}} to %c3{{.*}} step %c1
// CHECK: scf.for %[[J:.*]] = %{{.*}} to %c8{{.*}} step %c8
// CHECK: %[[POS:.*]] = arith.muli %[[J]], %c2
// CHECK: %[[ROW:.*]] = vector.load %[[X]][%[[C]], %[[POS]]] : memref<3x18xf32>, vector<16xf32>
// CHECK: %[[EVEN:.*]] = vector.shuffle %[[ROW]], %[[ROW]] [0, 2, 4, 6, 8, 10, 12, 14]
// CHECK: vector.store %[[EVEN]], %[[Y]][%[[C]], %{{.*}}, %[[J]]]
// CHECK: %[[ODD:.*]] = vector.shuffle %[[ROW]], %[[ROW]] [1, 3, 5, 7, 9, 11, 13, 15]
// CHECK: vector.store %[[ODD]], %[[Y]][%[[C]], %{{.*}}, %[[J]]]
// CHECK: scf.for %{{.*}} = %c8{{.*}} to %c9{{.*}} step %c1
// CHECK: scf.for
// CHECK: memref.load %[[X]]
// CHECK: memref.store {{.*}}, %[[Y]]
func.func @phases(%x: memref<3x18xf32>, %y: memref<3x2x9xf32>) {
  linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : memref<3x18xf32>) outs(%y : memref<3x2x9xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  }
  return
}
