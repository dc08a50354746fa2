/* lathe runtime C ABI.
 *
 * One ABI for JIT-compiled and (later) ahead-of-time compiled models. A compiled
 * model is a descriptor plus one entry point over bare pointers:
 *
 *   entry(arena, inputs, outputs)
 *
 * `arena` is a caller-owned scratch buffer of at least `arena_bytes` bytes,
 * 64-byte aligned, holding every intermediate tensor. `inputs[i]` and
 * `outputs[i]` point to dense row-major buffers of the shapes and dtypes the
 * descriptor lists. Weights are part of the compiled code.
 *
 * This header depends on the C standard library only. */
#ifndef LATHE_RUNTIME_H
#define LATHE_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LATHE_ABI_VERSION 1
#define LATHE_ARENA_ALIGNMENT 64

/* Element types use ONNX TensorProto.DataType codes. */
typedef enum lathe_dtype {
  LATHE_DTYPE_FLOAT = 1,
  LATHE_DTYPE_UINT8 = 2,
  LATHE_DTYPE_INT8 = 3,
  LATHE_DTYPE_UINT16 = 4,
  LATHE_DTYPE_INT16 = 5,
  LATHE_DTYPE_INT32 = 6,
  LATHE_DTYPE_INT64 = 7,
  LATHE_DTYPE_BOOL = 9,
  LATHE_DTYPE_FLOAT16 = 10,
  LATHE_DTYPE_DOUBLE = 11,
  LATHE_DTYPE_UINT32 = 12,
  LATHE_DTYPE_UINT64 = 13,
  LATHE_DTYPE_BFLOAT16 = 16,
} lathe_dtype;

typedef enum lathe_status {
  LATHE_OK = 0,
  LATHE_ERROR_INVALID_ARGUMENT = 1,
  LATHE_ERROR_OUT_OF_MEMORY = 2,
  LATHE_ERROR_ABI_MISMATCH = 3,
} lathe_status;

typedef struct lathe_tensor_desc {
  const char *name;
  int32_t dtype; /* lathe_dtype */
  int32_t rank;
  const int64_t *shape;
} lathe_tensor_desc;

typedef void (*lathe_entry_fn)(void *arena, void *const *inputs,
                               void *const *outputs);

typedef struct lathe_model_desc {
  uint32_t abi_version; /* LATHE_ABI_VERSION */
  const char *name;
  int32_t num_inputs;
  int32_t num_outputs;
  const lathe_tensor_desc *inputs;
  const lathe_tensor_desc *outputs;
  uint64_t arena_bytes; /* planned scratch memory */
  uint64_t naive_bytes; /* sum of all intermediate buffers without reuse */
  uint64_t param_bytes; /* bytes of weights baked into the code */
  lathe_entry_fn entry;
} lathe_model_desc;

/* Size in bytes of one element of `dtype`, 0 if unknown. */
size_t lathe_dtype_size(int32_t dtype);
/* Human-readable dtype name ("float32", "int64", ...). */
const char *lathe_dtype_name(int32_t dtype);
/* Number of bytes of a tensor described by `t`. */
size_t lathe_tensor_bytes(const lathe_tensor_desc *t);

/* Allocates an arena for `model` (64-byte aligned); free with lathe_arena_free.
 * Returns NULL only on failure (a zero-byte arena is still a real block). */
void *lathe_arena_alloc(const lathe_model_desc *model);
void lathe_arena_free(void *arena);

/* Checks the descriptor and runs the model. `arena` may be NULL, in which case
 * one is allocated for the call. Returns LATHE_OK or an error code; on error a
 * message is written to `err` (if non-NULL) truncated to `err_len`. */
lathe_status lathe_run(const lathe_model_desc *model, void *arena,
                       void *const *inputs, void *const *outputs, char *err,
                       size_t err_len);

/* A context runs models on a thread pool of its own. Compiled code cuts each
 * large kernel's parallel outer loop into a fixed number of tasks at compile
 * time and hands them to the pool of the context it runs in; the results do
 * not depend on the number of threads.
 *
 * Thread safety: lathe_context_run holds the context's lock for the whole
 * run, so a context may be shared between threads (runs are serialised);
 * for concurrent runs give each thread a context of its own. An arena must
 * not be used by two runs at once. */
typedef struct lathe_context lathe_context;

/* Creates a context with `num_threads` threads, the caller's included (0 =
 * one per CPU this process may run on; 1 = no extra thread). Returns NULL
 * when num_threads < 0 or the threads cannot be started. */
lathe_context *lathe_context_create(int32_t num_threads);
void lathe_context_destroy(lathe_context *ctx);
/* Threads of the context (1 for NULL). */
int32_t lathe_context_threads(const lathe_context *ctx);

/* lathe_run on the context's threads (ctx NULL: on the calling thread). */
lathe_status lathe_context_run(lathe_context *ctx,
                               const lathe_model_desc *model, void *arena,
                               void *const *inputs, void *const *outputs,
                               char *err, size_t err_len);

/* Called by compiled code: runs fn(arg, begin, end) over [0, tasks) cut into
 * one contiguous range per thread of the running context, and returns when
 * all are done. Outside lathe_context_run (or with one thread) it is the
 * plain call fn(arg, 0, tasks). */
typedef void (*lathe_task_fn)(void *arg, int64_t begin, int64_t end);
void lathe_parallel_for(lathe_task_fn fn, void *arg, int64_t tasks);

/* Called by code compiled with a per-kernel profile (`lathe bench
 * --profile`): a monotonic clock in nanoseconds, read before and after each
 * kernel call. */
int64_t lathe_profile_clock(void);

/* Runtime library version string. */
const char *lathe_runtime_version(void);

#ifdef __cplusplus
}
#endif

#endif /* LATHE_RUNTIME_H */
