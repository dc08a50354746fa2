// RUN: lathe-opt --lathe-lower-copies %s | FileCheck %s

// memref.copy becomes linalg.copy; a copy between equal views of one
// buffer (what an in-place tensor.insert_slice bufferizes to) is erased,
// and one between different views stays.
// CHECK-LABEL: func.func @copies(
// CHECK-SAME: %[[ARENA:.*]]: memref<4096xi8>, %[[X:.*]]: memref<4x4xf32>
// CHECK: %[[A:.*]] = memref.view %[[ARENA]][%c0{{.*}}][] : memref<4096xi8> to memref<8x8xf32>
// CHECK: %[[S:.*]] = memref.subview %[[A]][1, 1] [4, 4] [1, 1]
// CHECK: linalg.copy ins(%[[X]] : memref<4x4xf32>) outs(%[[S]] :
// CHECK-NOT: {{memref|linalg}}.copy
// CHECK: %[[OTHER:.*]] = memref.subview %{{.*}}[2, 2] [4, 4] [1, 1]
// CHECK: linalg.copy ins(%{{.*}} : memref<4x4xf32, strided<[8, 1], offset: 9>>) outs(%[[OTHER]] :
// CHECK-NEXT: return
func.func @copies(%arena: memref<4096xi8>, %x: memref<4x4xf32>) {
  %c0 = arith.constant 0 : index
  %c0_0 = arith.constant 0 : index
  %a = memref.view %arena[%c0][] : memref<4096xi8> to memref<8x8xf32>
  %s = memref.subview %a[1, 1] [4, 4] [1, 1] : memref<8x8xf32> to memref<4x4xf32, strided<[8, 1], offset: 9>>
  memref.copy %x, %s : memref<4x4xf32> to memref<4x4xf32, strided<[8, 1], offset: 9>>
  %b = memref.view %arena[%c0_0][] : memref<4096xi8> to memref<8x8xf32>
  %t = memref.subview %b[1, 1] [4, 4] [1, 1] : memref<8x8xf32> to memref<4x4xf32, strided<[8, 1], offset: 9>>
  memref.copy %s, %t : memref<4x4xf32, strided<[8, 1], offset: 9>> to memref<4x4xf32, strided<[8, 1], offset: 9>>
  linalg.copy ins(%t : memref<4x4xf32, strided<[8, 1], offset: 9>>) outs(%s : memref<4x4xf32, strided<[8, 1], offset: 9>>)
  %u = memref.subview %b[2, 2] [4, 4] [1, 1] : memref<8x8xf32> to memref<4x4xf32, strided<[8, 1], offset: 18>>
  memref.copy %s, %u : memref<4x4xf32, strided<[8, 1], offset: 9>> to memref<4x4xf32, strided<[8, 1], offset: 18>>
  return
}
