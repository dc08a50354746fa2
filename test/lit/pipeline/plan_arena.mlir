// RUN: lathe-opt --lathe-plan-arena %s | FileCheck %s

// Each intermediate buffer becomes a view into the arena (a new first
// argument) at a 64-byte aligned offset; the total is recorded.
// CHECK: module attributes {lathe.arena_bytes = 192 : i64, lathe.naive_bytes = 192 : i64}
// CHECK-LABEL: func.func @main(%arg0: memref<192xi8> {lathe.name = "arena"}, %arg1: memref<4xf32>, %arg2: memref<4xf32>)
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: memref.view %arg0[%[[C0]]][] : memref<192xi8> to memref<4xf32>
// CHECK: %[[C64:.*]] = arith.constant 64 : index
// CHECK: memref.view %arg0[%[[C64]]][] : memref<192xi8> to memref<20xf32>
// CHECK-NOT: memref.alloc
func.func @main(%in: memref<4xf32>, %out: memref<4xf32>) {
  %a = memref.alloc() : memref<4xf32>
  %b = memref.alloc() : memref<20xf32>
  memref.copy %in, %a : memref<4xf32> to memref<4xf32>
  memref.copy %a, %out : memref<4xf32> to memref<4xf32>
  return
}
