// RUN: lathe-opt --split-input-file --lathe-plan-arena %s | FileCheck %s

// A chain a -> b -> c: a and b are live together at the copy a -> b, b and c
// at b -> c, but a is dead when c is written, so c reuses a's bytes.
// Live ranges are indices of @main's top-level ops (the allocs are 0-2).
// CHECK-LABEL: module attributes
// CHECK-SAME: lathe.arena_bytes = 128 : i64
// CHECK-SAME: lathe.buffers = [
// CHECK-SAME: {first = 3 : i64, in_place = false, last = 4 : i64, node = "m.onnx: node 'a'", offset = 0 : i64, size = 64 : i64},
// CHECK-SAME: {first = 4 : i64, in_place = false, last = 5 : i64, node = "m.onnx: node 'b'", offset = 64 : i64, size = 64 : i64},
// CHECK-SAME: {first = 5 : i64, in_place = false, last = 6 : i64, node = "m.onnx: node 'c'", offset = 0 : i64, size = 64 : i64}]
// CHECK-SAME: lathe.naive_bytes = 192 : i64
// CHECK-SAME: lathe.peak_bytes = 128 : i64
// CHECK-LABEL: func.func @main(%arg0: memref<128xi8> {lathe.name = "arena"}, %arg1: memref<16xf32>, %arg2: memref<16xf32>)
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[A:.*]] = memref.view %arg0[%[[C0]]][] : memref<128xi8> to memref<16xf32>
// CHECK: %[[C64:.*]] = arith.constant 64 : index
// CHECK: %[[B:.*]] = memref.view %arg0[%[[C64]]][] : memref<128xi8> to memref<16xf32>
// CHECK: %[[C0B:.*]] = arith.constant 0 : index
// CHECK: %[[C:.*]] = memref.view %arg0[%[[C0B]]][] : memref<128xi8> to memref<16xf32>
// CHECK-NOT: memref.alloc
// CHECK: memref.copy %arg1, %[[A]]
// CHECK: memref.copy %[[A]], %[[B]]
// CHECK: memref.copy %[[B]], %[[C]]
// CHECK: memref.copy %[[C]], %arg2
func.func @main(%in: memref<16xf32>, %out: memref<16xf32>) {
  %a = memref.alloc() : memref<16xf32>
  %b = memref.alloc() : memref<16xf32>
  %c = memref.alloc() : memref<16xf32>
  memref.copy %in, %a : memref<16xf32> to memref<16xf32> loc("a"("m.onnx":0:0))
  memref.copy %a, %b : memref<16xf32> to memref<16xf32> loc("b"("m.onnx":0:0))
  memref.copy %b, %c : memref<16xf32> to memref<16xf32> loc("c"("m.onnx":0:0))
  memref.copy %c, %out : memref<16xf32> to memref<16xf32>
  return
}

// -----

// Buffers live at the same time get disjoint bytes; every size is rounded
// up to 64 bytes and every offset is a multiple of 64 (largest first). The
// recorded size is the buffer's own; a buffer nobody touches lives at its
// alloc.
// CHECK-LABEL: module attributes
// CHECK-SAME: lathe.arena_bytes = 320 : i64
// CHECK-SAME: {first = 3 : i64, in_place = false, last = 3 : i64, node = "{{[^"]*}}", offset = 256 : i64, size = 16 : i64}
// CHECK-SAME: {first = 3 : i64, in_place = false, last = 3 : i64, node = "{{[^"]*}}", offset = 0 : i64, size = 80 : i64}
// CHECK-SAME: {first = 3 : i64, in_place = false, last = 3 : i64, node = "{{[^"]*}}", offset = 128 : i64, size = 65 : i64}
// CHECK-SAME: {first = 4 : i64, in_place = false, last = 4 : i64, node = "{{[^"]*}}", offset = 0 : i64, size = 0 : i64}]
// CHECK-SAME: lathe.naive_bytes = 320 : i64
// CHECK-SAME: lathe.peak_bytes = 320 : i64
// CHECK-LABEL: func.func @main(%arg0: memref<320xi8> {lathe.name = "arena"})
// CHECK: memref.view %arg0[%{{.*}}][] : memref<320xi8> to memref<4xf32>
// CHECK: memref.view %arg0[%{{.*}}][] : memref<320xi8> to memref<20xf32>
// CHECK: memref.view %arg0[%{{.*}}][] : memref<320xi8> to memref<65xi8>
// CHECK: memref.view %arg0[%{{.*}}][] : memref<320xi8> to memref<0x4xf32>
func.func private @use(memref<4xf32>, memref<20xf32>, memref<65xi8>)
func.func @main() {
  %a = memref.alloc() : memref<4xf32>
  %b = memref.alloc() : memref<20xf32>
  %c = memref.alloc() : memref<65xi8>
  func.call @use(%a, %b, %c) : (memref<4xf32>, memref<20xf32>, memref<65xi8>) -> ()
  %empty = memref.alloc() : memref<0x4xf32>
  return
}

// -----

// A buffer lives as long as any view of it is used: %a is written and read
// only through a collapse_shape and a subview of it, and through a view of an
// i8 buffer, so %c (written while %a's views are still to be read) must not
// share %a's bytes, though it may share %b's.
// CHECK-LABEL: module attributes
// CHECK-SAME: lathe.arena_bytes = 128 : i64
// CHECK-SAME: {first = 5 : i64, in_place = false, last = 11 : i64, node = "m.onnx: node 'a'", offset = 64 : i64, size = 64 : i64}
// CHECK-SAME: {first = 4 : i64, in_place = false, last = 5 : i64, node = "{{[^"]*}}", offset = 0 : i64, size = 64 : i64}
// CHECK-SAME: {first = 8 : i64, in_place = false, last = 10 : i64, node = "{{[^"]*}}", offset = 0 : i64, size = 64 : i64}
// CHECK-SAME: lathe.peak_bytes = 128 : i64
func.func @main(%in: memref<16xf32>, %out: memref<8xf32>, %out2: memref<16xf32>) {
  %a = memref.alloc() : memref<2x8xf32>
  %b = memref.alloc() : memref<16xf32>
  %c = memref.alloc() : memref<64xi8>
  %flat = memref.collapse_shape %a [[0, 1]] : memref<2x8xf32> into memref<16xf32>
  memref.copy %in, %b : memref<16xf32> to memref<16xf32>
  memref.copy %b, %flat : memref<16xf32> to memref<16xf32> loc("a"("m.onnx":0:0))
  %zero = arith.constant 0 : index
  %cf = memref.view %c[%zero][] : memref<64xi8> to memref<16xf32>
  memref.copy %in, %cf : memref<16xf32> to memref<16xf32>
  %row = memref.subview %flat[8] [8] [1] : memref<16xf32> to memref<8xf32, strided<[1], offset: 8>>
  memref.copy %cf, %out2 : memref<16xf32> to memref<16xf32>
  memref.copy %row, %out : memref<8xf32, strided<[1], offset: 8>> to memref<8xf32>
  return
}

// -----

// A use inside a loop counts as the loop: %a is read in the loop (op 5),
// so %b (written at op 4) cannot reuse its bytes.
// CHECK-LABEL: module attributes
// CHECK-SAME: lathe.arena_bytes = 128 : i64
// CHECK-SAME: {first = 3 : i64, in_place = false, last = 5 : i64, node = "{{[^"]*}}", offset = 0 : i64, size = 64 : i64}
// CHECK-SAME: {first = 4 : i64, in_place = false, last = 6 : i64, node = "{{[^"]*}}", offset = 64 : i64, size = 64 : i64}
func.func @main(%in: memref<16xf32>, %out: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %a = memref.alloc() : memref<16xf32>
  %b = memref.alloc() : memref<16xf32>
  memref.copy %in, %a : memref<16xf32> to memref<16xf32>
  memref.copy %in, %b : memref<16xf32> to memref<16xf32>
  scf.for %i = %c0 to %c0 step %c0 {
    %v = memref.load %a[%i] : memref<16xf32>
    memref.store %v, %b[%i] : memref<16xf32>
  }
  memref.copy %b, %out : memref<16xf32> to memref<16xf32>
  return
}

// -----

#id = affine_map<(d0) -> (d0)>

// In place: %b is first written by an elementwise op that reads %a element
// by element in the same order, and %a dies there, so %b takes %a's bytes
// (reads %a[i] before writing %b[i] at the same byte). %b then dies in a
// linalg.map that writes %c in place too; %c's input is a reshape of %b
// that keeps the element order.
// CHECK-LABEL: module attributes
// CHECK-SAME: lathe.arena_bytes = 64 : i64
// CHECK-SAME: {first = 3 : i64, in_place = false, last = 4 : i64, node = "{{[^"]*}}", offset = 0 : i64, size = 64 : i64}
// CHECK-SAME: {first = 4 : i64, in_place = true, last = 6 : i64, node = "m.onnx: node 'neg'", offset = 0 : i64, size = 64 : i64}
// CHECK-SAME: {first = 6 : i64, in_place = true, last = 7 : i64, node = "m.onnx: node 'abs'", offset = 0 : i64, size = 64 : i64}
// CHECK-SAME: lathe.naive_bytes = 192 : i64
// CHECK-SAME: lathe.peak_bytes = 64 : i64
// CHECK-LABEL: func.func @main(%arg0: memref<64xi8> {lathe.name = "arena"}
func.func @main(%in: memref<16xf32>, %out: memref<4x4xf32>) {
  %a = memref.alloc() : memref<16xf32>
  %b = memref.alloc() : memref<16xf32>
  %c = memref.alloc() : memref<4x4xf32>
  memref.copy %in, %a : memref<16xf32> to memref<16xf32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%a : memref<16xf32>) outs(%b : memref<16xf32>) {
  ^bb0(%x: f32, %y: f32):
    %n = arith.negf %x : f32
    linalg.yield %n : f32
  } loc("neg"("m.onnx":0:0))
  %b2 = memref.expand_shape %b [[0, 1]] output_shape [4, 4] : memref<16xf32> into memref<4x4xf32>
  linalg.map { math.absf } ins(%b2 : memref<4x4xf32>) outs(%c : memref<4x4xf32>) loc("abs"("m.onnx":0:0))
  memref.copy %c, %out : memref<4x4xf32> to memref<4x4xf32>
  return
}

// -----

#id2 = affine_map<(d0, d1) -> (d0, d1)>
#tr = affine_map<(d0, d1) -> (d1, d0)>

// Not in place: a transpose reads %a[j][i] while writing %b[i][j], so writing
// over %a would clobber elements still to be read.
// CHECK-LABEL: module attributes
// CHECK-SAME: lathe.arena_bytes = 128 : i64
// CHECK-SAME: {first = 2 : i64, in_place = false, last = 3 : i64, node = "{{[^"]*}}", offset = 0 : i64, size = 64 : i64}
// CHECK-SAME: {first = 3 : i64, in_place = false, last = 4 : i64, node = "{{[^"]*}}", offset = 64 : i64, size = 64 : i64}
func.func @main(%in: memref<4x4xf32>, %out: memref<4x4xf32>) {
  %a = memref.alloc() : memref<4x4xf32>
  %b = memref.alloc() : memref<4x4xf32>
  memref.copy %in, %a : memref<4x4xf32> to memref<4x4xf32>
  linalg.generic {indexing_maps = [#tr, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x4xf32>) outs(%b : memref<4x4xf32>) {
  ^bb0(%x: f32, %y: f32):
    linalg.yield %x : f32
  }
  memref.copy %b, %out : memref<4x4xf32> to memref<4x4xf32>
  return
}

// -----

#id3 = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0, 0)>

// Not in place: a broadcast of the first column reads %a[i][0] for every j,
// after %b[i][0] (at the same byte) was written.
// CHECK-LABEL: module attributes
// CHECK-SAME: lathe.arena_bytes = 128 : i64
// CHECK-SAME: in_place = false
// CHECK-SAME: in_place = false
func.func @main(%in: memref<4x4xf32>, %out: memref<4x4xf32>) {
  %a = memref.alloc() : memref<4x4xf32>
  %b = memref.alloc() : memref<4x4xf32>
  memref.copy %in, %a : memref<4x4xf32> to memref<4x4xf32>
  linalg.generic {indexing_maps = [#row, #id3], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x4xf32>) outs(%b : memref<4x4xf32>) {
  ^bb0(%x: f32, %y: f32):
    linalg.yield %x : f32
  }
  memref.copy %b, %out : memref<4x4xf32> to memref<4x4xf32>
  return
}

// -----

#id4 = affine_map<(d0) -> (d0)>
#rev = affine_map<(d0) -> (15 - d0)>

// Not in place: %a is read again after the op (it does not die there), and
// in the second op %c's input %b is also read through a second operand in
// reverse order. (%c may still reuse %a's bytes: %a died before.)
// CHECK-LABEL: module attributes
// CHECK-SAME: lathe.arena_bytes = 128 : i64
// CHECK-NOT: in_place = true
func.func @main(%in: memref<16xf32>, %out: memref<16xf32>, %out2: memref<16xf32>) {
  %a = memref.alloc() : memref<16xf32>
  %b = memref.alloc() : memref<16xf32>
  %c = memref.alloc() : memref<16xf32>
  memref.copy %in, %a : memref<16xf32> to memref<16xf32>
  linalg.map { math.absf } ins(%a : memref<16xf32>) outs(%b : memref<16xf32>)
  memref.copy %a, %out2 : memref<16xf32> to memref<16xf32>
  linalg.generic {indexing_maps = [#id4, #rev, #id4], iterator_types = ["parallel"]}
      ins(%b, %b : memref<16xf32>, memref<16xf32>) outs(%c : memref<16xf32>) {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  }
  memref.copy %c, %out : memref<16xf32> to memref<16xf32>
  return
}
