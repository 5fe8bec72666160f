// Loaded with dlopen, leaks, then unloaded: its stacks must still symbolize.
#include <stdlib.h>

__attribute__((noinline)) void plugin_leak(void (*keep)(void*)) {
  for (int i = 0; i < 4; ++i) keep(malloc(128));  // PLUGIN_LEAK_LINE
}
