/* The C library's own one-time allocations, each next to a leak of the
 * program's own (own_leak: 100 B in 1), for glibc_internals_test.cc:
 *   glibc_internals dlopen LIB   dlopen()s LIB and keeps it loaded: ld.so's
 *                                tables for it (link map, scopes, versions)
 *   glibc_internals time         gmtime_r, localtime_r and strftime: the
 *                                time zone data tzset reads once
 *   glibc_internals backtrace    backtrace(): glibc loads libgcc_s once to
 *                                unwind, and keeps it */
#include <dlfcn.h>
#include <execinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void* volatile kept;

__attribute__((noinline)) void own_leak(void) {
  kept = malloc(100);
}

int main(int argc, char** argv) {
  own_leak();
  if (argc == 3 && strcmp(argv[1], "dlopen") == 0) {
    if (dlopen(argv[2], RTLD_NOW) == NULL) return 1;
  } else if (argc == 2 && strcmp(argv[1], "time") == 0) {
    const time_t t = 86400;
    struct tm tm;
    char text[64];
    if (gmtime_r(&t, &tm) == NULL || localtime_r(&t, &tm) == NULL) return 1;
    if (strftime(text, sizeof text, "%F %T %Z", &tm) == 0) return 1;
  } else if (argc == 2 && strcmp(argv[1], "backtrace") == 0) {
    void* frames[16];
    if (backtrace(frames, 16) <= 0) return 1;
  } else {
    return 2;
  }
  return 0;
}
