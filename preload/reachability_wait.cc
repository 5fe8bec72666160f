#include "reachability_wait.h"

#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>

#include "shim.h"

namespace leakscope::preload {

// api.cc: one query and its answer, within timeout_ms.
int AskReachabilityScan(int timeout_ms);

namespace {

constexpr int kScanTimeoutMs = 10000;

// Below the caller's frame: where the pass just made kept its locals. 8 KiB
// fits any thread's stack (16 KiB at least) above what the pass used.
// x86-64: every byte from this function's stack pointer down, so no slot of
// its own frame is left unwritten between the caller and the zeroed bytes
// (an array would leave one: the compiler places it below an aligned gap).
__attribute__((noinline)) void WipeStackBelow() {
#if defined(__x86_64__)
  __asm__ volatile(
      "lea -8192(%%rsp), %%rdi\n\t"
      "mov $1024, %%ecx\n\t"
      "xor %%eax, %%eax\n\t"
      "rep stosq"
      :
      :
      : "rdi", "rcx", "rax", "memory", "cc");
#else
  char scratch[8192];
  explicit_bzero(scratch, sizeof scratch);
  __asm__ volatile("" : : "r"(scratch) : "memory");
#endif
}

}  // namespace

void WipeStackBeforeScan() {
  if (g_shim.config.reachability) WipeStackBelow();
}

void AllowCollectorToTrace(int socket_fd) {
  if (!g_shim.config.reachability) return;
  ucred cred{};
  socklen_t len = sizeof cred;
  if (getsockopt(socket_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.pid > 0)
    prctl(PR_SET_PTRACER, static_cast<unsigned long>(cred.pid), 0, 0, 0);
}

void NameDrainThread() {
  if (g_shim.config.reachability) prctl(PR_SET_NAME, "leakscope", 0, 0, 0);
}

void AwaitReachabilityScan() {
  if (!g_shim.config.reachability || !g_shim.recording || !InOwnerProcess()) return;
  // Once per process: exit() again from an atexit handler, or _exit after it.
  static std::atomic<pid_t> scanned{0};
  const pid_t self = getpid();
  if (scanned.exchange(self) == self) return;
  WipeStackBelow();
  AskReachabilityScan(kScanTimeoutMs);
}

}  // namespace leakscope::preload
