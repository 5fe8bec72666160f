#include "sandbox.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

#include "hooks.h"

namespace leakscope::preload {
namespace {

std::atomic<bool> g_in_seccomp{false};
std::atomic<int> g_entering{0};  // calls in progress that may put a thread in seccomp mode
std::atomic<bool> g_outage{false};
std::atomic<uint64_t> g_lost_before_outage{0};

// Flags the process before the call: from the instant the filter exists, no
// thread of the shim may be about to create something. A call that fails
// (libseccomp probes with a null filter and expects EFAULT) changes nothing.
template <typename Call>
long EnterSeccomp(Call call) {
  g_entering.fetch_add(1, std::memory_order_seq_cst);
  const long result = call();
  if (result == 0) g_in_seccomp.store(true, std::memory_order_seq_cst);
  g_entering.fetch_sub(1, std::memory_order_seq_cst);
  return result;
}

void PutText(char** p, const char* end, const char* s) {
  while (*s && *p < end) *(*p)++ = *s++;
}

void PutNumber(char** p, const char* end, uint64_t v) {
  char digits[20];
  int n = 0;
  do digits[n++] = char('0' + v % 10);
  while ((v /= 10) != 0);
  while (n > 0 && *p < end) *(*p)++ = digits[--n];
}

// One line on stderr, without allocating (exit paths, signal handlers).
void Say(const char* before, uint64_t number, const char* after) {
  char line[256];
  char* p = line;
  const char* end = line + sizeof line - 1;
  PutText(&p, end, "leakscope: pid ");
  PutNumber(&p, end, uint64_t(getpid()));
  PutText(&p, end, before);
  if (after) {
    PutNumber(&p, end, number);
    PutText(&p, end, after);
  }
  *p++ = '\n';
  if (write(STDERR_FILENO, line, size_t(p - line)) < 0) {
    // Nowhere else to say it.
  }
}

}  // namespace

bool Sandboxed() {
  return g_in_seccomp.load(std::memory_order_seq_cst) ||
         g_entering.load(std::memory_order_seq_cst) != 0;
}

void NoteOutage(uint64_t lost_so_far) {
  if (g_outage.exchange(true)) return;
  g_lost_before_outage.store(lost_so_far);
  Say(": no collector, and the program is in seccomp mode, where socket() and connect() may "
      "be forbidden: not reconnecting; events from now on are not recorded",
      0, nullptr);
}

void ReportOutage(uint64_t lost_now) {
  if (!g_outage.load()) return;
  Say(": ", lost_now - g_lost_before_outage.load(),
      " events not recorded (no collector in seccomp mode)");
}

}  // namespace leakscope::preload

using namespace leakscope::preload;

extern "C" {

__attribute__((visibility("default"))) int prctl(int option, ...) {
  va_list ap;
  va_start(ap, option);
  unsigned long a[4];
  for (unsigned long& arg : a) arg = va_arg(ap, unsigned long);
  va_end(ap);
  const auto real = Real().prctl;
  if (option == PR_SET_SECCOMP)
    return int(EnterSeccomp([&] { return long(real(option, a[0], a[1], a[2], a[3])); }));
  return real(option, a[0], a[1], a[2], a[3]);
}

__attribute__((visibility("default"))) long syscall(long number, ...) {
  va_list ap;
  va_start(ap, number);
  long a[6];
  for (long& arg : a) arg = va_arg(ap, long);
  va_end(ap);
  const auto real = Real().syscall;
  if (number == SYS_seccomp && (a[0] == SECCOMP_SET_MODE_STRICT || a[0] == SECCOMP_SET_MODE_FILTER))
    return EnterSeccomp([&] { return real(number, a[0], a[1], a[2], a[3], a[4], a[5]); });
  return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

}  // extern "C"
