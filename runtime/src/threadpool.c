/* lathe runtime: the thread pool behind compiled code's parallel loops.
 *
 * Compiled code calls lathe_parallel_for(fn, arg, tasks) for each kernel with
 * a parallel outer loop; the kernel's iterations were cut into `tasks` equal
 * pieces at compile time. The pool hands each thread one contiguous range
 * of tasks (the caller takes the first), so a task always runs the same code
 * on the same data whatever the thread count: results do not depend on it.
 *
 * Kernels are short (microseconds to milliseconds) and come one after
 * another, so workers spin for a while after a job before they sleep on a
 * condition variable: waking a sleeping thread costs tens of microseconds,
 * more than many kernels take. Plain C11 + pthreads, like runtime.c. */
#define _GNU_SOURCE
#include "lathe/runtime.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

/* How long an idle thread spins before it sleeps, and how many checks it
 * makes between yields (a yield lets a descheduled peer run when there are
 * more threads than cores, as under `ctest -j`). */
#define LATHE_SPIN_NS 200000
#define LATHE_SPINS_PER_YIELD 256

struct lathe_context {
  int32_t num_threads;
  pthread_t *workers;
  struct worker *worker_args;
  pthread_mutex_t run_lock; /* one model run at a time */
  pthread_mutex_t sleep_lock;
  pthread_cond_t wake;
  /* The current job, written before `generation` moves. */
  lathe_task_fn fn;
  void *arg;
  int64_t tasks;
  atomic_uint_fast64_t generation;
  atomic_int pending; /* workers that have not finished the current job */
  atomic_int sleepers;
  atomic_int stop;
};

struct worker {
  lathe_context *ctx;
  int32_t index;
};

/* The context whose run is in progress on this thread (set by
 * lathe_context_run); compiled code finds its pool here. */
static _Thread_local lathe_context *current;

static void cpuRelax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

static void runShare(lathe_context *ctx, int32_t index) {
  int64_t n = ctx->tasks, t = ctx->num_threads;
  int64_t begin = n * index / t, end = n * (index + 1) / t;
  if (begin < end)
    ctx->fn(ctx->arg, begin, end);
}

/* Waits until the generation moves past `seen` (or the pool stops). */
static uint64_t waitForJob(lathe_context *ctx, uint64_t seen) {
  uint64_t start = 0;
  for (unsigned spins = 1;; ++spins) {
    uint64_t g = atomic_load_explicit(&ctx->generation, memory_order_acquire);
    if (g != seen || atomic_load_explicit(&ctx->stop, memory_order_relaxed))
      return g;
    cpuRelax();
    if (spins % LATHE_SPINS_PER_YIELD != 0)
      continue;
    sched_yield();
    uint64_t now = (uint64_t)lathe_profile_clock();
    if (start == 0)
      start = now;
    else if (now - start > LATHE_SPIN_NS)
      break;
  }
  /* Dekker-style handshake with lathe_parallel_for (both sides seq_cst):
   * either the caller sees this sleeper and broadcasts under the lock, or
   * this thread sees the new generation before it waits. */
  pthread_mutex_lock(&ctx->sleep_lock);
  atomic_fetch_add(&ctx->sleepers, 1);
  uint64_t g;
  while ((g = atomic_load(&ctx->generation)) == seen &&
         !atomic_load(&ctx->stop))
    pthread_cond_wait(&ctx->wake, &ctx->sleep_lock);
  atomic_fetch_sub(&ctx->sleepers, 1);
  pthread_mutex_unlock(&ctx->sleep_lock);
  return g;
}

static void *workerMain(void *p) {
  struct worker *w = (struct worker *)p;
  lathe_context *ctx = w->ctx;
  uint64_t seen = 0;
  for (;;) {
    seen = waitForJob(ctx, seen);
    if (atomic_load_explicit(&ctx->stop, memory_order_relaxed))
      return NULL;
    runShare(ctx, w->index);
    atomic_fetch_sub_explicit(&ctx->pending, 1, memory_order_release);
  }
}

static int32_t availableCpus(void) {
#ifdef CPU_COUNT
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
    return CPU_COUNT(&set);
#endif
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int32_t)n : 1;
}

static void stopWorkers(lathe_context *ctx, int32_t started) {
  atomic_store(&ctx->stop, 1);
  pthread_mutex_lock(&ctx->sleep_lock);
  pthread_cond_broadcast(&ctx->wake);
  pthread_mutex_unlock(&ctx->sleep_lock);
  for (int32_t i = 0; i < started; ++i)
    pthread_join(ctx->workers[i], NULL);
}

lathe_context *lathe_context_create(int32_t num_threads) {
  if (num_threads < 0)
    return NULL;
  if (num_threads == 0)
    num_threads = availableCpus();
  lathe_context *ctx = (lathe_context *)calloc(1, sizeof(*ctx));
  if (!ctx)
    return NULL;
  ctx->num_threads = num_threads;
  pthread_mutex_init(&ctx->run_lock, NULL);
  pthread_mutex_init(&ctx->sleep_lock, NULL);
  pthread_cond_init(&ctx->wake, NULL);
  int32_t workers = num_threads - 1;
  if (workers > 0) {
    ctx->workers = (pthread_t *)calloc((size_t)workers, sizeof(pthread_t));
    ctx->worker_args =
        (struct worker *)calloc((size_t)workers, sizeof(struct worker));
    if (!ctx->workers || !ctx->worker_args) {
      lathe_context_destroy(ctx);
      return NULL;
    }
  }
  for (int32_t i = 0; i < workers; ++i) {
    ctx->worker_args[i].ctx = ctx;
    ctx->worker_args[i].index = i + 1;
    if (pthread_create(&ctx->workers[i], NULL, workerMain,
                       &ctx->worker_args[i]) != 0) {
      stopWorkers(ctx, i);
      ctx->num_threads = 1; /* nothing left to stop in destroy */
      lathe_context_destroy(ctx);
      return NULL;
    }
  }
  return ctx;
}

void lathe_context_destroy(lathe_context *ctx) {
  if (!ctx)
    return;
  if (ctx->num_threads > 1 && ctx->workers)
    stopWorkers(ctx, ctx->num_threads - 1);
  pthread_cond_destroy(&ctx->wake);
  pthread_mutex_destroy(&ctx->sleep_lock);
  pthread_mutex_destroy(&ctx->run_lock);
  free(ctx->workers);
  free(ctx->worker_args);
  free(ctx);
}

int32_t lathe_context_threads(const lathe_context *ctx) {
  return ctx ? ctx->num_threads : 1;
}

lathe_status lathe_context_run(lathe_context *ctx,
                               const lathe_model_desc *model, void *arena,
                               void *const *inputs, void *const *outputs,
                               char *err, size_t err_len) {
  if (!ctx)
    return lathe_run(model, arena, inputs, outputs, err, err_len);
  pthread_mutex_lock(&ctx->run_lock);
  lathe_context *outer = current;
  current = ctx;
  lathe_status s = lathe_run(model, arena, inputs, outputs, err, err_len);
  current = outer;
  pthread_mutex_unlock(&ctx->run_lock);
  return s;
}

void lathe_parallel_for(lathe_task_fn fn, void *arg, int64_t tasks) {
  lathe_context *ctx = current;
  if (!ctx || ctx->num_threads <= 1 || tasks <= 1) {
    if (tasks > 0)
      fn(arg, 0, tasks);
    return;
  }
  ctx->fn = fn;
  ctx->arg = arg;
  ctx->tasks = tasks;
  atomic_store_explicit(&ctx->pending, ctx->num_threads - 1,
                        memory_order_relaxed);
  atomic_fetch_add(&ctx->generation, 1); /* seq_cst: publishes the job */
  if (atomic_load(&ctx->sleepers) > 0) {
    pthread_mutex_lock(&ctx->sleep_lock);
    pthread_cond_broadcast(&ctx->wake);
    pthread_mutex_unlock(&ctx->sleep_lock);
  }
  runShare(ctx, 0);
  for (unsigned spins = 1;
       atomic_load_explicit(&ctx->pending, memory_order_acquire) > 0; ++spins) {
    cpuRelax();
    if (spins % LATHE_SPINS_PER_YIELD == 0)
      sched_yield();
  }
}
