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

/* Runtime library version string. */
const char *lathe_runtime_version(void);

#ifdef __cplusplus
}
#endif

#endif /* LATHE_RUNTIME_H */
