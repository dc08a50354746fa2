// RUN: lathe-opt --lathe-tile-matmul="vector-bits=256 vector-registers=16" --split-input-file --verify-diagnostics %s | FileCheck %s

// 20x300 times 300x20 with AVX2's 16 registers: row tiles balanced to two of
// 4 rows (not 6 + 2), k in blocks of 256 (a 256x16 panel on the stack, in
// the entry block), one full 16-wide column tile and a masked one of 4.
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>
// CHECK-LABEL: func.func @packed(
// CHECK-SAME: %[[A:.*]]: memref<20x300xf32>, %[[B:.*]]: memref<300x20xf32>, %[[C:.*]]: memref<20x20xf32>)
// CHECK: %[[PANEL:.*]] = memref.alloca() {alignment = 64 : i64} : memref<256x16xf32>
// CHECK: scf.for %[[K0:.*]] = %{{.*}} to %{{.*}} step %c256
// CHECK: scf.for %[[N0:.*]] = %{{.*}} to %c16 step %c16
// The panel: B's rows copied, 16 columns.
// CHECK: memref.load %[[B]]
// CHECK: memref.store %{{.*}}, %[[PANEL]]
// CHECK: scf.for %[[M0:.*]] = %{{.*}} to %c20{{.*}} step %c5
// CHECK-COUNT-10: vector.load %[[C]]
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK-COUNT-2: vector.load %[[PANEL]]
// CHECK: memref.load %[[A]]
// CHECK: vector.broadcast
// CHECK-COUNT-2: vector.fma
// CHECK: scf.yield
// CHECK-COUNT-10: vector.store {{.*}}, %[[C]]
// The last 4 columns: zero-padded panel, masked C.
// CHECK: memref.store %cst, %[[PANEL]]
// CHECK: vector.create_mask %c4{{.*}} : vector<8xi1>
// CHECK: vector.maskedload %[[C]]
// CHECK: vector.maskedstore %[[C]]
// CHECK-NOT: linalg.generic
func.func @packed(%a: memref<20x300xf32>, %b: memref<300x20xf32>, %c: memref<20x20xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<20x300xf32>, memref<300x20xf32>) outs(%c : memref<20x20xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// With only 8 rows, packing would cost as much as the product: B (contiguous
// along n) is read in place, its last partial vector masked.
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>
// CHECK-LABEL: func.func @direct(
// CHECK-SAME: %[[A:.*]]: memref<8x300xf32>, %[[B:.*]]: memref<300x20xf32>, %[[C:.*]]: memref<8x20xf32>)
// CHECK-NOT: memref.alloca
// CHECK: scf.for %{{.*}} = %{{.*}} to %c8{{.*}} step %c4
// CHECK: scf.for
// CHECK-COUNT-2: vector.load %[[B]]
// CHECK: vector.fma
// CHECK: vector.maskedload %[[B]]
func.func @direct(%a: memref<8x300xf32>, %b: memref<300x20xf32>, %c: memref<8x20xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<8x300xf32>, memref<300x20xf32>) outs(%c : memref<8x20xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// 20 rows (more than two row tiles) but the whole reduction in one panel
// (k = 128 <= 256): B's 128 x 16 columns are read in place by each row tile,
// from L1 as a packed panel would be, without the copy.
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>
// CHECK-LABEL: func.func @direct_one_panel(
// CHECK-SAME: %[[A:.*]]: memref<20x128xf32>, %[[B:.*]]: memref<128x32xf32>, %[[C:.*]]: memref<20x32xf32>)
// CHECK-NOT: memref.alloca
// CHECK: scf.for %{{.*}} = %{{.*}} to %c32{{.*}} step %c16
// CHECK: scf.for %{{.*}} = %{{.*}} to %c20{{.*}} step %c5
// CHECK: scf.for
// CHECK-COUNT-2: vector.load %[[B]]
// CHECK: vector.fma
func.func @direct_one_panel(%a: memref<20x128xf32>, %b: memref<128x32xf32>, %c: memref<20x32xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<20x128xf32>, memref<128x32xf32>) outs(%c : memref<20x32xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A B^T with few rows (nn.Linear's Gemm transB): dot products along k, both
// operands read contiguously, 3x3 accumulators; k = 37 is four full vectors
// and a masked one of 5; each sum reduced across lanes into C.
#a = affine_map<(m, n, k) -> (m, k)>
#bt = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>
// CHECK-LABEL: func.func @dot(
// CHECK-SAME: %[[A:.*]]: memref<4x37xf32>, %[[B:.*]]: memref<11x37xf32>, %[[C:.*]]: memref<4x11xf32>)
// CHECK-NOT: memref.alloca
// CHECK: scf.for %{{.*}} = %{{.*}} to %c4{{.*}} step %c2
// CHECK: scf.for %{{.*}} = %{{.*}} to %c9{{.*}} step %c3
// CHECK: scf.for %{{.*}} = %{{.*}} to %c32{{.*}} step %c8
// CHECK-COUNT-2: vector.load %[[A]]
// CHECK: vector.load %[[B]]
// CHECK: vector.fma
// CHECK: vector.create_mask %c5{{.*}} : vector<8xi1>
// CHECK: vector.maskedload %[[A]]
// CHECK: vector.reduction <add>
func.func @dot(%a: memref<4x37xf32>, %b: memref<11x37xf32>, %c: memref<4x11xf32>) {
  linalg.generic {indexing_maps = [#a, #bt, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x37xf32>, memref<11x37xf32>) outs(%c : memref<4x11xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Gemm with transA, transB and alpha, batched with a broadcast operand:
// A^T is read one scalar per row, B^T is packed (transposing), alpha scales
// A's scalar; the batch dim is a loop, B's broadcast index is 0.
#at = affine_map<(b, m, n, k) -> (b, k, m)>
#bt = affine_map<(b, m, n, k) -> (0, n, k)>
#c3 = affine_map<(b, m, n, k) -> (b, m, n)>
// CHECK-LABEL: func.func @transposed(
// CHECK-SAME: %[[A:.*]]: memref<3x5x7xf32>, %[[B:.*]]: memref<1x9x5xf32>, %[[C:.*]]: memref<3x7x9xf32>)
// CHECK: %[[ALPHA:.*]] = arith.constant 5.000000e-01 : f32
// CHECK: scf.for %[[BATCH:.*]] = %{{.*}} to %c3
// CHECK: memref.load %[[B]][%c0{{.*}}, %{{.*}}, %{{.*}}]
// CHECK: vector.create_mask %c1{{.*}} : vector<8xi1>
// CHECK: %[[X:.*]] = memref.load %[[A]][%[[BATCH]], %{{.*}}, %{{.*}}]
// CHECK: arith.mulf %[[X]], %[[ALPHA]]
// CHECK: vector.fma
func.func @transposed(%a: memref<3x5x7xf32>, %b: memref<1x9x5xf32>, %c: memref<3x7x9xf32>) {
  %alpha = arith.constant 0.5 : f32
  linalg.generic {indexing_maps = [#at, #bt, #c3], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<3x5x7xf32>, memref<1x9x5xf32>) outs(%c : memref<3x7x9xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %xa = arith.mulf %x, %alpha : f32
    %p = arith.mulf %xa, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A matrix-vector product is not tiled (yet): it says so.
#mv_a = affine_map<(m, k) -> (m, k)>
#mv_x = affine_map<(m, k) -> (k)>
#mv_y = affine_map<(m, k) -> (m)>
// CHECK-LABEL: func.func @matvec(
// CHECK: linalg.generic
func.func @matvec(%a: memref<4x6xf32>, %x: memref<6xf32>, %y: memref<4xf32>) {
  // expected-remark @below {{lathe-tile-matmul: contraction stays scalar: result has rank < 2 (a matrix-vector product)}}
  linalg.generic {indexing_maps = [#mv_a, #mv_x, #mv_y], iterator_types = ["parallel", "reduction"]}
      ins(%a, %x : memref<4x6xf32>, memref<6xf32>) outs(%y : memref<4xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}
// -----

// A convolution (loops n g f oh ow | c kh kw, the input read through a
// stride-1 window) is read in place: the output channels are the rows, the
// output columns the vectors, and with only 2 channels the tile also spans
// 3 output rows (2 x 3 x 2 = 12 accumulators), which share each weight
// broadcast. The reduction is a nest over c, kh and kw.
#cx = affine_map<(n, g, f, oh, ow, c, kh, kw) -> (n, g, c, oh + kh, ow + kw)>
#cw = affine_map<(n, g, f, oh, ow, c, kh, kw) -> (g, f, c, kh, kw)>
#cy = affine_map<(n, g, f, oh, ow, c, kh, kw) -> (n, g, f, oh, ow)>
// CHECK-LABEL: func.func @conv(
// CHECK-SAME: %[[X:.*]]: memref<1x1x3x8x22xf32>, %[[W:.*]]: memref<1x2x3x3x3xf32>, %[[Y:.*]]: memref<1x1x2x6x20xf32>)
// CHECK-NOT: memref.alloca
// CHECK: scf.for %{{.*}} = %{{.*}} to %c6{{.*}} step %c3
// CHECK-COUNT-12: vector.load %[[Y]]
// CHECK: scf.for {{.*}} iter_args
// CHECK: scf.for {{.*}} iter_args
// CHECK: scf.for {{.*}} iter_args
// CHECK-COUNT-6: vector.load %[[X]]
// CHECK: memref.load %[[W]]
// CHECK: vector.broadcast
// CHECK-COUNT-6: vector.fma
// CHECK: memref.load %[[W]]
// CHECK: vector.broadcast
// CHECK-COUNT-6: vector.fma
// CHECK-COUNT-12: vector.store {{.*}}, %[[Y]]
// The last 4 columns: masked loads of the window and of Y.
// CHECK: vector.maskedload %[[Y]]
// CHECK: vector.maskedload %[[X]]
// CHECK-NOT: linalg.generic
func.func @conv(%x: memref<1x1x3x8x22xf32>, %w: memref<1x2x3x3x3xf32>, %y: memref<1x1x2x6x20xf32>) {
  linalg.generic {indexing_maps = [#cx, #cw, #cy], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %w : memref<1x1x3x8x22xf32>, memref<1x2x3x3x3xf32>) outs(%y : memref<1x1x2x6x20xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// With stride 2 the window is not contiguous along the output columns: its
// lanes are gathered two elements apart (4 columns: one masked vector).
#sx = affine_map<(n, g, f, oh, ow, c, kh, kw) -> (n, g, c, oh * 2 + kh, ow * 2 + kw)>
#sw = affine_map<(n, g, f, oh, ow, c, kh, kw) -> (g, f, c, kh, kw)>
#sy = affine_map<(n, g, f, oh, ow, c, kh, kw) -> (n, g, f, oh, ow)>
// CHECK-LABEL: func.func @conv_stride2(
// CHECK-SAME: %[[X:.*]]: memref<1x1x3x9x9xf32>, %[[W:.*]]: memref<1x2x3x3x3xf32>, %[[Y:.*]]: memref<1x1x2x4x4xf32>)
// CHECK: %[[OFFSETS:.*]] = arith.constant dense<[0, 2, 4, 6, 8, 10, 12, 14]> : vector<8xi32>
// CHECK: vector.maskedload %[[Y]]
// CHECK: vector.gather %[[X]][{{.*}}] [%[[OFFSETS]]]
// CHECK-COUNT-2: vector.fma
// CHECK: vector.maskedstore %[[Y]]
// CHECK-NOT: linalg.generic
func.func @conv_stride2(%x: memref<1x1x3x9x9xf32>, %w: memref<1x2x3x3x3xf32>, %y: memref<1x1x2x4x4xf32>) {
  linalg.generic {indexing_maps = [#sx, #sw, #sy], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %w : memref<1x1x3x9x9xf32>, memref<1x2x3x3x3xf32>) outs(%y : memref<1x1x2x4x4xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// The same convolution read from its input's phases (lathe-lower-to-linalg
// splits a strided last dim: x'[.., p, j] = x[.., j * 2 + p]): the window's
// last two indices are (kw mod 2, ow + kw floordiv 2), so its vectors are
// contiguous loads, no gather.
#px = affine_map<(n, g, f, oh, ow, c, kh, kw) -> (n, g, c, oh * 2 + kh, kw mod 2, ow + kw floordiv 2)>
#pw = affine_map<(n, g, f, oh, ow, c, kh, kw) -> (g, f, c, kh, kw)>
#py = affine_map<(n, g, f, oh, ow, c, kh, kw) -> (n, g, f, oh, ow)>
// CHECK-LABEL: func.func @conv_phases(
// CHECK-SAME: %[[X:.*]]: memref<1x1x3x9x2x5xf32>, %[[W:.*]]: memref<1x2x3x3x3xf32>, %[[Y:.*]]: memref<1x1x2x4x4xf32>)
// CHECK-NOT: vector.gather
// CHECK: vector.maskedload %[[Y]]
// CHECK: scf.for {{.*}} iter_args
// CHECK: scf.for {{.*}} iter_args
// CHECK: scf.for %[[KW:.*]] = {{.*}} iter_args
// CHECK-DAG: %[[PHASE:.*]] = arith.remui %[[KW]], %c2{{.*}}
// CHECK-DAG: %[[SHIFT:.*]] = arith.divui %[[KW]], %c2{{.*}}
// CHECK-DAG: %[[COL:.*]] = arith.addi %{{.*}}, %[[SHIFT]]
// CHECK: vector.maskedload %[[X]][%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[PHASE]], %[[COL]]]
// CHECK-NOT: vector.gather
// CHECK: vector.maskedstore %[[Y]]
func.func @conv_phases(%x: memref<1x1x3x9x2x5xf32>, %w: memref<1x2x3x3x3xf32>, %y: memref<1x1x2x4x4xf32>) {
  linalg.generic {indexing_maps = [#px, #pw, #py], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %w : memref<1x1x3x9x2x5xf32>, memref<1x2x3x3x3xf32>) outs(%y : memref<1x1x2x4x4xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A convolution's dW (the result is kernel-sized, the reduction runs over the
// batch d5 and the output image d6, d7): dot products along d7. A and B are
// 836 KiB in all, 13 KiB per batch element, so the batch is cut into blocks
// of 16 (the largest divisor of 64 whose slices fit in 256 KiB) around every
// tile, and each tile adds its partial sums to C. A tile is 4 output
// channels x the kernel's 3 columns: the 3 shifted window vectors are
// loaded first, then each channel's output-gradient vector is streamed
// into 3 FMAs (3 + 1 + 12 registers).
#x = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5, d3 + d6, d4 + d7)>
#g = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d5, d1, d2, d6, d7)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d3, d4)>
// CHECK-LABEL: func.func @conv_weight_grad(
// CHECK: scf.for %[[N0:.*]] = %{{.*}} to %c64{{.*}} step %c16
// CHECK: scf.for %{{.*}} = %{{.*}} to %c8{{.*}} step %c4
// CHECK: %[[END:.*]] = arith.addi %[[N0]], %c16
// CHECK: scf.for %{{.*}} = %[[N0]] to %[[END]] step %c1{{.*}} iter_args(
// CHECK-COUNT-3: vector.load %arg0
// CHECK: vector.load %arg1
// CHECK-COUNT-3: vector.fma
// CHECK-NEXT: vector.load %arg1
// CHECK-COUNT-3: vector.fma
// CHECK-NEXT: vector.load %arg1
// CHECK-COUNT-3: vector.fma
// CHECK-NEXT: vector.load %arg1
// CHECK-COUNT-3: vector.fma
// CHECK-COUNT-12: vector.reduction <add>
// CHECK: memref.load %arg2
// CHECK: memref.store %{{.*}}, %arg2
func.func @conv_weight_grad(%x: memref<4x1x64x18x18xf32>, %g: memref<64x1x8x16x16xf32>, %w: memref<4x1x8x3x3xf32>) {
  linalg.generic {indexing_maps = [#x, #g, #w], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %g : memref<4x1x64x18x18xf32>, memref<64x1x8x16x16xf32>) outs(%w : memref<4x1x8x3x3xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A convolution whose output starts as a per-channel bias
// (lathe-fold-contraction-init): the accumulators start from the bias,
// broadcast, instead of from loads of Y; Y is only stored.
#cx = affine_map<(n, g, f, oh, ow, c, kh, kw) -> (n, g, c, oh + kh, ow + kw)>
#cw = affine_map<(n, g, f, oh, ow, c, kh, kw) -> (g, f, c, kh, kw)>
#cb = affine_map<(n, g, f, oh, ow, c, kh, kw) -> (g, f)>
#cy = affine_map<(n, g, f, oh, ow, c, kh, kw) -> (n, g, f, oh, ow)>
// CHECK-LABEL: func.func @conv_bias(
// CHECK-SAME: %[[X:.*]]: memref<1x1x3x8x22xf32>, %[[W:.*]]: memref<1x2x3x3x3xf32>, %[[B:.*]]: memref<1x2xf32>, %[[Y:.*]]: memref<1x1x2x6x20xf32>)
// CHECK-NOT: vector.load %[[Y]]
// CHECK: memref.load %[[B]]
// CHECK: vector.broadcast
// CHECK: scf.for {{.*}} iter_args
// CHECK-COUNT-12: vector.store {{.*}}, %[[Y]]
// CHECK-NOT: vector.maskedload %[[Y]]
// CHECK-NOT: linalg.generic
func.func @conv_bias(%x: memref<1x1x3x8x22xf32>, %w: memref<1x2x3x3x3xf32>, %b: memref<1x2xf32>, %y: memref<1x1x2x6x20xf32>) {
  linalg.generic {indexing_maps = [#cx, #cw, #cb, #cy], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %w, %b : memref<1x1x3x8x22xf32>, memref<1x2x3x3x3xf32>, memref<1x2xf32>) outs(%y : memref<1x1x2x6x20xf32>) attrs = {lathe.contraction_init = 2 : i64} {
  ^bb0(%p: f32, %q: f32, %init: f32, %acc: f32):
    %c0 = arith.constant 0 : index
    %i5 = linalg.index 5 : index
    %z5 = arith.cmpi eq, %i5, %c0 : index
    %i6 = linalg.index 6 : index
    %z6 = arith.cmpi eq, %i6, %c0 : index
    %i7 = linalg.index 7 : index
    %z7 = arith.cmpi eq, %i7, %c0 : index
    %a = arith.andi %z5, %z6 : i1
    %first = arith.andi %a, %z7 : i1
    %start = arith.select %first, %init, %acc : f32
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %start, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Dot products add each tile's sum to C: a zero initial value is written
// first, as the fill did.
#a = affine_map<(m, n, k) -> (m, k)>
#bt = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>
// CHECK-LABEL: func.func @dot_zero(
// CHECK-SAME: %[[A:.*]]: memref<4x37xf32>, %[[B:.*]]: memref<11x37xf32>, %[[C:.*]]: memref<4x11xf32>)
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[C]] : memref<4x11xf32>)
// CHECK: scf.for
// CHECK: vector.reduction <add>
// CHECK: memref.load %[[C]]
func.func @dot_zero(%a: memref<4x37xf32>, %b: memref<11x37xf32>, %c: memref<4x11xf32>) {
  linalg.generic {indexing_maps = [#a, #bt, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x37xf32>, memref<11x37xf32>) outs(%c : memref<4x11xf32>) attrs = {lathe.contraction_init = 0.0 : f32} {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %c0 = arith.constant 0 : index
    %i = linalg.index 2 : index
    %first = arith.cmpi eq, %i, %c0 : index
    %zero = arith.constant 0.0 : f32
    %start = arith.select %first, %zero, %acc : f32
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %start, %p : f32
    linalg.yield %s : f32
  }
  return
}
