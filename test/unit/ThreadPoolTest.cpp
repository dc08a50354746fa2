// Tests of the runtime's thread pool (lathe_context, lathe_parallel_for):
// every task runs exactly once, the shares go to distinct threads, runs on
// a shared context take turns, and outside a context the call is serial.
#include "lathe/runtime.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace {

constexpr int64_t kMaxTasks = 40;

struct Job {
  std::atomic<int> counts[kMaxTasks];
  std::mutex mutex;
  std::set<std::thread::id> threads;
  std::vector<std::pair<int64_t, int64_t>> ranges;
};

extern "C" void countTasks(void *arg, int64_t begin, int64_t end) {
  auto *job = static_cast<Job *>(arg);
  for (int64_t t = begin; t < end; ++t)
    job->counts[t].fetch_add(1);
  std::lock_guard<std::mutex> lock(job->mutex);
  job->threads.insert(std::this_thread::get_id());
  job->ranges.push_back({begin, end});
}

// A stand-in for compiled code: many parallel loops of every size from 0
// to kMaxTasks - 1, one after another, as kernels come in a model.
Job *gJob = nullptr;
int gRounds = 0;

extern "C" void manyLoops(void *, void *const *, void *const *) {
  for (int r = 0; r < gRounds; ++r)
    for (int64_t tasks = 0; tasks < kMaxTasks; ++tasks)
      lathe_parallel_for(countTasks, gJob, tasks);
}

lathe_model_desc loopModel() {
  lathe_model_desc m{};
  m.abi_version = LATHE_ABI_VERSION;
  m.name = "many_loops";
  m.entry = manyLoops;
  return m;
}

TEST(ThreadPool, CreateResolvesThreadCount) {
  EXPECT_EQ(lathe_context_create(-1), nullptr);
  lathe_context *all = lathe_context_create(0);
  ASSERT_NE(all, nullptr);
  EXPECT_GE(lathe_context_threads(all), 1);
  lathe_context_destroy(all);
  lathe_context *three = lathe_context_create(3);
  ASSERT_NE(three, nullptr);
  EXPECT_EQ(lathe_context_threads(three), 3);
  lathe_context_destroy(three);
  EXPECT_EQ(lathe_context_threads(nullptr), 1);
  lathe_context_destroy(nullptr); // a no-op, like free(NULL)
}

TEST(ThreadPool, SerialOutsideAContext) {
  Job job{};
  lathe_parallel_for(countTasks, &job, 7);
  ASSERT_EQ(job.ranges.size(), 1u);
  EXPECT_EQ(job.ranges[0].first, 0);
  EXPECT_EQ(job.ranges[0].second, 7);
  EXPECT_EQ(job.threads.size(), 1u);
  EXPECT_EQ(*job.threads.begin(), std::this_thread::get_id());
}

TEST(ThreadPool, EveryTaskRunsOnceOnEveryThreadCount) {
  for (int threads : {1, 2, 3, 5}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    lathe_context *ctx = lathe_context_create(threads);
    ASSERT_NE(ctx, nullptr);
    Job job{};
    gJob = &job;
    gRounds = 50;
    lathe_model_desc model = loopModel();
    char err[128] = "";
    ASSERT_EQ(lathe_context_run(ctx, &model, nullptr, nullptr, nullptr, err,
                                sizeof(err)),
              LATHE_OK)
        << err;
    for (int64_t t = 0; t < kMaxTasks; ++t)
      EXPECT_EQ(job.counts[t].load(), gRounds * (kMaxTasks - 1 - t))
          << "task " << t;
    // Each thread takes one contiguous share, so a loop of at least
    // `threads` tasks runs on `threads` distinct threads.
    EXPECT_EQ(static_cast<int>(job.threads.size()), threads);
    lathe_context_destroy(ctx);
  }
}

TEST(ThreadPool, SharesAreContiguousAndBalanced) {
  lathe_context *ctx = lathe_context_create(3);
  ASSERT_NE(ctx, nullptr);
  Job job{};
  gJob = &job;
  struct Once {
    static void entry(void *, void *const *, void *const *) {
      lathe_parallel_for(countTasks, gJob, 8);
    }
  };
  lathe_model_desc model = loopModel();
  model.entry = Once::entry;
  ASSERT_EQ(
      lathe_context_run(ctx, &model, nullptr, nullptr, nullptr, nullptr, 0),
      LATHE_OK);
  std::sort(job.ranges.begin(), job.ranges.end());
  std::vector<std::pair<int64_t, int64_t>> expected = {{0, 2}, {2, 5}, {5, 8}};
  EXPECT_EQ(job.ranges, expected);
  lathe_context_destroy(ctx);
}

TEST(ThreadPool, SharedContextRunsTakeTurns) {
  lathe_context *ctx = lathe_context_create(2);
  ASSERT_NE(ctx, nullptr);
  Job job{};
  gJob = &job;
  gRounds = 20;
  lathe_model_desc model = loopModel();
  std::vector<std::thread> callers;
  std::atomic<int> failures{0};
  for (int i = 0; i < 4; ++i)
    callers.emplace_back([&] {
      if (lathe_context_run(ctx, &model, nullptr, nullptr, nullptr, nullptr,
                            0) != LATHE_OK)
        failures.fetch_add(1);
    });
  for (std::thread &t : callers)
    t.join();
  EXPECT_EQ(failures.load(), 0);
  for (int64_t t = 0; t < kMaxTasks; ++t)
    EXPECT_EQ(job.counts[t].load(), 4 * gRounds * (kMaxTasks - 1 - t));
  lathe_context_destroy(ctx);
}

TEST(ThreadPool, WorkersWakeAfterSleeping) {
  // Longer than the spin phase (200 us), so the workers sleep in between.
  lathe_context *ctx = lathe_context_create(2);
  ASSERT_NE(ctx, nullptr);
  Job job{};
  gJob = &job;
  gRounds = 1;
  lathe_model_desc model = loopModel();
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_EQ(
        lathe_context_run(ctx, &model, nullptr, nullptr, nullptr, nullptr, 0),
        LATHE_OK);
  }
  EXPECT_EQ(job.counts[0].load(), 5 * (kMaxTasks - 1));
  EXPECT_EQ(job.threads.size(), 2u);
  lathe_context_destroy(ctx);
}

} // namespace
