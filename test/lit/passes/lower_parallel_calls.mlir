// RUN: lathe-opt --lathe-lower-parallel-calls %s | FileCheck %s

// A call to a kernel cut into tasks becomes a call to the runtime's thread
// pool: the arguments go into a frame on the caller's stack (allocated in
// its entry block), and a trampoline unpacks them for each range of tasks.
// CHECK: llvm.func @main(%[[P:.*]]: !llvm.ptr, %[[S:.*]]: f32)
// CHECK: %[[ONE:.*]] = llvm.mlir.constant(1 : i64) : i64
// CHECK: %[[FRAME:.*]] = llvm.alloca %[[ONE]] x !llvm.struct<(ptr, f32)>
// CHECK: %[[F0:.*]] = llvm.getelementptr %[[FRAME]][0, 0]
// CHECK: llvm.store %[[P]], %[[F0]]
// CHECK: %[[F1:.*]] = llvm.getelementptr %[[FRAME]][0, 1]
// CHECK: llvm.store %[[S]], %[[F1]]
// CHECK: %[[FN:.*]] = llvm.mlir.addressof @lathe_kernel_0_task
// CHECK: %[[N:.*]] = llvm.mlir.constant(6 : i64) : i64
// CHECK: llvm.call @lathe_parallel_for(%[[FN]], %[[FRAME]], %[[N]])
// A kernel that is not cut is called as before.
// CHECK-NEXT: llvm.call @lathe_kernel_1(%[[P]])
// CHECK: llvm.func @lathe_kernel_0(%{{.*}}: !llvm.ptr, %{{.*}}: f32, %{{.*}}: i64, %{{.*}}: i64) attributes {no_inline}
// CHECK: llvm.func @lathe_parallel_for(!llvm.ptr, !llvm.ptr, i64)
// CHECK: llvm.func internal @lathe_kernel_0_task(%[[A:.*]]: !llvm.ptr, %[[B:.*]]: i64, %[[E:.*]]: i64)
// CHECK: %[[G0:.*]] = llvm.getelementptr %[[A]][0, 0]
// CHECK: %[[V0:.*]] = llvm.load %[[G0]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[G1:.*]] = llvm.getelementptr %[[A]][0, 1]
// CHECK: %[[V1:.*]] = llvm.load %[[G1]] : !llvm.ptr -> f32
// CHECK: llvm.call @lathe_kernel_0(%[[V0]], %[[V1]], %[[B]], %[[E]])
// CHECK-NEXT: llvm.return
module {
  llvm.func @main(%p: !llvm.ptr, %s: f32) {
    %c0 = llvm.mlir.constant(0 : i64) : i64
    %c6 = llvm.mlir.constant(6 : i64) : i64
    llvm.call @lathe_kernel_0(%p, %s, %c0, %c6) : (!llvm.ptr, f32, i64, i64) -> ()
    llvm.call @lathe_kernel_1(%p) : (!llvm.ptr) -> ()
    llvm.return
  }
  llvm.func @lathe_kernel_0(%p: !llvm.ptr, %s: f32, %b: i64, %e: i64) attributes {lathe.parallel_tasks = 6 : i64, no_inline} {
    llvm.return
  }
  llvm.func @lathe_kernel_1(%p: !llvm.ptr) attributes {no_inline} {
    llvm.return
  }
}
