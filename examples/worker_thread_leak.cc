// A leak in a worker thread: the worker allocates a 2048-byte context per job
// and forgets to free it on the error path. One job in four fails, so of
// kJobs = 1000 jobs, 250 contexts x 2048 B stay allocated at LEAK(worker).
// The main thread allocates nothing that survives.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "say.h"

namespace worker_example {

constexpr int kJobs = 1000;
constexpr int kFailEvery = 4;
constexpr std::size_t kContextBytes = 2048;

struct JobContext {
  int job;
  char scratch[kContextBytes - sizeof(int)];
};
static_assert(sizeof(JobContext) == kContextBytes, "expected.json counts 2048-byte contexts");

JobContext* volatile g_last_context;  // keeps the compiler from eliding the allocation

class Worker {
 public:
  void Run() {
    for (int job = 0; job < kJobs; ++job) Handle(job);
  }
  int failed() const { return failed_; }

 private:
  bool Handle(int job);
  int failed_ = 0;
};

// noinline: the leak must be reported here, not in Run().
__attribute__((noinline)) bool Worker::Handle(int job) {
  auto* context = static_cast<JobContext*>(std::calloc(1, sizeof(JobContext)));  // LEAK(worker)
  context->job = job;
  std::memset(context->scratch, 'w', 64);
  g_last_context = context;
  if (job % kFailEvery == kFailEvery - 1) {
    ++failed_;
    return false;  // the bug: returns without freeing the context
  }
  std::free(context);
  return true;
}

}  // namespace worker_example

int main() {
  worker_example::Worker worker;
  std::thread thread(&worker_example::Worker::Run, &worker);
  thread.join();
  examples::Say("failed jobs", static_cast<unsigned long long>(worker.failed()));
  return 0;
}
