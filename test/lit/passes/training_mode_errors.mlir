// RUN: lathe-opt --lathe-training-mode --split-input-file --verify-diagnostics %s

// Running statistics that are constants (initializers the training step
// did not turn into arguments) cannot be state.
func.func @main(%x: tensor<2x2xf32> {lathe.name = "x"}, %g: tensor<2xf32> {lathe.name = "g"}) -> (tensor<2x2xf32> {lathe.name = "y"}) {
  %m = lathe.constant dense<0.0> : tensor<2xf32>
  // expected-error @+1 {{the running mean and variance of a batch normalisation must be named function arguments}}
  %0 = lathe.batch_norm %x, %g, %g, %m, %g {epsilon = 1.0e-05 : f32} : (tensor<2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

// One running statistic updated by two batch normalisations.
func.func @main(%x: tensor<2x2xf32> {lathe.name = "x"}, %m: tensor<2xf32> {lathe.name = "m"}, %v: tensor<2xf32> {lathe.name = "v"}) -> (tensor<2x2xf32> {lathe.name = "y"}) {
  %0 = lathe.batch_norm %x, %m, %m, %m, %v {epsilon = 1.0e-05 : f32} : (tensor<2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  // expected-error @+1 {{running statistic 'm' is used by more than one batch normalisation}}
  %1 = lathe.batch_norm %0, %m, %m, %m, %v {epsilon = 1.0e-05 : f32} : (tensor<2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  return %1 : tensor<2x2xf32>
}

// -----

// One element per channel has no unbiased variance.
func.func @main(%x: tensor<1x2xf32> {lathe.name = "x"}, %m: tensor<2xf32> {lathe.name = "m"}, %v: tensor<2xf32> {lathe.name = "v"}) -> (tensor<1x2xf32> {lathe.name = "y"}) {
  // expected-error @+1 {{batch normalisation over 1 element per channel}}
  %0 = lathe.batch_norm %x, %m, %m, %m, %v {epsilon = 1.0e-05 : f32} : (tensor<1x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2xf32>
  return %0 : tensor<1x2xf32>
}

// -----

// Run twice.
// expected-error @+1 {{has a lathe.step argument already}}
func.func @main(%x: tensor<2xf32>, %s: tensor<i64> {lathe.name = "lathe.step"}) -> tensor<2xf32> {
  return %x : tensor<2xf32>
}
