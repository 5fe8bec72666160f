// Prints one line of an example's result.
//
// write(2) instead of stdio: glibc mallocs stdout's buffer and never frees it,
// which would add a live allocation with main() on its stack to every report.
#pragma once

#include <unistd.h>

#include <cstdio>

namespace examples {

inline void Say(const char* what, unsigned long long value) {
  char line[160];
  const int n = std::snprintf(line, sizeof line, "%s: %llu\n", what, value);
  if (n > 0 && write(STDOUT_FILENO, line, static_cast<size_t>(n)) < 0) return;
}

}  // namespace examples
