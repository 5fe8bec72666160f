// System calls made without a call into the C library. Code that runs while
// the dynamic loader's lock is held (a dl_iterate_phdr callback) must not
// call a function the program may interpose: a program's realpath() that
// calls dlsym() waits for the loader's other lock, which a thread inside
// dlopen() holds while it waits for ours (a lock-order inversion, found with
// a real interposer). The executable's own symbols come before the shim's,
// so even syscall() may be the program's.
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace leakscope::preload {

// Returns the kernel's result: -errno on failure.
inline long RawSyscall3(long nr, long a, long b, long c) {
#if defined(__x86_64__)
  long ret;
  asm volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
#elif defined(__aarch64__)
  register long x8 asm("x8") = nr;
  register long x0 asm("x0") = a;
  register long x1 asm("x1") = b;
  register long x2 asm("x2") = c;
  asm volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
  return x0;
#else
  const long ret = syscall(nr, a, b, c);
  return ret == -1 ? -errno : ret;
#endif
}

// The same with six arguments (mmap).
inline long RawSyscall6(long nr, long a, long b, long c, long d, long e, long f) {
#if defined(__x86_64__)
  long ret;
  register long r10 asm("r10") = d;
  register long r8 asm("r8") = e;
  register long r9 asm("r9") = f;
  asm volatile("syscall"
               : "=a"(ret)
               : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
               : "rcx", "r11", "memory");
  return ret;
#elif defined(__aarch64__)
  register long x8 asm("x8") = nr;
  register long x0 asm("x0") = a;
  register long x1 asm("x1") = b;
  register long x2 asm("x2") = c;
  register long x3 asm("x3") = d;
  register long x4 asm("x4") = e;
  register long x5 asm("x5") = f;
  asm volatile("svc 0"
               : "+r"(x0)
               : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
               : "memory");
  return x0;
#else
  const long ret = syscall(nr, a, b, c, d, e, f);
  return ret == -1 ? -errno : ret;
#endif
}

}  // namespace leakscope::preload
