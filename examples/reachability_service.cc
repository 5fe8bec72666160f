// A service that keeps running and loses blocks mid-run (issue #16): what
// `leakscope snapshot --reachability PID` (or `leakscoped --reachability on`
// at each snapshot) must find while it runs, without stopping it for good.
//
// Expected verdicts per allocating function (its call site), once it said
// "ready" (tests/integration/reachability_live.py asserts exactly these):
//   LoseBuffer     definitely lost  100 blocks  25600 B  (100 x 256 B, every pointer dropped)
//   NewListNode    definitely lost    1 block      48 B  (the list's head: nothing points to it)
//                  indirectly lost    2 blocks     96 B  (reached only through the lost head)
//   CacheEntry     still reachable   50 blocks   3200 B  (50 x 64 B held by the global g_cache)
//   WorkerScratch  still reachable    1 block     128 B  (held only on the worker thread's stack)
//   LaterBlock     none until "alloc N": then N x 32 B, held by the global g_later
//   FreshBlock     none until "churn": then still reachable, 1 block 24 B (the global g_fresh)
//   OldBlock       still reachable, 1 block 40 B (the global g_old) until "churn" frees it
//
// Protocol, one line each way (stdin/stdout are the test's pipes): prints
// "pid N", then "ready" once every block above is made. A scan needs no
// more: it catches the collector's live table up with the process first
// (docs/ARCHITECTURE.md, "Reachability"). Then each line read is a command:
// "ping" -> "pong"; "alloc N" -> N more 32 B blocks, and a leakscope_mark()
// round trip (a plain snapshot is not caught up), then "allocated N";
// "churn" -> FreshBlock made and OldBlock freed, then "churned" at once
// (the scan that follows must see both). End of input: the worker stops and
// it exits 0.
// "--not-dumpable" first: prctl(PR_SET_DUMPABLE, 0), as a hardened service
// does, so a collector without CAP_SYS_PTRACE may not trace it; nothing then
// catches the table up, so "ready" waits for a leakscope_mark() round trip.
#include <pthread.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "leakscope.h"

#define NOINLINE __attribute__((noinline))

namespace {

constexpr int kLostBuffers = 100;
constexpr int kCached = 50;
constexpr int kMaxLater = 4096;

struct ListNode {
  ListNode* next;
  char payload[40];
};  // 48 bytes

void* volatile g_cache[kCached];  // .bss: the cache's entries stay reachable
void* volatile g_later[kMaxLater];
void* volatile g_fresh;
void* volatile g_old;
int g_later_count = 0;
int g_worker_stop[2];   // the worker blocks reading this pipe until the end
int g_worker_ready[2];  // ... after it wrote here that it holds its block

NOINLINE void* LoseBuffer() {
  return std::malloc(256);
}
NOINLINE ListNode* NewListNode(ListNode* next) {
  ListNode* node = static_cast<ListNode*>(std::calloc(1, sizeof(ListNode)));
  node->next = next;
  return node;
}
NOINLINE void* CacheEntry() {
  return std::malloc(64);
}
NOINLINE void* WorkerScratch() {
  return std::malloc(128);
}
NOINLINE void* LaterBlock() {
  return std::malloc(32);
}
NOINLINE void* FreshBlock() {
  return std::malloc(24);
}
NOINLINE void* OldBlock() {
  return std::malloc(40);
}

// A worker that holds its scratch block on its own stack while it waits.
void* Worker(void*) {
  void* volatile scratch = WorkerScratch();
  char c = 'r';
  if (write(g_worker_ready[1], &c, 1) != 1) std::abort();
  while (read(g_worker_stop[0], &c, 1) < 0) {
  }
  std::free(scratch);
  return nullptr;
}

// The losses happen on a thread that is gone before the scan: no stale copy
// of a lost address is left in a register or on a stack that is scanned.
void* LoseSome(void*) {
  for (int i = 0; i < kLostBuffers; ++i) {
    void* volatile lost = LoseBuffer();
    static_cast<void>(lost);
  }
  // The whole list is lost: its head directly, the other two through it.
  ListNode* volatile head = NewListNode(NewListNode(NewListNode(nullptr)));
  static_cast<void>(head);
  for (int i = 0; i < kCached; ++i) g_cache[i] = CacheEntry();
  return nullptr;
}

void Say(const char* line) {
  std::printf("%s\n", line);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const bool not_dumpable = argc > 1 && std::strcmp(argv[1], "--not-dumpable") == 0;
  if (not_dumpable) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  std::printf("pid %d\n", static_cast<int>(getpid()));
  if (pipe(g_worker_stop) != 0 || pipe(g_worker_ready) != 0) return 1;
  pthread_t worker, loser;
  // The worker first: the losing thread's stack is never reused by another.
  pthread_create(&worker, nullptr, Worker, nullptr);
  char c;
  if (read(g_worker_ready[0], &c, 1) != 1) return 1;
  pthread_create(&loser, nullptr, LoseSome, nullptr);
  pthread_join(loser, nullptr);
  g_old = OldBlock();
  if (not_dumpable) leakscope_mark();  // the collector has every event made so far
  Say("ready");
  char line[128];
  while (std::fgets(line, sizeof line, stdin)) {
    if (std::strcmp(line, "ping\n") == 0) {
      Say("pong");
    } else if (std::strcmp(line, "churn\n") == 0) {
      g_fresh = FreshBlock();
      std::free(g_old);
      g_old = nullptr;
      Say("churned");
    } else if (std::strncmp(line, "alloc ", 6) == 0) {
      const int n = std::atoi(line + 6);
      for (int i = 0; i < n && g_later_count < kMaxLater; ++i)
        g_later[g_later_count++] = LaterBlock();
      leakscope_mark();
      std::printf("allocated %d\n", n);
      std::fflush(stdout);
    } else {
      Say("unknown command");
    }
  }
  if (write(g_worker_stop[1], "x", 1) != 1) return 1;
  pthread_join(worker, nullptr);
  return 0;
}
