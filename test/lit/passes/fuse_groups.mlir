// RUN: lathe-opt --lathe-fuse --lathe-lower-to-linalg --lathe-fuse-groups %s | FileCheck %s
// RUN: lathe-opt --lathe-lower-to-linalg --lathe-fuse-groups %s | FileCheck %s --check-prefix=NOGROUPS

// The epilogue's tile loops (a convolution: 16 of the 32 output channels,
// then as many output rows as keep the tile within 8192 elements: 16 of 32,
// the columns whole) compute the bias broadcast, the convolution and the
// Relu of each tile; nothing is left outside.
// CHECK-LABEL: func.func @epilogue
// CHECK-NOT: linalg.generic
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c16
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c16
// CHECK-NOT: scf.for
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]
// CHECK: linalg.generic {{.*}}"reduction", "reduction", "reduction"
// CHECK: arith.maximumf
// CHECK: tensor.insert_slice {{.*}} into {{.*}}[0, 0, %{{.*}}, %{{.*}}, 0] [1, 1, 16, 16, 32]
// CHECK: return
// Without groups, nothing is fused or tiled.
// NOGROUPS-LABEL: func.func @epilogue
// NOGROUPS-NOT: scf.for
// NOGROUPS-COUNT-3: linalg.generic
// NOGROUPS-NOT: scf.for
func.func @epilogue(%x: tensor<1x2x32x32xf32>, %w: tensor<32x2x3x3xf32>, %b: tensor<32xf32>) -> tensor<1x32x32x32xf32> {
  %0 = lathe.conv %x, %w, %b {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, group = 1} : (tensor<1x2x32x32xf32>, tensor<32x2x3x3xf32>, tensor<32xf32>) -> tensor<1x32x32x32xf32>
  %1 = lathe.relu %0 : (tensor<1x32x32x32xf32>) -> tensor<1x32x32x32xf32>
  return %1 : tensor<1x32x32x32xf32>
}

// A matmul's epilogue tiles are 32 rows x 64 columns, so that each tile
// reads its own 64 columns of the weights (whole rows would read them all
// in every tile).
// CHECK-LABEL: func.func @gemm_epilogue
// CHECK: scf.for %{{.*}} = %c0 to %c64 step %c32
// CHECK: scf.for %{{.*}} = %c0 to %c512 step %c64
// CHECK-NOT: scf.for
// CHECK: tensor.insert_slice {{.*}} [32, 64] [1, 1]
func.func @gemm_epilogue(%x: tensor<64x256xf32>, %w: tensor<512x256xf32>, %b: tensor<512xf32>) -> tensor<64x512xf32> {
  %0 = lathe.gemm %x, %w, %b {alpha = 1.0 : f32, beta = 1.0 : f32, transA = false, transB = true} : (tensor<64x256xf32>, tensor<512x256xf32>, tensor<512xf32>) -> tensor<64x512xf32>
  %1 = lathe.relu %0 : (tensor<64x512xf32>) -> tensor<64x512xf32>
  return %1 : tensor<64x512xf32>
}

// A Clip epilogue is two ops (max and min with 0-d bounds) that fuse into
// one generic before tiling; the fused op keeps the group (its location
// fuses the parts' grouped locations), so the grouped Conv's collapse moves
// past it and the tile loop computes the depthwise conv and the Clip of 2
// channels at a time.
// CHECK-LABEL: func.func @clip_epilogue
// CHECK: scf.for %{{.*}} = %c0 to %c8 step %c2
// CHECK: linalg.generic {{.*}}"reduction", "reduction", "reduction"
// CHECK: arith.maximumf
// CHECK-NEXT: arith.minimumf
// CHECK: tensor.insert_slice {{.*}} [1, 2, 1, 64, 64]
// CHECK: tensor.collapse_shape
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @clip_epilogue(%x: tensor<1x8x64x64xf32>, %w: tensor<8x1x3x3xf32>, %b: tensor<8xf32>) -> tensor<1x8x64x64xf32> {
  %lo = lathe.constant dense<0.0> : tensor<f32>
  %hi = lathe.constant dense<6.0> : tensor<f32>
  %0 = lathe.conv %x, %w, %b {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, group = 8} : (tensor<1x8x64x64xf32>, tensor<8x1x3x3xf32>, tensor<8xf32>) -> tensor<1x8x64x64xf32>
  %1 = lathe.max %0, %lo : (tensor<1x8x64x64xf32>, tensor<f32>) -> tensor<1x8x64x64xf32>
  %2 = lathe.min %1, %hi : (tensor<1x8x64x64xf32>, tensor<f32>) -> tensor<1x8x64x64xf32>
  return %2 : tensor<1x8x64x64xf32>
}

// A ConvTranspose reads its kernel flipped (`2 - k`): upstream's slice of a
// fused producer would take one element of it, so its epilogue stays whole
// (before this was checked, the tiled IR failed verification).
// CHECK-LABEL: func.func @transpose_epilogue
// CHECK-NOT: scf.for
// CHECK: linalg.generic {{.*}}"reduction", "reduction", "reduction"
// CHECK: arith.maximumf
// CHECK: return
func.func @transpose_epilogue(%x: tensor<2x32x16x16xf32>, %w: tensor<32x32x3x3xf32>) -> tensor<2x32x16x16xf32> {
  %0 = lathe.conv_transpose %x, %w {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, output_padding = array<i64: 0, 0>, group = 1} : (tensor<2x32x16x16xf32>, tensor<32x32x3x3xf32>) -> tensor<2x32x16x16xf32>
  %1 = lathe.relu %0 : (tensor<2x32x16x16xf32>) -> tensor<2x32x16x16xf32>
  return %1 : tensor<2x32x16x16xf32>
}

// An elementwise group becomes one loop nest; the value the group returns
// and another op reads stays computed once, outside.
// CHECK-LABEL: func.func @chains
// CHECK: linalg.generic
// CHECK: math.exp
// CHECK-NEXT: arith.negf
// CHECK-NEXT: math.sqrt
// CHECK: linalg.generic
// CHECK-NEXT: ^bb0
// CHECK-NEXT: math.absf
// CHECK-NOT: linalg.generic
// NOGROUPS-LABEL: func.func @chains
// NOGROUPS-COUNT-4: linalg.generic
func.func @chains(%x: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %0 = lathe.exp %x : (tensor<8xf32>) -> tensor<8xf32>
  %1 = lathe.neg %0 : (tensor<8xf32>) -> tensor<8xf32>
  %2 = lathe.sqrt %1 : (tensor<8xf32>) -> tensor<8xf32>
  %3 = lathe.abs %2 : (tensor<8xf32>) -> tensor<8xf32>
  return %2, %3 : tensor<8xf32>, tensor<8xf32>
}

// One op's lowering (BatchNorm in training mode, all at one location) is one
// kernel where its pieces have one shape, but a per-channel piece that
// computes (the mean's divide by the count, scale / sqrt(var + epsilon))
// stays its own op: fused, it would run once per element of [N, C, H, W].
// CHECK-LABEL: func.func @per_channel_math
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel"]
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.divf
// CHECK: math.sqrt
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel"]
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.subf
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: arith.addf
// CHECK-NEXT: linalg.yield
// NOGROUPS-LABEL: func.func @per_channel_math
// NOGROUPS: math.sqrt
// NOGROUPS: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel"]
// NOGROUPS-NOT: math.sqrt
func.func @per_channel_math(%x: tensor<2x3x4x5xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>) -> tensor<2x3x4x5xf32> {
  %y, %rm, %rv, %bm, %bv = lathe.batch_norm_training %x, %s, %b, %m, %v {epsilon = 1.0e-5 : f32, momentum = 0.9 : f32} : (tensor<2x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<2x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
  return %y : tensor<2x3x4x5xf32>
}
