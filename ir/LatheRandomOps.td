//===- LatheRandomOps.td - lathe random number generators ----*- tablegen -*-===//
//
// Included from LatheOps.td, after the op base classes.
//
// All generators are counter-based: element i (row-major) of a result is a
// function of (seed, i) only, computed by SplitMix64's mixing function of
// seed-derived key + (i + 1) * golden ratio (see passes/LowerRandom.cpp). The
// same seed gives the same values, bit for bit, in every run and on every
// machine; they are not numpy's values (ONNX does not specify the
// generator). `seed` holds the bits of ONNX's float seed, or the importer's
// fixed default.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RANDOM_OPS_TD
#define LATHE_RANDOM_OPS_TD

def Lathe_RandomUniformOp : Lathe_InferOp<"random_uniform"> {
  let summary = "uniform samples in [low, high) (ONNX RandomUniform[Like])";
  let description = [{
    A tensor of `shape` and element type `dtype` (a float type). Each value
    is `low + u * (high - low)` with `u` in `[0, 1)` on the type's mantissa
    grid (24 bits for f32, 53 for f64).
  }];
  let arguments = (ins DenseI64ArrayAttr:$shape, TypeAttr:$dtype,
                   F32Attr:$low, F32Attr:$high, I64Attr:$seed);
  let results = (outs Lathe_FloatTensor:$output);
}

def Lathe_RandomNormalOp : Lathe_InferOp<"random_normal"> {
  let summary = "normal samples (ONNX RandomNormal[Like])";
  let description = [{
    A tensor of `shape` and float element type `dtype`, `mean + scale * z`
    with `z` standard normal by the Box-Muller transform of two uniform
    streams.
  }];
  let arguments = (ins DenseI64ArrayAttr:$shape, TypeAttr:$dtype,
                   F32Attr:$mean, F32Attr:$scale, I64Attr:$seed);
  let results = (outs Lathe_FloatTensor:$output);
}

def Lathe_BernoulliOp : Lathe_InferOp<"bernoulli"> {
  let summary = "Bernoulli draws with the input's probabilities (ONNX Bernoulli)";
  let description = [{
    `output[i] = u[i] < input[i] ? 1 : 0` with `u` uniform in `[0, 1)`, as
    element type `dtype` (float, integer or i1).
  }];
  let arguments = (ins Lathe_FloatTensor:$input, TypeAttr:$dtype,
                   I64Attr:$seed);
  let results = (outs Lathe_AnyTensor:$output);
}

def Lathe_TrainingDropoutOp
    : Lathe_InferOp<"training_dropout", [Lathe_VJP]> {
  let summary = "inverted dropout with a random mask (ONNX Dropout, training)";
  let description = [{
    When the scalar `training` is true, each element is kept with probability
    `1 - ratio` (`mask = u >= ratio`, `u` uniform in `[0, 1)`) and kept
    elements are scaled by `1 / (1 - ratio)`: `output = mask ? x / (1 -
    ratio) : 0`. When `training` is false, `output = x` and `mask` is all
    true. `ratio` is a scalar of any float type; both scalars may be runtime
    values.

    Without `step` (ONNX Dropout as imported) the stream key is
    `mix(seed)`, a compile-time constant: every run draws the same mask.
    With the optional 0-d i64 operand `step` (the training step counter,
    added by `lathe-training-mode`) and the op's ordinal `op_index` in its
    function, the key is a run-time value,

      key = mix(mix(mix(seed) ^ (2^32 + op_index)) ^ step),

    which is tools/lib/CounterRng.h's `counterRandom(seed, 2^32 + op_index,
    step, i)` for element i: a mask is a pure function of (seed, step, op),
    reproducible bit for bit, and differs between steps and between the
    dropout ops of one graph. Streams from 2^32 on are reserved for dropout,
    away from the training driver's small stream numbers. `step` and
    `op_index` come together.
  }];
  let arguments = (ins Lathe_FloatTensor:$input, Lathe_FloatTensor:$ratio,
                   Lathe_BoolTensor:$training,
                   Optional<RankedTensorOf<[I64]>>:$step, I64Attr:$seed,
                   OptionalAttr<I64Attr>:$op_index);
  let results = (outs Lathe_FloatTensor:$output, Lathe_BoolTensor:$mask);
  let assemblyFormat = [{
    $input `,` $ratio `,` $training (`,` $step^)? attr-dict `:`
    functional-type(operands, results)
  }];
}

#endif // LATHE_RANDOM_OPS_TD
