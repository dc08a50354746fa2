//===- Passes.td - lathe passes ----------------------------*- tablegen -*-===//

#ifndef LATHE_PASSES_TD
#define LATHE_PASSES_TD

include "mlir/Pass/PassBase.td"

def Simplify : Pass<"lathe-simplify", "mlir::ModuleOp"> {
  let summary = "Apply lathe's algebraic identities (folders and canonicalization patterns)";
  let description = [{
    Runs the folders and canonicalization patterns of the lathe ops with the
    greedy driver (upstream `canonicalize` picks the same ones up):
    `x*1`, `1*x`, `x+0`, `0+x`, `x-0`, `x/1` and `x**1` become `x` when the
    constant is all ones/zeros and the result has exactly x's type (a
    constant that broadcasts x to a larger shape keeps the op; `x*0` is never
    folded, as NaN and inf would change); Identity, inference Dropout, a
    Cast to the same type, an Expand or Reshape to the same shape and the
    identity Transpose are removed; a Transpose of a Transpose becomes one
    with the composed permutation; chains of Reshape and Flatten (Squeeze
    and Unsqueeze import as Reshape) become one Reshape; a 2-D Transpose
    feeding Gemm becomes its transA/transB flag. Unused pure ops go.

    Float note: `x + 0.0` gives +0.0 for `x = -0.0`, so removing it changes
    the sign of a zero; ONNX runtimes fold it anyway. `x*1`, `x-0`, `x/1`
    and `x**1` are exact.
  }];
  let dependentDialects = ["lathe::LatheDialect"];
}

def FoldBatchNorm : Pass<"lathe-fold-batchnorm", "mlir::ModuleOp"> {
  let summary = "Fold inference BatchNormalization into the producing layer";
  let description = [{
    With constant parameters, `scale = gamma / sqrt(var + eps)` and
    `shift = beta - mean * scale` (computed in double, rounded once to the
    tensor's element type). A `lathe.batch_norm` whose input is the only use
    of a Conv, ConvTranspose, Gemm or 2-D MatMul with constant weights (and
    bias) scales the weights per output channel and becomes the bias:
    Conv `W'[co] = W[co] * scale[co]`; ConvTranspose (weights
    `[Cin, Cout/group, k...]`) scales axis 1 within each group; Gemm scales
    the columns of op(B) and gets `C' = beta * C * scale + shift` with
    beta = 1; a 2-D MatMul becomes a Gemm with `C = shift`. The channel axis
    of batch_norm is 1, which is the matmul's column axis only for rank 2
    outputs. Any other batch_norm with constant parameters becomes
    `x * scale + shift` with constants shaped `[C, 1, ..., 1]`, which
    elementwise fusion turns into one loop. New constants carry the unit
    attribute `lathe.folded`. Training-mode batch norm
    (`lathe.batch_norm_training`) is left alone.
  }];
  let dependentDialects = ["lathe::LatheDialect"];
}

def FoldConstants : Pass<"lathe-fold-constants", "mlir::ModuleOp"> {
  let summary = "Evaluate every op whose operands are all constants";
  let description = [{
    Collects the ops of each function whose operands are `lathe.constant`s
    or results of other such ops, compiles them as a function of their own
    through the normal pipeline and code generator, runs it, and replaces
    the values the rest of the graph reads with `lathe.constant`s marked
    `lathe.folded`. Using the code generator (as TVM's FoldConstant and
    Glow's constant folding do) covers every op, shape subgraphs included,
    and gives exactly the values the compiled code would compute.

    Ops whose results are larger than their operands together and larger
    than `grow-limit` bytes (Expand, Tile, broadcasts) are left to run
    time: folding them would bloat the parameters.

    ```mlir
    %0 = lathe.constant dense<[1.0, 2.0]> : tensor<2xf32>
    %1 = lathe.exp %0 : (tensor<2xf32>) -> tensor<2xf32>
    // becomes
    %1 = lathe.constant {lathe.folded} dense<[2.71828175, 7.38905621]> : tensor<2xf32>
    ```
  }];
  let options = [
    Option<"growLimit", "grow-limit", "int64_t", "1 << 20",
           "Largest result in bytes that may be larger than its operands">
  ];
}

def FuseOps : Pass<"lathe-fuse", "mlir::ModuleOp"> {
  let summary = "Group lathe ops into kernels (fusion groups)";
  let description = [{
    Decides which ops run as one loop nest, before any loop exists:
    - epilogue: a Conv, ConvTranspose, Gemm or MatMul with the chain of
      elementwise ops that reads only its result and keeps its shape (bias
      add, scale, residual add, Relu/LeakyRelu/Sigmoid/Tanh/Elu/Clip...);
    - softmax: a Softmax or LogSoftmax with the elementwise ops that feed
      only it (computed inside its reduction pass);
    - elementwise: connected elementwise ops of one shape where each
      producer has one reader.
    Every member gets `lathe.fusion_group` (the group's number, in program
    order) and `lathe.fusion_kind`, and the group in its location, from
    which `lathe-fuse-groups` realises it after lowering.

    ```mlir
    %c = lathe.conv %x, %w, %b {...}
    %r = lathe.relu %c
    // becomes
    %c = lathe.conv %x, %w, %b {lathe.fusion_group = 0, lathe.fusion_kind = "epilogue", ...}
    %r = lathe.relu %c {lathe.fusion_group = 0, lathe.fusion_kind = "epilogue"}
    ```
  }];
}

def TransposeWeights : Pass<"lathe-transpose-weights", "mlir::ModuleOp"> {
  let summary = "Store a contraction's constant W of W^T along the output's columns";
  let description = [{
    Runs on linalg on tensors, after lowering. A contraction
    `C[.., n] += A[.., k] * W[n, k]` (Gemm with transB, so every
    `nn.Linear`; MatMul by a transposed constant; the input and recurrent
    products of RNN, GRU and LSTM) whose W is a constant, or a static slice
    of one, reads a transposed copy of the constant, `W'[k, n]`, made at
    compile time. lathe-tile-matmul then reads W' along n, as it reads
    every other right-hand factor: with W contiguous along k it takes dot
    products (a horizontal reduction per output) or transposes W into its
    panel on every call. A product with fewer than `min-rows` rows of A
    (a matrix-vector product) keeps W as it is: it reads W once either way,
    and its dot products stream W contiguously.

    ```mlir
    %w = arith.constant dense<...> : tensor<512x128xf32>
    linalg.generic {indexing_maps = [(m, n, k) -> (m, k), (m, n, k) -> (n, k), (m, n, k) -> (m, n)], ...}
        ins(%a, %w : tensor<16x128xf32>, tensor<512x128xf32>) ...
    // becomes
    %wt = arith.constant dense<...> : tensor<128x512xf32>
    linalg.generic {indexing_maps = [(m, n, k) -> (m, k), (m, n, k) -> (k, n), (m, n, k) -> (m, n)], ...}
        ins(%a, %wt : tensor<16x128xf32>, tensor<128x512xf32>) ...
    ```
  }];
  let options = [
    Option<"minRows", "min-rows", "int64_t", /*default=*/"2",
           "Transpose only for products with at least this many rows of A">,
  ];
  let dependentDialects = ["mlir::arith::ArithDialect"];
}

def FuseGroups : Pass<"lathe-fuse-groups", "mlir::ModuleOp"> {
  let summary = "Fuse the linalg ops of each fusion group into one loop nest";
  let description = [{
    Runs on linalg on tensors, after lowering. Elementwise producers are
    fused into their consumers when both belong to one fusion group (or
    are pieces of one ONNX node outside any group). The last op of an
    epilogue group is tiled along its parallel loops (tiles of at most
    `tile-elements` elements; a convolution's tiles take up to 16 output
    channels times output rows, up to 8192 elements, so that
    lathe-tile-matmul's row tiles are channels; a matmul's 64 columns times
    up to 32 rows, so that each tile reads its own columns of the weights)
    and the group's contraction and bias
    initialisation are fused into the tile loop, so that the epilogue reads
    each tile of the contraction's result while it is in cache.
  }];
  let options = [
    Option<"tileElements", "tile-elements", "int64_t", "4096",
           "Largest epilogue tile, in elements">
  ];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::tensor::TensorDialect",
                           "mlir::linalg::LinalgDialect"];
}

def LowerLatheToLinalg : Pass<"lathe-lower-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower lathe ops to linalg, tensor, arith and math on tensors";
  let description = [{
    Every lathe op becomes `linalg.generic` (elementwise ops, reductions,
    matmul, convolution and pooling windows), tensor reshapes/pads/slices,
    or `arith.constant`. Broadcasting is expressed in indexing maps, so no
    broadcast copies are materialised. Fails (naming the ONNX node) on any
    lathe op it cannot lower.
  }];
  let dependentDialects = [
    "mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect",
    "mlir::arith::ArithDialect", "mlir::math::MathDialect",
    "mlir::scf::SCFDialect"
  ];
}

def PrepareBufferization : Pass<"lathe-prepare-bufferization", "mlir::func::FuncOp"> {
  let summary = "Make inputs read-only and outputs distinct buffers";
  let description = [{
    Inputs belong to the caller: every argument is marked
    `bufferization.writable = false`, so no op updates one in place.
    A graph whose output is one of its inputs (Identity, inference Dropout,
    a transpose by the identity permutation) returns a block argument.
    Outputs are written into caller-owned buffers, so such a result must be
    a copy; making the copy explicit on tensors (`linalg.copy` into
    `tensor.empty`) keeps the out-param conversion simple.

    CSE merges equal `tensor.empty` ops: the destinations of two layers of
    one shape, or a tiled loop's destination and its tiles' scratch (a
    slice of the same empty). Empty-tensor elimination would then hand one
    padded buffer (`lathe-pad-in-place`) to all of them, and bufferization
    copies the others out and back. Slices of a `tensor.empty` become
    empties of their own, and every other use of a shared one gets a clone.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect"];
}

def PadInPlace : Pass<"lathe-pad-in-place", "mlir::func::FuncOp"> {
  let summary = "Let the producer of a padded tensor write into the padded buffer";
  let description = [{
    Runs on tensors just before empty-tensor elimination. A static
    `tensor.pad` with a constant value whose source is produced in the same
    block becomes fills of the border slabs of a `tensor.empty` created
    before the producer, and a `tensor.insert_slice` of the source into
    them. Elimination then makes the producer write into the interior of
    the padded buffer: the whole-buffer fill and the copy of the source
    disappear (three passes over a convolution's input).

    An `insert_slice` into a `linalg.fill` of a `tensor.empty` (the zero
    tensor ConvTranspose and a convolution's input gradient spread their
    input into) is treated alike: with unit steps only its borders are
    filled; with larger steps the whole fill stays, moved before the
    producer. A source that a reduction (a weight gradient) reads after
    the padding keeps its own buffer, so that its rows stay aligned.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect"];
}

def PlanArena : Pass<"lathe-plan-arena", "mlir::ModuleOp"> {
  let summary = "Place every intermediate buffer of @main in one arena by liveness";
  let description = [{
    After bufferization and out-param conversion, each `memref.alloc` in
    `@main` becomes a `memref.view` into a new leading `memref<Nxi8>`
    argument (the arena the runtime passes in).

    A buffer is live from the first to the last top-level op of `@main` that
    touches its memory, directly or through any value that may alias it
    (views, subviews, reshapes, casts, and conservatively every memref result
    of an op that takes it); ops nested in a region count as their top-level
    op. Buffers whose live ranges overlap get disjoint bytes. All sizes and
    offsets are multiples of 64 bytes.

    In place: when a buffer is first written by an all-parallel linalg op
    through an identity indexing map (element i at byte i*w), and an input
    of the same byte size, also read through an identity map and by nothing
    else in that op, dies there, the output takes the input's bytes.

    Placement is greedy best fit (each buffer in the smallest gap left by the
    placed buffers it overlaps in time), tried in several orders (size,
    lifetime, size x lifetime, start); the smallest arena is kept.

    Records on the module: `lathe.arena_bytes`, `lathe.naive_bytes` (the sum
    of the 64-byte rounded sizes), `lathe.peak_bytes` (the largest sum of
    rounded sizes live at one op, in-place pairs counted once: no placement
    is smaller) and `lathe.buffers`, one dictionary per buffer in allocation
    order: `offset`, `size` (bytes, not rounded), `first` and `last` (the live
    range in top-level op indices), `node` (the ONNX node of the op that
    touches it first) and `in_place`.
  }];
  let dependentDialects = ["mlir::memref::MemRefDialect", "mlir::arith::ArithDialect"];
}

def FlattenConstants : Pass<"lathe-flatten-constants", "mlir::ModuleOp"> {
  let summary = "Store multi-dimensional constant globals as 1-D arrays";
  let description = [{
    Each constant `memref.global` of rank 2 or more (weights) becomes a 1-D
    global of the same bytes, and each `memref.get_global` of it a
    `memref.expand_shape` of the 1-D global back to the original shape.
    LLVM builds a constant object per innermost row of a nested array
    global; a flat global is one raw data array, which keeps translating
    and compiling large weights cheap.

    ```mlir
    memref.global "private" constant @w : memref<2x3xf32> = dense<...>
    %0 = memref.get_global @w : memref<2x3xf32>
    // becomes
    memref.global "private" constant @w : memref<6xf32> = dense<...>
    %1 = memref.get_global @w : memref<6xf32>
    %0 = memref.expand_shape %1 [[0, 1]] output_shape [2, 3] : memref<6xf32> into memref<2x3xf32>
    ```
  }];
  let dependentDialects = ["mlir::memref::MemRefDialect"];
}

def OutlineKernels : Pass<"lathe-outline-kernels", "mlir::ModuleOp"> {
  let summary = "Give each loop nest of @main a function of its own";
  let description = [{
    Runs on buffers, after memory planning. Every top-level linalg op or
    loop of `@main` becomes a private function `@lathe_kernel_N` marked
    `no_inline`, called from `@main` with the buffers it uses (the arena,
    inputs, outputs); the views, reshapes, globals and constants it reads
    are cloned into it, so its offsets and shapes stay constants. LLVM
    then optimises many small functions instead of one huge one, which
    keeps compile time linear in the model's size.
  }];
  let dependentDialects = ["mlir::func::FuncDialect"];
}

def InstrumentKernels : Pass<"lathe-instrument-kernels", "mlir::ModuleOp"> {
  let summary = "Time every kernel call of @main (lathe bench --profile)";
  let description = [{
    Runs right after lathe-outline-kernels, only when a profile is asked
    for (PipelineOptions::profile). Each call of a `@lathe_kernel_N` in
    `@main` gets a slot: the runtime's monotonic clock
    (`lathe_profile_clock()`, nanoseconds) is read before and after the
    call, and the difference and one call are added to the slot's row of
    the public global `@lathe_profile_counters : memref<Kx2xi64>`
    (nanoseconds, calls), which the Session reads after runs. A kernel
    that lathe-parallelize later cuts into tasks is timed as a whole (the
    wall time of its parallel call on the calling thread).

    The module attribute `lathe.profile` describes the slots, in order:
    `kernel` (the function), `nodes` (the ONNX nodes in its ops'
    locations), `ops` (what its linalg ops compute: a named op by its
    name, a generic one as `conv`, `matmul`, `pool`, `reduce` or
    `elementwise`, joined by `+`), `fusion` (its fusion
    group's kind, "" when none) and `flops` (float arithmetic ops per
    call: body ops times static trip counts; -1 when a trip count is not
    static).
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::func::FuncDialect",
                           "mlir::memref::MemRefDialect"];
}

def TileMatmul : Pass<"lathe-tile-matmul", "mlir::ModuleOp"> {
  let summary = "Register-tiled vector code for contractions on buffers";
  let description = [{
    Every contraction on buffers (a linalg op with one reduction loop and
    the body `out + a * b`: MatMul, batched MatMul with broadcast batch
    dims, Gemm with transA/transB and alpha, Einsum products) becomes
    vector code with a tile of C held in registers across the k loop. The
    tile comes from the vector unit (host features, or the options): with
    256-bit vectors and 16 registers 6 x 16 f32 (12 accumulators), with
    512 bits and 32 registers 8 x 32. Per op, from its shape and layouts:
    - pack: k in blocks, B's kc x nr panel copied into a zero-padded stack
      buffer (a B^T transposed by the copy), then each row tile loads its C
      tile, applies one broadcast of A and nv `vector.fma`s per row and k,
      and stores it;
    - direct: at most two row tiles and B contiguous along n: B is read in
      place (packing would cost as much as the product);
    - dot: A B^T, both contiguous along k, at most 32 rows: dot products
      with vectors along k, reduced across lanes at the end;
    - convolutions (several reduction loops, the input read through a
      window `o * stride + k * dilation`): direct, rows = output channels,
      vectors along the output's last spatial dim (gathered when the
      stride is > 1; lathe-lower-to-linalg gives a strided Conv a phase
      split input, read through mod and floordiv, so that it is contiguous),
      the reduction a loop nest; few channels per tile:
      the tile also spans output rows; a kernel-sized result (dW): dot
      products along the innermost reduction loop.
    Shapes are static, so remainders are known: row tiles are balanced,
    the last column tile masks its C loads and stores, the k remainder of
    a dot product masks its loads. A contraction that cannot be handled (a
    matrix-vector product, integer or mixed types, a non-contiguous
    result) stays a loop nest, with a remark saying why.
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", "0",
           "Vector register width in bits (0: the host's)">,
    Option<"vectorRegisters", "vector-registers", "int64_t", "0",
           "Number of vector registers (0: the host's)">
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::vector::VectorDialect"];
}

def TileReductions : Pass<"lathe-tile-reductions", "mlir::ModuleOp"> {
  let summary = "Vector code for reductions along a contiguous last dim";
  let description = [{
    A linalg.generic on buffers whose body is `out = out op term`, with
    `op` one of `addf`, `maximumf`, `minimumf` and `term` an elementwise
    expression (arith and math ops) of its inputs, whose innermost loop is
    a reduction that every input indexed by it reads along its contiguous
    last dim, becomes a nest with the parallel loops outermost and, per
    output element, four vector accumulators carried through every
    reduction loop: the innermost one in vector steps (its tail whole
    vectors, then one masked, whose lanes past the end keep the
    accumulator), `term` computed on vectors (the other inputs, such as a
    per-channel mean, loaded once per step and broadcast), combined and
    reduced across lanes once, then combined with the output's initial
    value. LLVM leaves such a loop scalar: it may not reassociate the float
    adds and cannot keep the accumulator, a memory location, in a register.
    Inner loops shorter than one vector are left alone.
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", "0",
           "Vector register width in bits (0: the host's)">
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::vector::VectorDialect"];
}

def VectorizeElementwise : Pass<"lathe-vectorize-elementwise", "mlir::ModuleOp"> {
  let summary = "Vector code for elementwise ops on buffers";
  let description = [{
    A linalg.generic on buffers with every loop parallel, one output it
    writes without reading along its contiguous last dim (the innermost
    loop), a body of scalar arith and math ops, and inputs that are either
    read along their contiguous last dim by the innermost loop or not
    indexed by it, becomes a loop nest over the outer dims with vector
    steps along the innermost one (a masked last step): inputs loaded a
    vector at a time or, when not indexed by the innermost loop (a
    per-channel scale), loaded once per step and broadcast, the body's ops
    applied to vectors, one vector store. LLVM's loop vectoriser leaves
    many of these scalar, as every buffer is a view of the one arena and it
    cannot prove the output apart from the inputs. Inner dims shorter than
    a vector are left alone. The copy of a strided convolution's input into
    its phases (out[.., p, j] = in[.., j * s + p]) loads s * lanes
    contiguous elements of a row and shuffles each phase's lanes apart.
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", "0",
           "Vector register width in bits (0: the host's)">
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::vector::VectorDialect"];
}

def VectorizeMaxPool : Pass<"lathe-vectorize-max-pool", "mlir::ModuleOp"> {
  let summary = "Vector code for 2x2 max pooling and its gradient";
  let description = [{
    The linalg.generic ops lathe-lower-to-linalg makes of a float
    `lathe.max_pool` with 2x2 windows at stride 2 over an unpadded input
    (marked `lathe.max_pool_2x2`) and of a `lathe.max_pool_grad` with 2x2
    windows (marked `lathe.max_pool_grad`), on buffers whose rows are
    contiguous, become loop nests over N, C and the window rows with one
    step per `lanes` windows: two row loads of 2 x lanes elements, even and
    odd lanes split by shuffles into the four window positions, then for
    the pool their maximum with the output's initial value in the generic's
    order, for the gradient the first maximum found by the generic's
    comparisons in its order, the output gradient selected at the winner
    and zero elsewhere, interleaved back into two row stores. The pool's
    last step is masked when the lanes do not divide its windows; the
    gradient needs a window count that is a multiple of 4. Other windows
    keep the scalar generic.
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", "0",
           "Vector register width in bits (0: the host's)">
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::vector::VectorDialect"];
}

def LowerCopies : Pass<"lathe-lower-copies", "mlir::func::FuncOp"> {
  let summary = "Turn memref.copy into linalg.copy";
  let description = [{
    Bufferization and out-param conversion emit `memref.copy`, which the
    LLVM lowering turns into a call to a runtime helper library for
    non-contiguous views. Compiled models must not depend on it, so copies
    become loops through `linalg.copy`. A copy whose source and target are
    the same memory (equal views of one buffer: an in-place
    `tensor.insert_slice` bufferizes to one) is erased.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

def FoldContractionInit : Pass<"lathe-fold-contraction-init", "mlir::func::FuncOp"> {
  let summary = "Fold the fill or broadcast that initialises a contraction's output into it";
  let description = [{
    Runs on buffers before lathe-outline-kernels. When the op just before a
    contraction (after views and constants) is a `linalg.fill` with a float
    constant or a `linalg.generic` that broadcasts one input, writing
    exactly the contraction's output, the two become one generic whose
    body adds the first product to the init value:
    `out = select(every reduction index is 0, init, out) + a * b`, with
    the broadcast source as one more input. That is correct for any loop
    order; the op is marked `lathe.contraction_init` (the constant, or the
    init input's operand number) so that lathe-tile-matmul starts its
    register tiles from the init value and the output is written once
    (a convolution's bias, a gradient's zeros).
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::linalg::LinalgDialect"];
}

def WidenSmallFloats : Pass<"lathe-widen-small-floats", "mlir::ModuleOp"> {
  let summary = "Compute float16/bfloat16 arithmetic in float32";
  let description = [{
    Every arith/math op on f16 or bf16 values gets its operands extended to
    f32 and its results truncated back (round to nearest even); inside one
    linalg body the intermediate truncations are dropped, so each ONNX op
    (or fused group) reads its small-float inputs, computes in f32 and
    rounds its results once. Runs on linalg bodies after lowering.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect"];
}

def ApproximateMath : Pass<"lathe-approximate-math", "mlir::ModuleOp"> {
  let summary = "Replace transcendental math ops by polynomial approximations";
  let description = [{
    exp, log, tanh, erf and friends become arithmetic (upstream's
    polynomial approximations, accurate to a few float ulps), so that the
    loops that use them vectorise instead of calling libm per element.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::math::MathDialect",
                           "mlir::vector::VectorDialect"];
}

def Parallelize : Pass<"lathe-parallelize", "mlir::ModuleOp"> {
  let summary = "Cut the parallel outer loop of large kernels into tasks for the thread pool";
  let description = [{
    Runs on the kernels of lathe-outline-kernels (one linalg op each, on
    buffers). A kernel with at least `min-work` loop points times body ops
    gets one parallel loop dim cut into `tasks` equal chunks (at most
    `max-tasks`, each dividing the dim; along the innermost dim of an output
    a multiple of 16 elements, so register tiles stay whole). The dim is one
    that indexes every output, so tasks write disjoint elements; among
    those, the one whose unindexed inputs (read whole by every task) are
    smallest, with an even task count first (it splits evenly over two
    threads). The kernel becomes `@k(buffers..., %begin, %end)` running
    tasks [begin, end), marked `lathe.parallel_tasks = tasks`; @main calls
    it with [0, tasks). The number of tasks does not depend on the thread
    count, so neither do the results. lathe-lower-parallel-calls hands the
    call to the runtime's thread pool.
  }];
  let options = [
    Option<"minWork", "min-work", "int64_t", "32768",
           "Smallest kernel (loop points x body ops) worth a parallel call">,
    Option<"maxTasks", "max-tasks", "int64_t", "8",
           "Most tasks one kernel is cut into">
  ];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::scf::SCFDialect",
                           "mlir::affine::AffineDialect",
                           "mlir::memref::MemRefDialect"];
}

def LowerParallelCalls : Pass<"lathe-lower-parallel-calls", "mlir::ModuleOp"> {
  let summary = "Call the runtime's thread pool for kernels cut into tasks";
  let description = [{
    Runs on the LLVM dialect. Each call to a kernel marked
    `lathe.parallel_tasks` (lathe-parallelize) becomes
    `lathe_parallel_for(@<kernel>_task, frame, tasks)`: the call's
    arguments are stored into a struct on the caller's stack, and the
    internal trampoline `<kernel>_task(frame, begin, end)` loads them and
    calls the kernel on its range of tasks. `lathe_parallel_for` is the
    runtime's (lathe/runtime.h): it splits [0, tasks) over the threads of
    the running context, or runs it on the calling thread outside one.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

def EmitEntryPoint : Pass<"lathe-emit-entry-point", "mlir::ModuleOp"> {
  let summary = "Add the C ABI entry point around the lowered @main";
  let description = [{
    Runs on the LLVM dialect. Emits
    `void <name>(void *arena, void *const *inputs, void *const *outputs)`
    that loads each buffer pointer and calls `@main` (which uses the
    bare-pointer calling convention).
  }];
  let options = [
    Option<"entryName", "entry-name", "std::string", "\"lathe_entry\"",
           "Symbol name of the entry point">
  ];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

def Autodiff : Pass<"lathe-autodiff", "mlir::ModuleOp"> {
  let summary = "Build the gradient function of a function (reverse-mode autodiff)";
  let description = [{
    Adds `@<func>_grad`: the same arguments as `@<func>`, returning its
    results followed by the gradient of result `output` with respect to each
    argument listed in `wrt` (in that order; each of the argument's type).
    The seed is all ones, so a non-scalar output is differentiated as the
    sum of its elements. The function body is copied and a reverse sweep
    appends the backward graph in lathe ops: each op that both depends on a
    `wrt` argument and reaches the output builds its vector-Jacobian product
    through `DifferentiableOpInterface` (ir/LatheAutodiff.td); gradients of
    a value used several times are summed with `lathe.add`. Only float
    tensors carry gradients (comparisons, indices and shapes stop them). An
    argument the output does not depend on gets a zero gradient.

    An op on the path without the interface fails the pass with an error at
    the op, naming the ONNX node: "no gradient for lathe.hardmax yet".

    ```mlir
    func.func @main(%x: tensor<3xf32>) -> tensor<f32> {
      %0 = lathe.mul %x, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
      %1 = lathe.reduce_sum %0 {axes = array<i64: 0>, keepdims = false} : ...
      return %1 : tensor<f32>
    }
    // lathe-autodiff{wrt=0} adds
    func.func @main_grad(%x: tensor<3xf32>) -> (tensor<f32>, tensor<3xf32>)
    // returning (sum(x*x), 2x): the reduce_sum's gradient is expanded to
    // [3] and the mul's two operand gradients (g*x each) are added.
    ```
  }];
  let options = [
    Option<"funcName", "func", "std::string", "\"main\"",
           "The function to differentiate">,
    Option<"output", "output", "int64_t", "0",
           "Index of the result to differentiate (seed gradient 1)">,
    ListOption<"wrt", "wrt", "int64_t",
               "Indices of the arguments to differentiate with respect to">
  ];
  let dependentDialects = ["lathe::LatheDialect"];
}

def InsertOptimizer : Pass<"lathe-insert-optimizer", "mlir::ModuleOp"> {
  let summary = "Turn a gradient function into a training step (optimizer update)";
  let description = [{
    Expects `@<func>` as lathe-autodiff leaves it: its last `wrt.size()`
    results are the gradients of the arguments listed in `wrt`, in that
    order. Replaces each gradient by the parameter's updated value and adds
    the optimizer's state, so that the function becomes one training step:

    - a new argument `lathe.lr` (0-d f32): the learning rate of this step,
      chosen by the caller's schedule;
    - per parameter and per state slot of the optimizer (momentum and
      nesterov: `velocity`; adagrad: `sum_sq`; rmsprop: `sq_avg`; adam: `m`,
      `v`) an argument named `optimizer/<param>/<slot>`, zeros at the
      start, and for adam one step counter `optimizer/t` (0-d f32);
    - results: the original ones, then the new value of each parameter, then
      the new state, each named (`lathe.name`) like the argument it
      replaces. That naming is the state protocol of the training step: a
      result named like an argument is that argument's value for the next
      step.

    The update is the textbook one, in this order: weight decay (g += wd *
    w), clipping each element to [-clip-value, clip-value], scaling all
    gradients by min(1, clip-global-norm / ||g||) (the norm over every
    parameter), then sgd (w -= lr g), momentum (v = mu v + g; w -= lr v),
    nesterov (v = mu v + g; w -= lr (g + mu v)), adagrad (s += g^2; w -= lr
    g / (sqrt(s) + eps)), rmsprop (s = rho s + (1 - rho) g^2; same step) or
    adam (t += 1; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; w -= lr
    m^ / (sqrt(v^) + eps) with m^ = m / (1 - b1^t), v^ = v / (1 - b2^t)).
    These are PyTorch's torch.optim updates with its defaults for
    dampening, initial accumulators and the like. Everything is lathe ops,
    so the update fuses with the gradient computation.
  }];
  let options = [
    Option<"funcName", "func", "std::string", "\"main\"",
           "The gradient function to turn into a step">,
    ListOption<"wrt", "wrt", "int64_t",
               "The differentiated arguments (as given to lathe-autodiff)">,
    Option<"kind", "kind", "std::string", "\"sgd\"",
           "sgd, momentum, nesterov, adagrad, rmsprop or adam">,
    Option<"momentum", "momentum", "double", "0.9", "momentum and nesterov">,
    Option<"beta1", "beta1", "double", "0.9", "adam">,
    Option<"beta2", "beta2", "double", "0.999", "adam">,
    Option<"eps", "eps", "double", "1e-8", "adagrad, rmsprop and adam">,
    Option<"rho", "rho", "double", "0.9", "rmsprop">,
    Option<"weightDecay", "weight-decay", "double", "0", "L2 weight decay">,
    Option<"clipValue", "clip-value", "double", "0",
           "Clip each gradient element to +-clip-value (0: off)">,
    Option<"clipGlobalNorm", "clip-global-norm", "double", "0",
           "Scale gradients to at most this global L2 norm (0: off)">,
    Option<"keepGradients", "keep-gradients", "bool", "false",
           "Also return each raw gradient (before decay and clipping) as a "
           "last result named grad/<param> (lathe train --trace)">
  ];
  let dependentDialects = ["lathe::LatheDialect"];
}

def TrainingMode : Pass<"lathe-training-mode", "mlir::ModuleOp"> {
  let summary = "Turn an inference graph into its training form (dropout, batch norm)";
  let description = [{
    Rewrites `@<func>` (an imported inference graph) for the compiled
    training step:

    - It gets one more argument, appended after the others: a 0-d i64
      tensor with the argument attribute `lathe.name = "lathe.step"`, the
      training step counter. It is added even when the graph has no
      dropout, so the step's calling convention does not depend on the
      model.
    - Every `lathe.dropout` (inference: the identity) and every
      `lathe.training_dropout` becomes a `lathe.training_dropout` reading
      the step, with `seed` set to the pass's `seed` and `op_index` the
      ordinal of the dropout among the function's dropouts (0, 1, ... in
      program order): inverted dropout whose mask is a pure function of
      (seed, step, op), reproducible bit for bit, different for two steps
      or two ops (LatheRandomOps.td has the key). Inference dropout is
      always on (`training` = true, ratio = its `ratio`); a training
      dropout keeps its own ratio and `training` operands.
    - Every `lathe.batch_norm` becomes `lathe.batch_norm_training` (batch
      statistics) and its updated running mean and variance become new
      results of the function, after the existing ones. State protocol
      (shared with the training step builder): a function result whose
      result attribute `lathe.name` equals the `lathe.name` of a function
      argument is the updated value of that argument. So the mean and
      variance operands must be function arguments with a `lathe.name`
      (the training step turns initializers into arguments), each used by
      one batch normalisation; otherwise the pass fails with an error at
      the op.

    The running statistics are updated as PyTorch does, not by ONNX's
    formula: `running = momentum * running + (1 - momentum) * batch`, with
    ONNX's `momentum` (0.9, PyTorch's momentum 0.1), where the batch
    variance in the running-variance update is the unbiased one, `var * N
    / (N - 1)` with N the elements per channel (ONNX's reference uses the
    biased variance). Trained models must match what PyTorch's training of
    the same model gives, and PyTorch-trained models are what ONNX models
    are exported from; the normalisation of the batch itself uses the
    biased variance in both. A channel of N = 1 element has no unbiased
    variance (PyTorch refuses it too): an error.
  }];
  let options = [
    Option<"seed", "seed", "uint64_t", "0",
           "Seed of the dropout masks (with the step and the op's ordinal)">,
    Option<"funcName", "func", "std::string", "\"main\"",
           "The function to rewrite">
  ];
  let dependentDialects = ["lathe::LatheDialect"];
}

#endif // LATHE_PASSES_TD
