// The cheapest possible malloc interposer: malloc and free forward straight
// to glibc. Preloaded on the churn workload it measures what interposition
// itself costs (an extra call level on a ~6 ns malloc+free pair), the floor
// under any LD_PRELOAD tool's overhead (scripts/sampled-overhead).
#include <stddef.h>

extern void* __libc_malloc(size_t size);
extern void __libc_free(void* p);

void* malloc(size_t size) {
  return __libc_malloc(size);
}

void free(void* p) {
  __libc_free(p);
}
