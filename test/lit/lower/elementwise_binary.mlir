// RUN: lathe-opt --lathe-lower-to-linalg %s | FileCheck %s

// Affine maps are printed first (used by @where).
// CHECK-DAG: #[[COND:.*]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>

// Unsigned operands become signless below lathe; the op picks unsigned
// arithmetic from its own types. Shifts by the width or more give 0.
// CHECK-LABEL: func.func @unsigned(%{{.*}}: tensor<4xi8>, %{{.*}}: tensor<4xi8>)
// CHECK-NOT: -1
// CHECK: arith.divui
// CHECK: arith.maxui
// CHECK: arith.cmpi ult
// CHECK: %[[SHL:.*]] = arith.shli
// CHECK: %[[WIDTH:.*]] = arith.constant 8 : i8
// CHECK: %[[FAR:.*]] = arith.cmpi uge, %{{.*}}, %[[WIDTH]]
// CHECK: arith.select %[[FAR]], %{{.*}}, %[[SHL]]
func.func @unsigned(%a: tensor<4xui8>, %b: tensor<4xui8>) -> (tensor<4xui8>, tensor<4xui8>, tensor<4xi1>, tensor<4xui8>) {
  %0 = lathe.div %a, %b : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  %1 = lathe.max %a, %b : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  %2 = lathe.less %a, %b : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xi1>
  %3 = lathe.bit_shift %a, %b {direction = "LEFT"} : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  return %0, %1, %2, %3 : tensor<4xui8>, tensor<4xui8>, tensor<4xi1>, tensor<4xui8>
}

// Integer Mod takes the divisor's sign: a non-zero remainder whose sign
// differs from the divisor's is moved by one divisor. fmod is C's remainder.
// Divisors 0 and -1 (which trap on x86) are replaced by 1; a zero divisor
// gives 0.
// CHECK-LABEL: func.func @mod
// CHECK: %[[ZERO:.*]] = arith.cmpi eq, %[[B:.*]], %c0_i32
// CHECK: %[[SAFE:.*]] = arith.select %{{.*}}, %c1_i32, %[[B]]
// CHECK: %[[REM:.*]] = arith.remsi %{{.*}}, %[[SAFE]]
// CHECK: %[[R:.*]] = arith.select %[[ZERO]], %c0_i32, %[[REM]]
// CHECK: %[[SIGNS:.*]] = arith.xori %[[R]]
// CHECK: arith.cmpi slt, %[[SIGNS]]
// CHECK: %[[FIXED:.*]] = arith.addi %[[R]]
// CHECK: arith.select %{{.*}}, %[[FIXED]], %[[R]]
// CHECK: linalg.generic
// CHECK: arith.remsi
// CHECK-NEXT: arith.select
// CHECK-NEXT: linalg.yield
func.func @mod(%a: tensor<4xi32>, %b: tensor<4xi32>) -> (tensor<4xi32>, tensor<4xi32>) {
  %0 = lathe.mod %a, %b {fmod = false} : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  %1 = lathe.mod %a, %b {fmod = true} : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  return %0, %1 : tensor<4xi32>, tensor<4xi32>
}

// Integer powers are exact (repeated squaring over the exponent's bits);
// a float base takes the exponent converted to its type.
// CHECK-LABEL: func.func @pow
// CHECK: arith.extsi %{{.*}} : i32 to i64
// CHECK: scf.while
// CHECK: arith.muli
// CHECK: arith.shrui
// CHECK: arith.sitofp %{{.*}} : i64 to f32
// CHECK: math.powf
func.func @pow(%a: tensor<4xi64>, %b: tensor<4xi32>, %f: tensor<4xf32>) -> (tensor<4xi64>, tensor<4xf32>) {
  %0 = lathe.pow %a, %b : (tensor<4xi64>, tensor<4xi32>) -> tensor<4xi64>
  %1 = lathe.pow %f, %a : (tensor<4xf32>, tensor<4xi64>) -> tensor<4xf32>
  return %0, %1 : tensor<4xi64>, tensor<4xf32>
}

// Where broadcasts all three operands.
// CHECK-LABEL: func.func @where
// CHECK: linalg.generic {indexing_maps = [#[[COND]], #[[ROW]], #[[ID]], #[[ID]]]
// CHECK: arith.select
func.func @where(%c: tensor<2x1xi1>, %x: tensor<3xf32>, %y: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = lathe.where %c, %x, %y : (tensor<2x1xi1>, tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// Comparisons give i1; float ones are ordered.
// CHECK-LABEL: func.func @compare
// CHECK: arith.cmpf oge
// CHECK: arith.cmpi sle
// CHECK: arith.xori
func.func @compare(%a: tensor<4xf32>, %b: tensor<4xi16>) -> (tensor<4xi1>, tensor<4xi1>, tensor<4xi1>) {
  %0 = lathe.greater_or_equal %a, %a : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
  %1 = lathe.less_or_equal %b, %b : (tensor<4xi16>, tensor<4xi16>) -> tensor<4xi1>
  %2 = lathe.xor %0, %1 : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  return %0, %1, %2 : tensor<4xi1>, tensor<4xi1>, tensor<4xi1>
}
