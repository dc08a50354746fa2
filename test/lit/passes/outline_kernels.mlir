// RUN: lathe-opt --lathe-outline-kernels %s | FileCheck %s

// Each loop nest of @main becomes a no_inline function taking the buffers
// it uses; the views and constants it reads are cloned into it (so its
// offsets stay constants) and disappear from @main.
// CHECK: func.func @main(%[[ARENA:.*]]: memref<?xi8>, %[[IN:.*]]: memref<4xf32>, %[[OUT:.*]]: memref<4xf32>)
// CHECK-NEXT: call @lathe_kernel_0(%[[ARENA]], %[[IN]]) : (memref<?xi8>, memref<4xf32>) -> ()
// CHECK-NEXT: call @lathe_kernel_1(%[[ARENA]], %[[OUT]]) : (memref<?xi8>, memref<4xf32>) -> ()
// CHECK-NEXT: return
// CHECK: func.func private @lathe_kernel_0(%[[A0:.*]]: memref<?xi8>, %[[I0:.*]]: memref<4xf32>) attributes {no_inline}
// CHECK: %[[C64:.*]] = arith.constant 64 : index
// CHECK: %[[V0:.*]] = memref.view %[[A0]][%[[C64]]][] : memref<?xi8> to memref<4xf32>
// CHECK: linalg.generic {{.*}} ins(%[[I0]] : memref<4xf32>) outs(%[[V0]] : memref<4xf32>)
// CHECK: math.exp
// CHECK: func.func private @lathe_kernel_1(%[[A1:.*]]: memref<?xi8>, %[[O1:.*]]: memref<4xf32>) attributes {no_inline}
// CHECK: memref.view %[[A1]]
// CHECK: linalg.copy
#map = affine_map<(d0) -> (d0)>
func.func @main(%arena: memref<?xi8>, %in: memref<4xf32>, %out: memref<4xf32>) {
  %c64 = arith.constant 64 : index
  %v = memref.view %arena[%c64][] : memref<?xi8> to memref<4xf32>
  linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]}
      ins(%in : memref<4xf32>) outs(%v : memref<4xf32>) {
  ^bb0(%x: f32, %y: f32):
    %e = math.exp %x : f32
    linalg.yield %e : f32
  }
  linalg.copy ins(%v : memref<4xf32>) outs(%out : memref<4xf32>)
  return
}
