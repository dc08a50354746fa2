// RUN: lathe-opt --lathe-lower-to-linalg %s | FileCheck %s

// CHECK-DAG: #[[REV:.*]] = affine_map<(d0, d1) -> (-d0 + 19, d1 * -2 + 9)>
// CHECK-DAG: #[[ID2:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[BCAST:.*]] = affine_map<(d0, d1, d2) -> (d1, 0)>
// CHECK-DAG: #[[TILE:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, d3)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[IDX:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>

// Positive strides are a strided view.
// CHECK-LABEL: func.func @slice
// CHECK: tensor.extract_slice %arg0[1, 0] [3, 5] [1, 2] : tensor<20x10xf32> to tensor<3x5xf32>
func.func @slice(%x: tensor<20x10xf32>) -> tensor<3x5xf32> {
  %0 = lathe.slice %x {offsets = array<i64: 1, 0>, sizes = array<i64: 3, 5>, strides = array<i64: 1, 2>} : (tensor<20x10xf32>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// Negative strides read through a decreasing affine map.
// CHECK-LABEL: func.func @slice_negative
// CHECK: linalg.generic {indexing_maps = [#[[REV]], #[[ID2]]]
func.func @slice_negative(%x: tensor<20x10xf32>) -> tensor<20x4xf32> {
  %0 = lathe.slice %x {offsets = array<i64: 19, 9>, sizes = array<i64: 20, 4>, strides = array<i64: -1, -2>} : (tensor<20x10xf32>) -> tensor<20x4xf32>
  return %0 : tensor<20x4xf32>
}

// A slice with no elements computes nothing.
// CHECK-LABEL: func.func @slice_empty
// CHECK-NEXT: tensor.empty() : tensor<20x0xf32>
func.func @slice_empty(%x: tensor<20x10xf32>) -> tensor<20x0xf32> {
  %0 = lathe.slice %x {offsets = array<i64: 0, 0>, sizes = array<i64: 20, 0>, strides = array<i64: 1, 1>} : (tensor<20x10xf32>) -> tensor<20x0xf32>
  return %0 : tensor<20x0xf32>
}

// CHECK-LABEL: func.func @expand
// CHECK: linalg.generic {indexing_maps = [#[[BCAST]], #{{.*}}]
func.func @expand(%x: tensor<3x1xf32>) -> tensor<2x3x6xf32> {
  %0 = lathe.expand %x {shape = array<i64: 2, 1, 6>} : (tensor<3x1xf32>) -> tensor<2x3x6xf32>
  return %0 : tensor<2x3x6xf32>
}

// Tile broadcasts to [r0, d0, r1, d1] and collapses the pairs.
// CHECK-LABEL: func.func @tile
// CHECK: linalg.generic {indexing_maps = [#[[TILE]], #{{.*}}]{{.*}} outs(%{{.*}} : tensor<2x2x3x3xi32>)
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2, 3]] : tensor<2x2x3x3xi32> into tensor<4x9xi32>
func.func @tile(%x: tensor<2x3xi32>) -> tensor<4x9xi32> {
  %0 = lathe.tile %x {repeats = array<i64: 2, 3>} : (tensor<2x3xi32>) -> tensor<4x9xi32>
  return %0 : tensor<4x9xi32>
}

// Negative pads crop before tensor.pad.
// CHECK-LABEL: func.func @pad_constant
// CHECK: %[[CROP:.*]] = tensor.extract_slice %arg0[0, 0] [3, 3] [1, 1]
// CHECK: %[[V:.*]] = tensor.extract %arg1[]
// CHECK: tensor.pad %[[CROP]] low[1, 0] high[1, 0]
// CHECK: tensor.yield %[[V]]
func.func @pad_constant(%x: tensor<3x4xf32>, %v: tensor<f32>) -> tensor<5x3xf32> {
  %0 = lathe.pad %x, %v {pads = array<i64: 1, 0, 1, -1>, mode = "constant"} : (tensor<3x4xf32>, tensor<f32>) -> tensor<5x3xf32>
  return %0 : tensor<5x3xf32>
}

// Reflect folds |i - lo| with period 2(n-1).
// CHECK-LABEL: func.func @pad_reflect
// CHECK: arith.remsi
// CHECK: arith.select
// CHECK: tensor.extract %arg0[%{{.*}}, %{{.*}}] : tensor<3x4xf32>
func.func @pad_reflect(%x: tensor<3x4xf32>) -> tensor<5x6xf32> {
  %0 = lathe.pad %x {pads = array<i64: 1, 1, 1, 1>, mode = "reflect"} : (tensor<3x4xf32>) -> tensor<5x6xf32>
  return %0 : tensor<5x6xf32>
}

// CHECK-LABEL: func.func @pad_edge
// CHECK: arith.maxsi
// CHECK: arith.minsi
func.func @pad_edge(%x: tensor<3x4xf32>) -> tensor<5x6xf32> {
  %0 = lathe.pad %x {pads = array<i64: 1, 1, 1, 1>, mode = "edge"} : (tensor<3x4xf32>) -> tensor<5x6xf32>
  return %0 : tensor<5x6xf32>
}

// A run-time k is read once, outside the loop.
// CHECK-LABEL: func.func @trilu
// CHECK: %[[K:.*]] = tensor.extract %arg1[] : tensor<i64>
// CHECK: linalg.generic
// CHECK: arith.cmpi sge, %{{.*}}, %[[K]] : i64
func.func @trilu(%x: tensor<4x5xi64>, %k: tensor<i64>) -> tensor<4x5xi64> {
  %0 = lathe.trilu %x, %k {upper = true, k = 0} : (tensor<4x5xi64>, tensor<i64>) -> tensor<4x5xi64>
  return %0 : tensor<4x5xi64>
}

// CHECK-LABEL: func.func @one_hot
// CHECK: linalg.generic {indexing_maps = [#[[ROW]], #[[ID2]]]
// CHECK: arith.cmpi slt
// CHECK: arith.cmpi eq
func.func @one_hot(%i: tensor<3xi64>, %v: tensor<2xf32>) -> tensor<3x10xf32> {
  %0 = lathe.one_hot %i, %v {depth = 10, axis = -1} : (tensor<3xi64>, tensor<2xf32>) -> tensor<3x10xf32>
  return %0 : tensor<3x10xf32>
}

// CHECK-LABEL: func.func @reverse_sequence
// CHECK: linalg.generic {indexing_maps = [#[[ROW]], #[[ID2]]]
// CHECK: tensor.extract %arg0
func.func @reverse_sequence(%x: tensor<4x5xf32>, %l: tensor<4xi64>) -> tensor<4x5xf32> {
  %0 = lathe.reverse_sequence %x, %l {batch_axis = 0, time_axis = 1} : (tensor<4x5xf32>, tensor<4xi64>) -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// Gather reads the indices through the map and the data with tensor.extract;
// negative indices are moved up by the dim.
// CHECK-LABEL: func.func @gather
// CHECK: linalg.generic {indexing_maps = [#[[IDX]], #{{.*}}]
// CHECK: arith.cmpi slt
// CHECK: arith.constant 4 : index
// CHECK: tensor.extract %arg0[%{{.*}}, %{{.*}}] : tensor<5x4xf32>
func.func @gather(%x: tensor<5x4xf32>, %i: tensor<2x3xi64>) -> tensor<5x2x3xf32> {
  %0 = lathe.gather %x, %i {axis = 1} : (tensor<5x4xf32>, tensor<2x3xi64>) -> tensor<5x2x3xf32>
  return %0 : tensor<5x2x3xf32>
}

// CHECK-LABEL: func.func @gather_elements
// CHECK: arith.index_cast %{{.*}} : i32 to index
// CHECK: tensor.extract %arg0
func.func @gather_elements(%x: tensor<3x3xf32>, %i: tensor<2x3xi32>) -> tensor<2x3xf32> {
  %0 = lathe.gather_elements %x, %i {axis = 0} : (tensor<3x3xf32>, tensor<2x3xi32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @gather_nd
// CHECK: tensor.extract %arg1[%{{.*}}, %{{.*}}] : tensor<2x1xi64>
// CHECK: tensor.extract %arg0[%{{.*}}, %{{.*}}, %{{.*}}] : tensor<2x2x2xi32>
func.func @gather_nd(%x: tensor<2x2x2xi32>, %i: tensor<2x1xi64>) -> tensor<2x2xi32> {
  %0 = lathe.gather_nd %x, %i {batch_dims = 1} : (tensor<2x2x2xi32>, tensor<2x1xi64>) -> tensor<2x2xi32>
  return %0 : tensor<2x2xi32>
}

// Scatters run in order over the updates (duplicates combine).
// CHECK-LABEL: func.func @scatter_elements
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %arg0)
// CHECK: scf.for
// CHECK: arith.addf
// CHECK: tensor.insert
func.func @scatter_elements(%x: tensor<1x5xf32>, %i: tensor<1x2xi64>, %u: tensor<1x2xf32>) -> tensor<1x5xf32> {
  %0 = lathe.scatter_elements %x, %i, %u {axis = 1, reduction = "add"} : (tensor<1x5xf32>, tensor<1x2xi64>, tensor<1x2xf32>) -> tensor<1x5xf32>
  return %0 : tensor<1x5xf32>
}

// CHECK-LABEL: func.func @scatter_nd
// CHECK-COUNT-3: scf.for
// CHECK-NOT: arith.addf
// CHECK: tensor.insert %{{.*}} into %{{.*}} : tensor<4x4x4xf32>
func.func @scatter_nd(%x: tensor<4x4x4xf32>, %i: tensor<2x1xi64>, %u: tensor<2x4x4xf32>) -> tensor<4x4x4xf32> {
  %0 = lathe.scatter_nd %x, %i, %u {reduction = "none"} : (tensor<4x4x4xf32>, tensor<2x1xi64>, tensor<2x4x4xf32>) -> tensor<4x4x4xf32>
  return %0 : tensor<4x4x4xf32>
}
