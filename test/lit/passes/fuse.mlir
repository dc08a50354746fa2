// RUN: lathe-opt --lathe-fuse --split-input-file %s | FileCheck %s

// A bias add, a residual add and an activation that only read a Conv's
// result join it as its epilogue; the op after a second reader does not.
// CHECK-LABEL: func.func @epilogue
// CHECK: lathe.conv {{.*}}lathe.fusion_group = 0 : i64, lathe.fusion_kind = "epilogue"
// CHECK: lathe.add {{.*}}{lathe.fusion_group = 0 : i64, lathe.fusion_kind = "epilogue"}
// CHECK: lathe.add {{.*}}{lathe.fusion_group = 0 : i64, lathe.fusion_kind = "epilogue"}
// CHECK: lathe.relu {{.*}}{lathe.fusion_group = 0 : i64, lathe.fusion_kind = "epilogue"}
// CHECK: lathe.sigmoid
// CHECK-NOT: fusion_group
// CHECK: return
func.func @epilogue(%x: tensor<1x2x4x4xf32>, %w: tensor<3x2x3x3xf32>, %b: tensor<3x1x1xf32>, %skip: tensor<1x3x4x4xf32>) -> (tensor<1x3x4x4xf32>, tensor<1x3x4x4xf32>) {
  %0 = lathe.conv %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, group = 1} : (tensor<1x2x4x4xf32>, tensor<3x2x3x3xf32>) -> tensor<1x3x4x4xf32>
  %1 = lathe.add %0, %b : (tensor<1x3x4x4xf32>, tensor<3x1x1xf32>) -> tensor<1x3x4x4xf32>
  %2 = lathe.add %1, %skip : (tensor<1x3x4x4xf32>, tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  %3 = lathe.relu %2 : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  %4 = lathe.sigmoid %3 : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  return %3, %4 : tensor<1x3x4x4xf32>, tensor<1x3x4x4xf32>
}

// -----

// A Gemm with nothing after it is a kernel of its own; an add that
// broadcasts the Gemm's result to a larger shape is not an epilogue.
// CHECK-LABEL: func.func @no_epilogue
// CHECK-NOT: fusion_group
// CHECK: return
func.func @no_epilogue(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>, %c: tensor<5x2x4xf32>) -> tensor<5x2x4xf32> {
  %0 = lathe.gemm %a, %b {transB = true} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  %1 = lathe.add %0, %c : (tensor<2x4xf32>, tensor<5x2x4xf32>) -> tensor<5x2x4xf32>
  return %1 : tensor<5x2x4xf32>
}

// -----

// Elementwise chains: producers with one reader join it; the readers of a
// value read twice start a new group; a lone op stays outside any group.
// CHECK-LABEL: func.func @chains
// CHECK: %[[E:.*]] = lathe.exp %arg0 {lathe.fusion_group = 0 : i64, lathe.fusion_kind = "elementwise"}
// CHECK: %[[N:.*]] = lathe.neg %[[E]] {lathe.fusion_group = 0 : i64, lathe.fusion_kind = "elementwise"}
// CHECK: %[[T:.*]] = lathe.tanh %[[N]] {lathe.fusion_group = 0 : i64, lathe.fusion_kind = "elementwise"}
// CHECK: %[[A:.*]] = lathe.abs %[[T]] {lathe.fusion_group = 1 : i64, lathe.fusion_kind = "elementwise"}
// CHECK: lathe.mul %[[A]], %[[T]] {lathe.fusion_group = 1 : i64, lathe.fusion_kind = "elementwise"}
// CHECK: lathe.sqrt %arg0 :
func.func @chains(%x: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %0 = lathe.exp %x : (tensor<8xf32>) -> tensor<8xf32>
  %1 = lathe.neg %0 : (tensor<8xf32>) -> tensor<8xf32>
  %2 = lathe.tanh %1 : (tensor<8xf32>) -> tensor<8xf32>
  %3 = lathe.abs %2 : (tensor<8xf32>) -> tensor<8xf32>
  %4 = lathe.mul %3, %2 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %5 = lathe.sqrt %x : (tensor<8xf32>) -> tensor<8xf32>
  return %4, %5 : tensor<8xf32>, tensor<8xf32>
}

// -----

// The scaling in front of a Softmax is computed inside its passes.
// CHECK-LABEL: func.func @softmax
// CHECK: lathe.div {{.*}}{lathe.fusion_group = 0 : i64, lathe.fusion_kind = "softmax"}
// CHECK: lathe.softmax {{.*}}lathe.fusion_group = 0 : i64, lathe.fusion_kind = "softmax"
func.func @softmax(%x: tensor<2x8xf32>, %t: tensor<f32>) -> tensor<2x8xf32> {
  %0 = lathe.div %x, %t : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %1 = lathe.softmax %0 {axis = 1 : i64} : (tensor<2x8xf32>) -> tensor<2x8xf32>
  return %1 : tensor<2x8xf32>
}

// -----

// A side input computed elementwise for the epilogue alone (an optimizer's
// momentum * velocity next to a weight gradient) joins the group; one that
// has another reader does not.
// CHECK-LABEL: func.func @epilogue_side_input
// CHECK: lathe.gemm {{.*}}lathe.fusion_group = 0 : i64, lathe.fusion_kind = "epilogue"
// CHECK: lathe.mul {{.*}}{lathe.fusion_group = 0 : i64, lathe.fusion_kind = "epilogue"}
// CHECK: lathe.exp
// CHECK-NOT: fusion_group = 0
// CHECK: lathe.add {{.*}}{lathe.fusion_group = 0 : i64, lathe.fusion_kind = "epilogue"}
// CHECK: lathe.add {{.*}}{lathe.fusion_group = 0 : i64, lathe.fusion_kind = "epilogue"}
func.func @epilogue_side_input(%a: tensor<3x2xf32>, %b: tensor<3x4xf32>, %v: tensor<2x4xf32>, %u: tensor<2x4xf32>, %mu: tensor<f32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %0 = lathe.gemm %a, %b {transA = true} : (tensor<3x2xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %1 = lathe.mul %mu, %v : (tensor<f32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %2 = lathe.exp %u : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %3 = lathe.add %1, %0 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %4 = lathe.add %3, %2 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return %4, %2 : tensor<2x4xf32>, tensor<2x4xf32>
}
