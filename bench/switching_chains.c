// The stack cache's miss paths, for callgrind (exact instruction counts):
// malloc+free pairs from two call chains at one stack pointer (malloc's
// callers differ, the rest is one call site), switching every RUN pairs.
// RUN 1: every pair misses and no chain is stored; RUN 2: each chain misses
// twice, is stored, and is replaced by the other (a walk for slots every
// other pair: the worst case); a large RUN: nearly every pair hits.
//   switching_chains RUN PAIRS
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) void pair_from_a(size_t size) {
  void* volatile p = malloc(size);
  free(p);
}

__attribute__((noinline)) void pair_from_b(size_t size) {
  void* volatile p = malloc(size + 1);  // distinct code: never folded into pair_from_a
  free(p);
}

void (*volatile g_pair_from[2])(size_t) = {pair_from_a, pair_from_b};

int main(int argc, char** argv) {
  if (argc != 3 || atol(argv[1]) < 1 || atol(argv[2]) < 1) {
    fprintf(stderr, "usage: switching_chains RUN PAIRS (both >= 1)\n");
    return 2;
  }
  const long run = atol(argv[1]), pairs = atol(argv[2]);
  for (long i = 0; i < pairs; ++i) g_pair_from[(i / run) & 1](64);
  return 0;
}
