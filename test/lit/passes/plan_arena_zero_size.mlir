// RUN: lathe-opt --lathe-plan-arena %s | FileCheck %s

// A zero-element argument beside other dims (3x0x5) is passed as
// memref<0xT>: LLVM's bare-pointer convention rejects the original type.
// CHECK-LABEL: func.func @main
// CHECK-SAME: %{{.*}}: memref<0xi64> {lathe.name = "x"}
// CHECK: memref.view %arg0[%{{.*}}][] : memref<{{[0-9]+}}xi8> to memref<3x0x5xi64>
module {
  func.func @main(%x: memref<3x0x5xi64> {lathe.name = "x"}, %y: memref<3x0x5xi64> {lathe.name = "y"}) {
    memref.copy %x, %y : memref<3x0x5xi64> to memref<3x0x5xi64>
    return
  }
}
