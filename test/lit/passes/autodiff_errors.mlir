// RUN: lathe-opt --lathe-autodiff="wrt=0" --split-input-file --verify-diagnostics %s

// An op on the path without a VJP stops the pass, naming the op; in a
// compiled model the location is the ONNX node.
func.func @main(%x: tensor<2x3xf32>) -> tensor<f32> {
  // expected-error @+1 {{no gradient for lathe.hardmax yet}}
  %c = lathe.hardmax %x {axis = 1} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %l = lathe.reduce_sum %c {axes = array<i64: 0, 1>, keepdims = false} : (tensor<2x3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// An op without a VJP that does not lie on the path is fine: here the
// hardmax only depends on w, which is not differentiated.
func.func @main(%x: tensor<2x2xf32>, %w: tensor<1x3xf32>) -> (tensor<f32>, tensor<1x3xf32>) {
  %c = lathe.hardmax %w {axis = 1} : (tensor<1x3xf32>) -> tensor<1x3xf32>
  %l = lathe.reduce_sum %x {axes = array<i64: 0, 1>, keepdims = false} : (tensor<2x2xf32>) -> tensor<f32>
  return %l, %c : tensor<f32>, tensor<1x3xf32>
}

// -----

// Only float results can be differentiated.
// expected-error @+1 {{lathe-autodiff: result 0 is not a float tensor}}
func.func @main(%x: tensor<2xf32>) -> tensor<2xi1> {
  %c = lathe.greater %x, %x : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xi1>
  return %c : tensor<2xi1>
}
