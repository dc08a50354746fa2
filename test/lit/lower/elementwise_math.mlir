// RUN: lathe-opt --lathe-lower-to-linalg %s | FileCheck %s

// f32 sin/cos are reduced in f64 to [-pi/4, pi/4] (q = round(x * 2/pi)),
// then sin or cos of the rest is picked by the quadrant q mod 4. asin goes
// through atan2; f64 keeps the plain math op (libm).
// CHECK-LABEL: func.func @trig
// CHECK: arith.extf %{{.*}} : f32 to f64
// CHECK: math.roundeven %{{.*}} : f64
// CHECK: math.fma
// CHECK: math.fma
// CHECK: %[[R:.*]] = arith.truncf %{{.*}} : f64 to f32
// CHECK: math.sin %[[R]] : f32
// CHECK: math.cos %[[R]] : f32
// CHECK: math.floor %{{.*}} : f64
// CHECK: arith.select
// CHECK: math.sqrt
// CHECK: math.atan2
// CHECK: math.cos %{{.*}} : f64
func.func @trig(%x: tensor<4xf32>, %y: tensor<4xf64>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf64>) {
  %0 = lathe.sin %x : (tensor<4xf32>) -> tensor<4xf32>
  %1 = lathe.asin %x : (tensor<4xf32>) -> tensor<4xf32>
  %2 = lathe.cos %y : (tensor<4xf64>) -> tensor<4xf64>
  return %0, %1, %2 : tensor<4xf32>, tensor<4xf32>, tensor<4xf64>
}

// Cast: floats to integers truncate; unsigned sources widen with zeros; bool
// is 0 or 1; anything to bool is x != 0 (unordered: NaN is true); f32 to
// bf16 keeps the high 16 bits (NaN stays NaN).
// CHECK-LABEL: func.func @cast
// CHECK: arith.fptosi %{{.*}} : f32 to i32
// CHECK: arith.extui %{{.*}} : i8 to i16
// CHECK: arith.uitofp %{{.*}} : i1 to f64
// CHECK: arith.cmpf une
// CHECK: arith.bitcast %{{.*}} : f32 to i32
// CHECK: arith.shrui
// CHECK: arith.trunci %{{.*}} : i32 to i16
// CHECK: arith.cmpf uno
// CHECK: arith.bitcast %{{.*}} : i16 to bf16
func.func @cast(%x: tensor<4xf32>, %u: tensor<4xui8>, %b: tensor<4xi1>) -> (tensor<4xi32>, tensor<4xui16>, tensor<4xf64>, tensor<4xi1>, tensor<4xbf16>, tensor<4xi8>) {
  %0 = lathe.cast %x {to = i32} : (tensor<4xf32>) -> tensor<4xi32>
  %1 = lathe.cast %u {to = ui16} : (tensor<4xui8>) -> tensor<4xui16>
  %2 = lathe.cast %b {to = f64} : (tensor<4xi1>) -> tensor<4xf64>
  %3 = lathe.cast %x {to = i1} : (tensor<4xf32>) -> tensor<4xi1>
  %4 = lathe.cast %x {to = bf16} : (tensor<4xf32>) -> tensor<4xbf16>
  %5 = lathe.cast %u {to = i8} : (tensor<4xui8>) -> tensor<4xi8>
  return %0, %1, %2, %3, %4, %5 : tensor<4xi32>, tensor<4xui16>, tensor<4xf64>, tensor<4xi1>, tensor<4xbf16>, tensor<4xi8>
}

// CHECK-LABEL: func.func @predicates
// CHECK: arith.cmpf uno
// CHECK: arith.cmpf oeq, %{{.*}}, %{{.*}}
// CHECK-NOT: 0xFF800000
// CHECK: arith.cmpi slt
// CHECK: math.roundeven
func.func @predicates(%x: tensor<4xf32>, %i: tensor<4xi32>) -> (tensor<4xi1>, tensor<4xi1>, tensor<4xi32>, tensor<4xf32>) {
  %0 = lathe.is_nan %x : (tensor<4xf32>) -> tensor<4xi1>
  %1 = lathe.is_inf %x {detect_positive = true, detect_negative = false} : (tensor<4xf32>) -> tensor<4xi1>
  %2 = lathe.sign %i : (tensor<4xi32>) -> tensor<4xi32>
  %3 = lathe.round %x : (tensor<4xf32>) -> tensor<4xf32>
  return %0, %1, %2, %3 : tensor<4xi1>, tensor<4xi1>, tensor<4xi32>, tensor<4xf32>
}
