/* lathe runtime C ABI: dtype helpers, arenas and the checked model call.
 *
 * Plain C on purpose: this file is what a deployment binary links next to an
 * AOT-compiled model, so it must not pull in libstdc++. */
#include "lathe/runtime.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

size_t lathe_dtype_size(int32_t dtype) {
  switch (dtype) {
  case LATHE_DTYPE_FLOAT:
  case LATHE_DTYPE_INT32:
  case LATHE_DTYPE_UINT32:
    return 4;
  case LATHE_DTYPE_UINT8:
  case LATHE_DTYPE_INT8:
  case LATHE_DTYPE_BOOL:
    return 1;
  case LATHE_DTYPE_UINT16:
  case LATHE_DTYPE_INT16:
  case LATHE_DTYPE_FLOAT16:
  case LATHE_DTYPE_BFLOAT16:
    return 2;
  case LATHE_DTYPE_INT64:
  case LATHE_DTYPE_UINT64:
  case LATHE_DTYPE_DOUBLE:
    return 8;
  default:
    return 0;
  }
}

const char *lathe_dtype_name(int32_t dtype) {
  /* NumPy spellings, since users compare against NumPy and PyTorch. */
  switch (dtype) {
  case LATHE_DTYPE_FLOAT:
    return "float32";
  case LATHE_DTYPE_UINT8:
    return "uint8";
  case LATHE_DTYPE_INT8:
    return "int8";
  case LATHE_DTYPE_UINT16:
    return "uint16";
  case LATHE_DTYPE_INT16:
    return "int16";
  case LATHE_DTYPE_INT32:
    return "int32";
  case LATHE_DTYPE_INT64:
    return "int64";
  case LATHE_DTYPE_BOOL:
    return "bool";
  case LATHE_DTYPE_FLOAT16:
    return "float16";
  case LATHE_DTYPE_DOUBLE:
    return "float64";
  case LATHE_DTYPE_UINT32:
    return "uint32";
  case LATHE_DTYPE_UINT64:
    return "uint64";
  case LATHE_DTYPE_BFLOAT16:
    return "bfloat16";
  default:
    return "unknown";
  }
}

size_t lathe_tensor_bytes(const lathe_tensor_desc *t) {
  if (!t || t->rank < 0 || (t->rank > 0 && !t->shape))
    return 0;
  size_t n = lathe_dtype_size(t->dtype);
  for (int32_t i = 0; i < t->rank; ++i) {
    int64_t d = t->shape[i];
    if (d < 0)
      return 0;
    /* Saturate rather than wrap so an absurd shape cannot look small. */
    if (d != 0 && n > SIZE_MAX / (uint64_t)d)
      return SIZE_MAX;
    n *= (size_t)d;
  }
  return n;
}

static void *allocAligned(uint64_t bytes) {
  /* aligned_alloc wants a multiple of the alignment; a zero-byte arena still
   * gets a real block so that NULL always means "out of memory". */
  uint64_t rounded = (bytes + LATHE_ARENA_ALIGNMENT - 1) /
                     LATHE_ARENA_ALIGNMENT * LATHE_ARENA_ALIGNMENT;
  if (rounded == 0)
    rounded = LATHE_ARENA_ALIGNMENT;
  if (rounded < bytes || rounded > SIZE_MAX)
    return NULL;
  return aligned_alloc(LATHE_ARENA_ALIGNMENT, (size_t)rounded);
}

void *lathe_arena_alloc(const lathe_model_desc *model) {
  if (!model)
    return NULL;
  return allocAligned(model->arena_bytes);
}

void lathe_arena_free(void *arena) { free(arena); }

#if defined(__GNUC__)
static lathe_status fail(char *err, size_t errLen, lathe_status status,
                         const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#endif

static lathe_status fail(char *err, size_t errLen, lathe_status status,
                         const char *fmt, ...) {
  if (err && errLen > 0) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(err, errLen, fmt, args); /* truncates and NUL-terminates */
    va_end(args);
  }
  return status;
}

static const char *tensorName(const lathe_tensor_desc *descs, int32_t i) {
  if (descs && descs[i].name)
    return descs[i].name;
  return "?";
}

/* Checks one side (inputs or outputs) of the call. The tensor descriptors are
 * optional (a hand-written entry may not have any), but when present they must
 * be well formed because callers size their buffers with lathe_tensor_bytes. */
static lathe_status checkTensors(const char *what, int32_t count,
                                 const lathe_tensor_desc *descs,
                                 void *const *ptrs, char *err, size_t errLen) {
  if (count < 0)
    return fail(err, errLen, LATHE_ERROR_INVALID_ARGUMENT,
                "model has a negative number of %ss (%d)", what, (int)count);
  if (count > 0 && !ptrs)
    return fail(err, errLen, LATHE_ERROR_INVALID_ARGUMENT,
                "%ss array is NULL but the model has %d %s(s)", what,
                (int)count, what);
  for (int32_t i = 0; i < count; ++i) {
    const char *name = tensorName(descs, i);
    if (descs) {
      const lathe_tensor_desc *d = &descs[i];
      if (lathe_dtype_size(d->dtype) == 0)
        return fail(err, errLen, LATHE_ERROR_INVALID_ARGUMENT,
                    "%s %d ('%s') has unknown dtype %d", what, (int)i, name,
                    (int)d->dtype);
      if (d->rank < 0 || (d->rank > 0 && !d->shape))
        return fail(err, errLen, LATHE_ERROR_INVALID_ARGUMENT,
                    "%s %d ('%s') has an invalid shape (rank %d)", what, (int)i,
                    name, (int)d->rank);
      for (int32_t k = 0; k < d->rank; ++k)
        if (d->shape[k] < 0)
          return fail(err, errLen, LATHE_ERROR_INVALID_ARGUMENT,
                      "%s %d ('%s') has a negative dimension", what, (int)i,
                      name);
    }
    /* A tensor with no elements has no bytes to point at. */
    if (!ptrs[i] && !(descs && lathe_tensor_bytes(&descs[i]) == 0))
      return fail(err, errLen, LATHE_ERROR_INVALID_ARGUMENT,
                  "%s %d ('%s') is NULL", what, (int)i, name);
  }
  return LATHE_OK;
}

lathe_status lathe_run(const lathe_model_desc *model, void *arena,
                       void *const *inputs, void *const *outputs, char *err,
                       size_t errLen) {
  if (err && errLen > 0)
    err[0] = '\0';
  if (!model)
    return fail(err, errLen, LATHE_ERROR_INVALID_ARGUMENT, "model is NULL");
  /* Checked first: with a different ABI no other field can be trusted. */
  if (model->abi_version != LATHE_ABI_VERSION)
    return fail(err, errLen, LATHE_ERROR_ABI_MISMATCH,
                "model '%s' was compiled for runtime ABI %u, this runtime is "
                "ABI %d",
                model->name ? model->name : "?", (unsigned)model->abi_version,
                LATHE_ABI_VERSION);
  if (!model->entry)
    return fail(err, errLen, LATHE_ERROR_INVALID_ARGUMENT,
                "model '%s' has no entry function",
                model->name ? model->name : "?");
  lathe_status s = checkTensors("input", model->num_inputs, model->inputs,
                                inputs, err, errLen);
  if (s != LATHE_OK)
    return s;
  s = checkTensors("output", model->num_outputs, model->outputs, outputs, err,
                   errLen);
  if (s != LATHE_OK)
    return s;

  void *owned = NULL;
  if (!arena && model->arena_bytes > 0) {
    owned = allocAligned(model->arena_bytes);
    if (!owned)
      return fail(err, errLen, LATHE_ERROR_OUT_OF_MEMORY,
                  "cannot allocate a %llu-byte arena for model '%s'",
                  (unsigned long long)model->arena_bytes,
                  model->name ? model->name : "?");
    arena = owned;
  }
  model->entry(arena, inputs, outputs);
  free(owned);
  return LATHE_OK;
}

const char *lathe_runtime_version(void) { return "0.1.0"; }
