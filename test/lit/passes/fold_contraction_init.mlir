// RUN: lathe-opt --lathe-fold-contraction-init --split-input-file %s | FileCheck %s

// A convolution whose output starts as its bias, broadcast per channel:
// one generic, the bias one more input read per output channel, the first
// product added to it (every reduction index 0) instead of to the output.
#bias_in = affine_map<(n, g, f, oh, ow) -> (g, f)>
#bias_out = affine_map<(n, g, f, oh, ow) -> (n, g, f, oh, ow)>
#cx = affine_map<(n, g, f, oh, ow, c, kh, kw) -> (n, g, c, oh + kh, ow + kw)>
#cw = affine_map<(n, g, f, oh, ow, c, kh, kw) -> (g, f, c, kh, kw)>
#cy = affine_map<(n, g, f, oh, ow, c, kh, kw) -> (n, g, f, oh, ow)>
// CHECK-DAG: #[[BIAS:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d2)>
// CHECK-LABEL: func.func @conv_bias(
// CHECK-SAME: %[[X:.*]]: memref<1x1x3x8x22xf32>, %[[W:.*]]: memref<1x2x3x3x3xf32>, %[[B:.*]]: memref<1x2xf32>, %[[Y:.*]]: memref<1x1x2x6x20xf32>)
// CHECK-NEXT: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #[[BIAS]], #{{.*}}]
// CHECK-SAME: ins(%[[X]], %[[W]], %[[B]] : {{.*}}) outs(%[[Y]] : {{.*}}) attrs = {lathe.contraction_init = 2 : i64}
// CHECK: ^bb0(%[[P:.*]]: f32, %[[Q:.*]]: f32, %[[INIT:.*]]: f32, %[[OUT:.*]]: f32):
// CHECK: %[[I5:.*]] = linalg.index 5
// CHECK: arith.cmpi eq, %[[I5]]
// CHECK: linalg.index 6
// CHECK: arith.andi
// CHECK: linalg.index 7
// CHECK: %[[FIRST:.*]] = arith.andi
// CHECK: %[[START:.*]] = arith.select %[[FIRST]], %[[INIT]], %[[OUT]]
// CHECK: %[[M:.*]] = arith.mulf %[[P]], %[[Q]]
// CHECK: %[[S:.*]] = arith.addf %[[START]], %[[M]]
// CHECK: linalg.yield %[[S]]
// CHECK-NOT: linalg.generic
func.func @conv_bias(%x: memref<1x1x3x8x22xf32>, %w: memref<1x2x3x3x3xf32>, %b: memref<1x2xf32>, %y: memref<1x1x2x6x20xf32>) {
  linalg.generic {indexing_maps = [#bias_in, #bias_out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%b : memref<1x2xf32>) outs(%y : memref<1x1x2x6x20xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
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

// A zero fill of an equal view of the same arena bytes (views and constants
// in between are skipped): the constant is the initial value.
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>
// CHECK-LABEL: func.func @matmul_zero(
// CHECK-NOT: linalg.fill
// CHECK: linalg.generic {{.*}} attrs = {lathe.contraction_init = 0.000000e+00 : f32}
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: arith.select %{{.*}}, %[[ZERO]], %{{.*}}
func.func @matmul_zero(%arena: memref<4096xi8>, %a: memref<4x8xf32>, %b: memref<8x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %c0_1 = arith.constant 0 : index
  %v1 = memref.view %arena[%c0][] : memref<4096xi8> to memref<4x16xf32>
  linalg.fill ins(%zero : f32) outs(%v1 : memref<4x16xf32>)
  %v2 = memref.view %arena[%c0_1][] : memref<4096xi8> to memref<4x16xf32>
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x8xf32>, memref<8x16xf32>) outs(%v2 : memref<4x16xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// The fill writes other memory, or something else runs in between: no fold.
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>
// CHECK-LABEL: func.func @not_the_output(
// CHECK: linalg.fill
// CHECK: linalg.copy
// CHECK: linalg.generic
// CHECK-NOT: lathe.contraction_init
func.func @not_the_output(%a: memref<4x8xf32>, %b: memref<8x16xf32>, %c: memref<4x16xf32>, %d: memref<4x16xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<4x16xf32>)
  linalg.copy ins(%c : memref<4x16xf32>) outs(%d : memref<4x16xf32>)
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x8xf32>, memref<8x16xf32>) outs(%c : memref<4x16xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
