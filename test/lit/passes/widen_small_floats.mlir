// RUN: lathe-opt --lathe-widen-small-floats %s | FileCheck %s

#map = affine_map<(d0) -> (d0)>

// An f16 body computes in f32 and rounds once, at the yield.
// CHECK-LABEL: func.func @sigmoid_f16
// CHECK: linalg.generic
// CHECK: ^bb0(%[[X:.*]]: f16, %{{.*}}: f16):
// CHECK: %[[W:.*]] = arith.extf %[[X]] : f16 to f32
// CHECK: arith.negf %[[W]] : f32
// CHECK: math.exp %{{.*}} : f32
// CHECK: arith.addf %{{.*}} : f32
// CHECK: %[[D:.*]] = arith.divf %{{.*}} : f32
// CHECK-NOT: arith.extf
// CHECK: %[[R:.*]] = arith.truncf %[[D]] : f32 to f16
// CHECK-NEXT: linalg.yield %[[R]] : f16
func.func @sigmoid_f16(%x: tensor<8xf16>) -> tensor<8xf16> {
  %init = tensor.empty() : tensor<8xf16>
  %y = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]}
      ins(%x : tensor<8xf16>) outs(%init : tensor<8xf16>) {
  ^bb0(%a: f16, %out: f16):
    %one = arith.constant 1.0 : f16
    %n = arith.negf %a : f16
    %e = math.exp %n : f16
    %s = arith.addf %one, %e : f16
    %r = arith.divf %one, %s : f16
    linalg.yield %r : f16
  } -> tensor<8xf16>
  return %y : tensor<8xf16>
}

// Comparisons extend their operands and keep the i1 result; bf16 as f16.
// CHECK-LABEL: func.func @compare_bf16
// CHECK: %[[A:.*]] = arith.extf %arg0 : bf16 to f32
// CHECK: %[[B:.*]] = arith.extf %arg1 : bf16 to f32
// CHECK: arith.cmpf olt, %[[A]], %[[B]] : f32
func.func @compare_bf16(%a: bf16, %b: bf16) -> i1 {
  %c = arith.cmpf olt, %a, %b : bf16
  return %c : i1
}

// f32 code is left alone.
// CHECK-LABEL: func.func @f32_untouched
// CHECK-NEXT: arith.addf %arg0, %arg1 : f32
func.func @f32_untouched(%a: f32, %b: f32) -> f32 {
  %c = arith.addf %a, %b : f32
  return %c : f32
}
