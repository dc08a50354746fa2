// RUN: lathe-opt --lathe-parallelize %s | FileCheck %s

// A kernel with enough work gets one parallel dim cut into tasks and takes
// the range of tasks it runs; @main passes the whole range.
// CHECK-LABEL: func.func @main
// CHECK: %[[Z0:.*]] = arith.constant 0 : index
// CHECK: %[[N0:.*]] = arith.constant 8 : index
// CHECK: call @lathe_kernel_0(%{{.*}}, %{{.*}}, %{{.*}}, %[[Z0]], %[[N0]])
// CHECK: call @lathe_kernel_1(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}})
// CHECK: call @lathe_kernel_2(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}})
// A small kernel stays whole and serial.
// CHECK: call @lathe_kernel_3(%{{.*}}, %{{.*}}) :
// CHECK: call @lathe_kernel_4(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}})
// CHECK: call @lathe_kernel_5(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}})
// CHECK-NEXT: return

// The matmul is cut along n (columns of B and C): every task then reads
// all of A (200 KB) but only its own columns of B (1.6 MB whole). Tasks of
// 64 columns keep 16-wide register tiles whole.
// CHECK: func.func private @lathe_kernel_0({{.*}}, %[[B:.*]]: index, %[[E:.*]]: index) attributes {lathe.parallel_tasks = 8 : i64, no_inline}
// CHECK: %[[BO:.*]] = arith.muli %[[B]], %{{c64.*}}
// CHECK: %[[LO:.*]] = arith.addi %{{c0.*}}, %[[BO]]
// CHECK: %[[EO:.*]] = arith.muli %[[E]], %{{c64.*}}
// CHECK: %[[HI:.*]] = arith.addi %{{c0.*}}, %[[EO]]
// CHECK: scf.for %[[J:.*]] = %[[LO]] to %[[HI]] step
// CHECK: memref.subview %{{.*}}[0, %[[J]]] [784, 64]
// CHECK: memref.subview %{{.*}}[0, %[[J]]] [64, 64]
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]

// Elementwise: cut along rows.
// CHECK: func.func private @lathe_kernel_1({{.*}}) attributes {lathe.parallel_tasks = 8 : i64, no_inline}
// CHECK: memref.subview %{{.*}}[%{{.*}}, 0] [64, 256]

// A row reduction is cut along its parallel dim only, never the reduction.
// CHECK: func.func private @lathe_kernel_2({{.*}}) attributes {lathe.parallel_tasks = 8 : i64, no_inline}
// CHECK: memref.subview %{{.*}}[%{{.*}}, 0] [64, 256]
// CHECK: memref.subview %{{.*}}[%{{.*}}] [64] [1]
// CHECK: iterator_types = ["parallel", "reduction"]

// CHECK: func.func private @lathe_kernel_3(%{{.*}}: memref<4x4xf32>, %{{.*}}: memref<4x4xf32>) attributes {no_inline}
// CHECK-NEXT: linalg.copy

// An epilogue's tile loop (lathe-fuse-groups) is cut along its tiles; the
// tile's scratch, one arena slot for all iterations, becomes a stack buffer
// of the kernel so that each thread has its own.
// CHECK: func.func private @lathe_kernel_4(%{{.*}}: memref<65536xi8>, %{{.*}}: memref<512x256xf32>, %[[TB:.*]]: index, %[[TE:.*]]: index) attributes {lathe.parallel_tasks = 8 : i64, no_inline}
// CHECK: %[[SCRATCH:.*]] = memref.alloca() : memref<8x256xf32>
// CHECK: arith.muli %[[TB]], %{{c64.*}}
// CHECK: arith.muli %[[TE]], %{{c64.*}}
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-NOT: memref.view
// CHECK: linalg.generic {{.*}} outs(%[[SCRATCH]] : memref<8x256xf32>)
// CHECK: outs(%{{.*}} : memref<8x256xf32, strided<[256, 1], offset: ?>>)

// A convolution's window (`o + k`) is never cut (the slices of the input
// would have dynamic sizes): it is cut along the filters f instead.
// CHECK: func.func private @lathe_kernel_5({{.*}}) attributes {lathe.parallel_tasks = 4 : i64, no_inline}
// CHECK: memref.subview %{{.*}}[%{{.*}}, 0, 0] [16, 8, 3]
// CHECK: memref.subview %{{.*}}[0, %{{.*}}, 0] [1, 16, 32]

#id = affine_map<(d0, d1) -> (d0, d1)>
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#c = affine_map<(d0, d1, d2) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
#col = affine_map<(d0, d1) -> (d0)>
func.func @main(%x: memref<64x784xf32>, %w: memref<784x512xf32>, %y: memref<64x512xf32>,
                %g: memref<512x256xf32>, %s: memref<512x256xf32>, %r: memref<512xf32>,
                %t: memref<4x4xf32>, %u: memref<4x4xf32>, %arena: memref<65536xi8>,
                %win: memref<1x8x34xf32>, %k: memref<64x8x3xf32>, %cv: memref<1x64x32xf32>) {
  call @lathe_kernel_0(%x, %w, %y) : (memref<64x784xf32>, memref<784x512xf32>, memref<64x512xf32>) -> ()
  call @lathe_kernel_1(%g, %s) : (memref<512x256xf32>, memref<512x256xf32>) -> ()
  call @lathe_kernel_2(%g, %r) : (memref<512x256xf32>, memref<512xf32>) -> ()
  call @lathe_kernel_3(%t, %u) : (memref<4x4xf32>, memref<4x4xf32>) -> ()
  call @lathe_kernel_4(%arena, %g) : (memref<65536xi8>, memref<512x256xf32>) -> ()
  call @lathe_kernel_5(%win, %k, %cv) : (memref<1x8x34xf32>, memref<64x8x3xf32>, memref<1x64x32xf32>) -> ()
  return
}
func.func private @lathe_kernel_0(%x: memref<64x784xf32>, %w: memref<784x512xf32>, %y: memref<64x512xf32>) attributes {no_inline} {
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<64x784xf32>, memref<784x512xf32>) outs(%y : memref<64x512xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %a = arith.addf %acc, %m : f32
    linalg.yield %a : f32
  }
  return
}
func.func private @lathe_kernel_1(%g: memref<512x256xf32>, %s: memref<512x256xf32>) attributes {no_inline} {
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%g : memref<512x256xf32>) outs(%s : memref<512x256xf32>) {
  ^bb0(%p: f32, %q: f32):
    %e = math.exp %p : f32
    linalg.yield %e : f32
  }
  return
}
func.func private @lathe_kernel_2(%g: memref<512x256xf32>, %r: memref<512xf32>) attributes {no_inline} {
  linalg.generic {indexing_maps = [#id, #col], iterator_types = ["parallel", "reduction"]}
      ins(%g : memref<512x256xf32>) outs(%r : memref<512xf32>) {
  ^bb0(%p: f32, %acc: f32):
    %a = arith.addf %acc, %p : f32
    linalg.yield %a : f32
  }
  return
}
func.func private @lathe_kernel_3(%t: memref<4x4xf32>, %u: memref<4x4xf32>) attributes {no_inline} {
  linalg.copy ins(%t : memref<4x4xf32>) outs(%u : memref<4x4xf32>)
  return
}

#tile = affine_map<(d0, d1) -> (d0, d1)>
func.func private @lathe_kernel_4(%arena: memref<65536xi8>, %g: memref<512x256xf32>) attributes {no_inline} {
  %c0 = arith.constant 0 : index
  %c8 = arith.constant 8 : index
  %c512 = arith.constant 512 : index
  scf.for %i = %c0 to %c512 step %c8 {
    %off = arith.constant 0 : index
    %scratch = memref.view %arena[%off][] : memref<65536xi8> to memref<8x256xf32>
    %rows = memref.subview %g[%i, 0] [8, 256] [1, 1] : memref<512x256xf32> to memref<8x256xf32, strided<[256, 1], offset: ?>>
    linalg.generic {indexing_maps = [#tile, #tile], iterator_types = ["parallel", "parallel"]}
        ins(%rows : memref<8x256xf32, strided<[256, 1], offset: ?>>) outs(%scratch : memref<8x256xf32>) {
    ^bb0(%p: f32, %q: f32):
      %e = math.exp %p : f32
      linalg.yield %e : f32
    }
    linalg.generic {indexing_maps = [#tile, #tile], iterator_types = ["parallel", "parallel"]}
        ins(%scratch : memref<8x256xf32>) outs(%rows : memref<8x256xf32, strided<[256, 1], offset: ?>>) {
    ^bb0(%p: f32, %q: f32):
      %l = math.log %p : f32
      linalg.yield %l : f32
    }
  } {lathe.parallel_tiles}
  return
}

#win = affine_map<(n, f, o, c, k) -> (n, c, o + k)>
#ker = affine_map<(n, f, o, c, k) -> (f, c, k)>
#out = affine_map<(n, f, o, c, k) -> (n, f, o)>
func.func private @lathe_kernel_5(%x: memref<1x8x34xf32>, %w: memref<64x8x3xf32>, %y: memref<1x64x32xf32>) attributes {no_inline} {
  linalg.generic {indexing_maps = [#win, #ker, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<1x8x34xf32>, memref<64x8x3xf32>) outs(%y : memref<1x64x32xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %a = arith.addf %acc, %m : f32
    linalg.yield %a : f32
  }
  return
}
