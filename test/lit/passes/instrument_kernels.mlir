// RUN: lathe-opt --lathe-instrument-kernels --split-input-file %s | FileCheck %s

// Every kernel call of @main is bracketed by two clock reads; the elapsed
// nanoseconds and one call go to the kernel's row of the public counters
// global (slot = order of the calls). Other calls are left alone. The
// module attribute describes the slots: the ONNX nodes in the loop nest's
// locations (not the views'), its linalg ops, its fusion group, and its
// FLOPs per call (body float ops x static trip counts; -1 when a trip count
// is not static).
// CHECK-LABEL: module attributes {lathe.profile = [
// CHECK-SAME: {flops = 8 : i64, fusion = "epilogue", kernel = "lathe_kernel_0", nodes = ["conv1", "relu1"], ops = "elementwise"}
// CHECK-SAME: {flops = -1 : i64, fusion = "", kernel = "lathe_kernel_1", nodes = ["loop"], ops = "scf.for"}
// CHECK-SAME: {flops = 144 : i64, fusion = "", kernel = "lathe_kernel_2", nodes = ["mm"], ops = "matmul"}
// CHECK-SAME: {flops = 18 : i64, fusion = "", kernel = "lathe_kernel_3", nodes = ["conv", "sum"], ops = "conv+reduce"}]}
// CHECK: func.func private @lathe_profile_clock() -> i64
// CHECK: memref.global @lathe_profile_counters : memref<4x2xi64> = dense<0>
// CHECK-LABEL: func.func @main(
// CHECK: call @helper()
// CHECK-NEXT: %[[T0:.*]] = call @lathe_profile_clock() : () -> i64
// CHECK-NEXT: call @lathe_kernel_0(
// CHECK-NEXT: %[[T1:.*]] = call @lathe_profile_clock() : () -> i64
// CHECK-NEXT: %[[DT:.*]] = arith.subi %[[T1]], %[[T0]] : i64
// CHECK-NEXT: %[[G:.*]] = memref.get_global @lathe_profile_counters : memref<4x2xi64>
// CHECK-NEXT: %[[ROW:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[NS:.*]] = memref.load %[[G]][%[[ROW]], %[[C0]]] : memref<4x2xi64>
// CHECK-NEXT: %[[NS2:.*]] = arith.addi %[[NS]], %[[DT]] : i64
// CHECK-NEXT: memref.store %[[NS2]], %[[G]][%[[ROW]], %[[C0]]] : memref<4x2xi64>
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1 : i64
// CHECK-NEXT: %[[C1:.*]] = arith.constant 1 : index
// CHECK-NEXT: %[[N:.*]] = memref.load %[[G]][%[[ROW]], %[[C1]]] : memref<4x2xi64>
// CHECK-NEXT: %[[N2:.*]] = arith.addi %[[N]], %[[ONE]] : i64
// CHECK-NEXT: memref.store %[[N2]], %[[G]][%[[ROW]], %[[C1]]] : memref<4x2xi64>
// CHECK-NEXT: call @lathe_profile_clock()
// CHECK-NEXT: call @lathe_kernel_1(
// CHECK: arith.constant 1 : index
// CHECK: call @lathe_profile_clock()
// CHECK-NEXT: call @lathe_kernel_2(
// CHECK: %[[ROW2:.*]] = arith.constant 2 : index
// CHECK: call @lathe_kernel_3(
// CHECK: %[[ROW3:.*]] = arith.constant 3 : index
// CHECK: return
#map = affine_map<(d0) -> (d0)>
module {
  func.func private @helper()
  func.func @main(%in: memref<4xf32>, %out: memref<4xf32>, %n: index,
                  %a: memref<2x3xf32>, %b: memref<3x4xf32>, %c: memref<2x4xf32>) {
    call @helper() : () -> ()
    call @lathe_kernel_0(%in, %out) : (memref<4xf32>, memref<4xf32>) -> ()
    call @lathe_kernel_1(%out, %n) : (memref<4xf32>, index) -> ()
    call @lathe_kernel_2(%a, %b, %c) : (memref<2x3xf32>, memref<3x4xf32>, memref<2x4xf32>) -> ()
    call @lathe_kernel_3(%in, %a, %out) : (memref<4xf32>, memref<2x3xf32>, memref<4xf32>) -> ()
    return
  }
  // An epilogue group: two float ops per point, 4 points.
  func.func private @lathe_kernel_0(%in: memref<4xf32>, %out: memref<4xf32>) attributes {no_inline} {
    %v = memref.subview %out[0] [4] [1] : memref<4xf32> to memref<4xf32, strided<[1]>> loc("producer_of_out")
    linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]}
        ins(%in : memref<4xf32>) outs(%v : memref<4xf32, strided<[1]>>) {
    ^bb0(%x: f32, %y: f32):
      %e = arith.mulf %x, %x : f32 loc("conv1")
      %zero = arith.constant 0.0 : f32
      %r = arith.maximumf %e, %zero : f32 loc("relu1")
      linalg.yield %r : f32
    } loc(fused<{lathe.fusion_group = 3 : i64, lathe.fusion_kind = "epilogue"}>["conv1"])
    return
  }
  // A loop with a dynamic trip count: FLOPs unknown.
  func.func private @lathe_kernel_1(%buf: memref<4xf32>, %n: index) attributes {no_inline} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    scf.for %i = %c0 to %n step %c1 {
      %x = memref.load %buf[%i] : memref<4xf32>
      %y = arith.addf %x, %x : f32
      memref.store %y, %buf[%i] : memref<4xf32>
    } loc("loop")
    return
  }
  // 3 trips of a 2x4x3 matmul (mul + add per point): 3 * 24 * 2 = 144.
  func.func private @lathe_kernel_2(%a: memref<2x3xf32>, %b: memref<3x4xf32>, %c: memref<2x4xf32>) attributes {no_inline} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c3 = arith.constant 3 : index
    scf.for %i = %c0 to %c3 step %c1 {
      linalg.matmul ins(%a, %b : memref<2x3xf32>, memref<3x4xf32>) outs(%c : memref<2x4xf32>) loc("mm")
    } loc("mm")
    return
  }
  // Generic ops by their shape: a product summed over a window (2 x 3
  // points, 2 ops each) and a plain sum (2 x 3 points, 1 op each).
  func.func private @lathe_kernel_3(%x: memref<4xf32>, %w: memref<2x3xf32>, %y: memref<4xf32>) attributes {no_inline} {
    %xs = memref.subview %x[0] [2] [1] : memref<4xf32> to memref<2xf32, strided<[1]>>
    %ws = memref.subview %w[0, 0] [1, 3] [1, 1] : memref<2x3xf32> to memref<3xf32, strided<[1]>>
    %x2 = memref.subview %x[0] [4] [1] : memref<4xf32> to memref<4xf32, strided<[1]>>
    linalg.generic {indexing_maps = [affine_map<(i, k) -> (i + k)>, affine_map<(i, k) -> (k)>, affine_map<(i, k) -> (i)>],
                    iterator_types = ["parallel", "reduction"]}
        ins(%x2, %ws : memref<4xf32, strided<[1]>>, memref<3xf32, strided<[1]>>) outs(%xs : memref<2xf32, strided<[1]>>) {
    ^bb0(%a: f32, %b: f32, %acc: f32):
      %p = arith.mulf %a, %b : f32
      %s = arith.addf %acc, %p : f32
      linalg.yield %s : f32
    } loc("conv")
    linalg.generic {indexing_maps = [affine_map<(i, k) -> (i, k)>, affine_map<(i, k) -> (k)>],
                    iterator_types = ["reduction", "parallel"]}
        ins(%w : memref<2x3xf32>) outs(%ws : memref<3xf32, strided<[1]>>) {
    ^bb0(%a: f32, %acc: f32):
      %s = arith.addf %acc, %a : f32
      linalg.yield %s : f32
    } loc("sum")
    return
  }
}

// -----

// No kernel: an empty description and no counters.
// CHECK-LABEL: module attributes {lathe.profile = []}
// CHECK-NOT: lathe_profile_counters
// CHECK: func.func @main
func.func @main(%in: memref<4xf32>) {
  return
}
