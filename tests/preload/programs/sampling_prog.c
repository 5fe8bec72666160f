// Known truth for the sampling accuracy test: accuracy_leak() keeps 16,000
// blocks of 64..255 bytes (2,552,000 bytes, ~623 x a 4 KiB interval) and
// accuracy_churn() allocates and frees 20,000 x 200 bytes.
#include <stdlib.h>

static void* volatile g_keep[16000];

__attribute__((noinline)) void accuracy_leak(void) {
  for (int i = 0; i < 16000; ++i) g_keep[i] = malloc(64 + i % 192);
}

__attribute__((noinline)) void accuracy_churn(void) {
  for (int i = 0; i < 20000; ++i) {
    void* volatile p = malloc(200);
    free(p);
  }
}

int main(void) {
  accuracy_leak();
  accuracy_churn();
  return 0;
}
