// Two call chains that reach malloc at the same depth and stack pointer and
// differ only in leaf's caller. chain_a leaves a copy of its return address
// in leaf's frame (as a spilled function pointer or a dead local would),
// where chain_b's leaf does not write: a stack cache that looked for return
// addresses by value would give chain_b's allocation chain_a's stack.
// Leaks chain_a 3 x 24 B, then chain_b 1 x 40 B.
#include <stdint.h>
#include <stdlib.h>

void* volatile g_keep[4];
int g_kept;

__attribute__((noinline)) void leaf(int chain, size_t size) {
  volatile uintptr_t spill[2];
  if (chain == 0) spill[0] = (uintptr_t)__builtin_return_address(0);
  g_keep[g_kept++] = malloc(size);
  __asm__ volatile("" : : "r"(spill) : "memory");
}

__attribute__((noinline)) void chain_a(void) {
  leaf(0, 24);
  __asm__ volatile("" ::: "memory");  // no tail call: keep the frame
}

__attribute__((noinline)) void chain_b(void) {
  leaf(1, 40);
  __asm__ volatile("" ::: "memory");
}

// One call site for both chains (indirect through a volatile pointer).
void (*volatile g_chains[2])(void) = {chain_a, chain_b};

int main(void) {
  for (int i = 0; i < 4; ++i) {
    g_chains[i < 3 ? 0 : 1]();
    __asm__ volatile("" ::: "memory");
  }
  return 0;
}
