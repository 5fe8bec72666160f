// Three sites for top_pty_test.cc, each first by one of `leakscope top`'s
// sort keys: Big() holds the most bytes (16 MiB in 4 blocks), Many() the most
// blocks (4,000 of 16 bytes), Grows() is the only one growing (8 KiB every
// 50 ms, stopping at 1,900 blocks: fewer bytes than Big, fewer blocks than
// Many). It says "ready" once Big and Many are allocated and runs until its
// stdin closes.
#include <poll.h>
#include <unistd.h>

#include <cstdlib>

// Global, read by no one: but the compiler cannot know, so the allocations stay.
void* g_keep[8192];
int g_kept = 0;

__attribute__((noinline)) void Big() {
  for (int i = 0; i < 4; ++i) g_keep[g_kept++] = malloc(4 << 20);
}

__attribute__((noinline)) void Many() {
  for (int i = 0; i < 4000; ++i) g_keep[g_kept++] = malloc(16);
}

__attribute__((noinline)) void Grows() {
  g_keep[g_kept++] = malloc(8192);
}

int main() {
  Big();
  Many();
  // write(), not stdio: a stdout buffer would be one more (runtime) site.
  if (write(1, "ready\n", 6) != 6) return 1;
  for (int step = 0;; ++step) {
    pollfd in{0, POLLIN, 0};
    if (poll(&in, 1, 50) > 0) {
      char c;
      if (read(0, &c, 1) <= 0) return 0;
    }
    if (step < 1900) Grows();
  }
}
