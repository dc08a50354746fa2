// RUN: lathe-opt --lathe-insert-optimizer="wrt=0 kind=momentum momentum=0.5" --split-input-file %s | FileCheck %s --check-prefix=MOM
// RUN: lathe-opt --lathe-insert-optimizer="wrt=1,0 kind=adam weight-decay=0.1 clip-value=1 clip-global-norm=2" --split-input-file %s | FileCheck %s --check-prefix=ADAM
// RUN: not lathe-opt --lathe-insert-optimizer="wrt=0 kind=lbfgs" %s 2>&1 | FileCheck %s --check-prefix=KIND

// The last results are the gradients of the wrt arguments (as lathe-autodiff
// leaves them). Momentum: one velocity argument per parameter, the learning
// rate as an argument, and the gradient results replaced by the new
// parameter and the new velocity, each named like the argument it replaces.
// MOM-LABEL: func.func @main(
// MOM-SAME: %[[W:[a-z0-9]+]]: tensor<3xf32> {lathe.name = "w"}, %[[B:[a-z0-9]+]]: tensor<f32> {lathe.name = "b"}, %[[LR:[a-z0-9]+]]: tensor<f32> {lathe.name = "lathe.lr"}, %[[V:[a-z0-9]+]]: tensor<3xf32> {lathe.name = "optimizer/w/velocity"})
// MOM-SAME: -> (tensor<f32> {lathe.name = "loss"}, tensor<f32> {lathe.name = "b2"}, tensor<f32>, tensor<3xf32> {lathe.name = "w"}, tensor<3xf32> {lathe.name = "optimizer/w/velocity"})
// MOM: %[[MU:.*]] = lathe.constant dense<5.000000e-01> : tensor<f32>
// MOM: %[[MV:.*]] = lathe.mul %[[MU]], %[[V]]
// MOM: %[[NV:.*]] = lathe.add %[[MV]], %[[G:.*]] :
// MOM: %[[STEP:.*]] = lathe.mul %[[LR]], %[[NV]]
// MOM: %[[NW:.*]] = lathe.sub %[[W]], %[[STEP]]
// MOM: return %{{.*}}, %{{.*}}, %{{.*}}, %[[NW]], %[[NV]] :

// Adam on two parameters: weight decay, clipping by value, then by global
// norm (over both), one step counter shared by all parameters and bias
// corrections computed once; the state results end with the counter.
// ADAM-LABEL: func.func @main(
// ADAM-SAME: {lathe.name = "lathe.lr"}, %[[T:[a-z0-9]+]]: tensor<f32> {lathe.name = "optimizer/t"}, %{{.*}}: tensor<f32> {lathe.name = "optimizer/b/m"}, %{{.*}}: tensor<f32> {lathe.name = "optimizer/b/v"}, %{{.*}}: tensor<3xf32> {lathe.name = "optimizer/w/m"}, %{{.*}}: tensor<3xf32> {lathe.name = "optimizer/w/v"})
// ADAM-SAME: -> (tensor<f32> {lathe.name = "loss"}, tensor<f32> {lathe.name = "b2"}, tensor<f32> {lathe.name = "b"}, tensor<3xf32> {lathe.name = "w"}, tensor<f32> {lathe.name = "optimizer/b/m"}, tensor<f32> {lathe.name = "optimizer/b/v"}, tensor<3xf32> {lathe.name = "optimizer/w/m"}, tensor<3xf32> {lathe.name = "optimizer/w/v"}, tensor<f32> {lathe.name = "optimizer/t"})
// ADAM: lathe.mul %{{.*}}, %arg1
// ADAM: lathe.mul %{{.*}}, %arg0
// ADAM: lathe.min
// ADAM: lathe.max
// ADAM: lathe.reduce_sum_square
// ADAM: lathe.reduce_sum_square
// ADAM: lathe.sqrt
// ADAM: %[[T1:.*]] = lathe.add %[[T]],
// ADAM: lathe.pow %{{.*}}, %[[T1]]
// ADAM: lathe.pow %{{.*}}, %[[T1]]
// ADAM-NOT: lathe.pow
// ADAM: return {{.*}}, %[[T1]] :

// KIND: error: lathe-insert-optimizer: unknown kind 'lbfgs'
func.func @main(%w: tensor<3xf32> {lathe.name = "w"}, %b: tensor<f32> {lathe.name = "b"})
    -> (tensor<f32> {lathe.name = "loss"}, tensor<f32> {lathe.name = "b2"}, tensor<f32>, tensor<3xf32>) {
  %0 = lathe.mul %w, %w : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %1 = lathe.reduce_sum %0 {axes = array<i64: 0>, keepdims = false} : (tensor<3xf32>) -> tensor<f32>
  %2 = lathe.add %w, %w : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %1, %b, %b, %2 : tensor<f32>, tensor<f32>, tensor<f32>, tensor<3xf32>
}
