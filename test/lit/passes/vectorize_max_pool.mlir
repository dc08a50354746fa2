// RUN: lathe-opt --lathe-vectorize-max-pool="vector-bits=256" --split-input-file %s | FileCheck %s

// The generic lathe-lower-to-linalg makes of a 2x2 lathe.max_pool_grad on
// [1, 2, 4, 16] (8 windows per row pair: one step of 8 lanes). Its body is
// not read: the attribute says what it computes.
#w00 = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, 0, d4, 0)>
#w01 = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, 0, d4, 1)>
#w10 = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, 1, d4, 0)>
#w11 = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, 1, d4, 1)>
#g = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d4)>
#id = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>
// CHECK-LABEL: func.func @grad_2x2(
// CHECK-SAME: %[[X:.*]]: memref<1x2x2x2x8x2xf32>, %[[G:.*]]: memref<1x2x2x8xf32>, %[[OUT:.*]]: memref<1x2x2x2x8x2xf32>)
// CHECK-NOT: linalg.generic
// CHECK-DAG: %[[XR:.*]] = memref.collapse_shape %[[X]] {{\[\[}}0], [1], [2], [3], [4, 5]] : memref<1x2x2x2x8x2xf32> into memref<1x2x2x2x16xf32>
// CHECK-DAG: %[[OR:.*]] = memref.collapse_shape %[[OUT]] {{\[\[}}0], [1], [2], [3], [4, 5]]
// CHECK: scf.for %[[N:.*]] =
// CHECK: scf.for %[[C:.*]] =
// CHECK: scf.for %[[O:.*]] =
// CHECK: scf.for %[[J:.*]] = %{{.*}} to %c8{{.*}} step %c8
// CHECK: %[[COL:.*]] = arith.muli %[[J]], %c2
// CHECK: %[[R0:.*]] = vector.load %[[XR]][%[[N]], %[[C]], %[[O]], %c0{{.*}}, %[[COL]]] : memref<1x2x2x2x16xf32>, vector<16xf32>
// CHECK: vector.shuffle %[[R0]], %[[R0]] [0, 2, 4, 6, 8, 10, 12, 14]
// CHECK: vector.shuffle %[[R0]], %[[R0]] [1, 3, 5, 7, 9, 11, 13, 15]
// CHECK: vector.load %[[XR]][%[[N]], %[[C]], %[[O]], %c1{{.*}}, %[[COL]]]
// CHECK-COUNT-3: arith.cmpf ogt
// CHECK: %[[GV:.*]] = vector.load %[[G]][%[[N]], %[[C]], %[[O]], %[[J]]] : memref<1x2x2x8xf32>, vector<8xf32>
// CHECK-COUNT-4: arith.cmpi eq
// CHECK: %[[ROW0:.*]] = vector.shuffle %{{.*}}, %{{.*}} [0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15]
// CHECK: vector.store %[[ROW0]], %[[OR]][%[[N]], %[[C]], %[[O]], %c0{{.*}}, %[[COL]]]
// CHECK: vector.store %{{.*}}, %[[OR]][%[[N]], %[[C]], %[[O]], %c1{{.*}}, %[[COL]]]
func.func @grad_2x2(%x: memref<1x2x2x2x8x2xf32>, %g: memref<1x2x2x8xf32>, %out: memref<1x2x2x2x8x2xf32>) {
  linalg.generic {indexing_maps = [#w00, #w01, #w10, #w11, #g, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %x, %x, %x, %g : memref<1x2x2x2x8x2xf32>, memref<1x2x2x2x8x2xf32>, memref<1x2x2x2x8x2xf32>, memref<1x2x2x2x8x2xf32>, memref<1x2x2x8xf32>) outs(%out : memref<1x2x2x2x8x2xf32>) attrs = {lathe.max_pool_grad = array<i64: 2, 2>} {
  ^bb0(%a: f32, %b: f32, %c: f32, %d: f32, %e: f32, %o: f32):
    linalg.yield %e : f32
  }
  return
}

// -----

// 6 windows per row pair: steps of 4 do not divide it (a step of 2 would
// waste the vector), so the generic stays.
#w00 = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, 0, d4, 0)>
#g = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d4)>
#id = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>
// CHECK-LABEL: func.func @grad_kept(
// CHECK: linalg.generic
// CHECK-NOT: vector.
func.func @grad_kept(%x: memref<1x1x1x2x6x2xf32>, %g: memref<1x1x1x6xf32>, %out: memref<1x1x1x2x6x2xf32>) {
  linalg.generic {indexing_maps = [#w00, #w00, #w00, #w00, #g, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %x, %x, %x, %g : memref<1x1x1x2x6x2xf32>, memref<1x1x1x2x6x2xf32>, memref<1x1x1x2x6x2xf32>, memref<1x1x1x2x6x2xf32>, memref<1x1x1x6xf32>) outs(%out : memref<1x1x1x2x6x2xf32>) attrs = {lathe.max_pool_grad = array<i64: 2, 2>} {
  ^bb0(%a: f32, %b: f32, %c: f32, %d: f32, %e: f32, %o: f32):
    linalg.yield %e : f32
  }
  return
}

// -----

// The pool: 2x2 windows at stride 2 of [1, 2, 4, 16] into [1, 2, 2, 8]. The
// output's initial value (-inf, filled before) is combined first, then the
// window positions in the generic's order.
#x = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d4, d3 * 2 + d5)>
#win = affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d5)>
#y = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @pool_2x2(
// CHECK-SAME: %[[X:.*]]: memref<1x2x4x16xf32>, %[[W:.*]]: memref<2x2xf32>, %[[Y:.*]]: memref<1x2x2x8xf32>)
// CHECK-NOT: linalg.generic
// CHECK: scf.for %[[J:.*]] = %{{.*}} to %c8{{.*}} step %c8
// CHECK: %[[ACC:.*]] = vector.load %[[Y]][%{{.*}}, %{{.*}}, %{{.*}}, %[[J]]] : memref<1x2x2x8xf32>, vector<8xf32>
// CHECK: %[[R0:.*]] = vector.load %[[X]][{{.*}}] : memref<1x2x4x16xf32>, vector<16xf32>
// CHECK: %[[E0:.*]] = vector.shuffle %[[R0]], %[[R0]] [0, 2, 4, 6, 8, 10, 12, 14]
// CHECK: %[[O0:.*]] = vector.shuffle %[[R0]], %[[R0]] [1, 3, 5, 7, 9, 11, 13, 15]
// CHECK: %[[M0:.*]] = arith.maximumf %[[ACC]], %[[E0]] : vector<8xf32>
// CHECK: arith.maximumf %[[M0]], %[[O0]] : vector<8xf32>
// CHECK-COUNT-2: arith.maximumf
// CHECK: vector.store %{{.*}}, %[[Y]]
func.func @pool_2x2(%x: memref<1x2x4x16xf32>, %w: memref<2x2xf32>, %y: memref<1x2x2x8xf32>) {
  linalg.generic {indexing_maps = [#x, #win, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<1x2x4x16xf32>, memref<2x2xf32>) outs(%y : memref<1x2x2x8xf32>) attrs = {lathe.max_pool_2x2} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.maximumf %acc, %a : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// 5 windows per row (LeNet's 10 -> 5): no whole step of 8, one masked step
// reading the 10 inputs of each row.
#x = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d4, d3 * 2 + d5)>
#win = affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d5)>
#y = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @pool_masked(
// CHECK-SAME: %[[X:.*]]: memref<1x2x10x10xf32>, %[[W:.*]]: memref<2x2xf32>, %[[Y:.*]]: memref<1x2x5x5xf32>)
// CHECK-NOT: linalg.generic
// CHECK: %[[MASK:.*]] = vector.create_mask %c5{{.*}} : vector<8xi1>
// CHECK: %[[WIDE:.*]] = vector.create_mask %{{.*}} : vector<16xi1>
// CHECK: vector.maskedload %[[Y]][{{.*}}], %[[MASK]]
// CHECK: vector.maskedload %[[X]][{{.*}}], %[[WIDE]]
// CHECK: vector.maskedload %[[X]][{{.*}}], %[[WIDE]]
// CHECK: vector.maskedstore %[[Y]][{{.*}}], %[[MASK]]
func.func @pool_masked(%x: memref<1x2x10x10xf32>, %w: memref<2x2xf32>, %y: memref<1x2x5x5xf32>) {
  linalg.generic {indexing_maps = [#x, #win, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<1x2x10x10xf32>, memref<2x2xf32>) outs(%y : memref<1x2x5x5xf32>) attrs = {lathe.max_pool_2x2} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.maximumf %acc, %a : f32
    linalg.yield %m : f32
  }
  return
}
