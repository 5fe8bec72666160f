// A GoogleTest suite with the leakscope listener (leakscope_gtest_main):
// some tests leak, some do not, some leak within what they are allowed.
// gtest_listener_test.cc runs it under the shim and without.
#include <gtest/gtest.h>
#include <leakscope.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "leakscope_gtest.h"

namespace {

void* g_kept[64];
int g_nkept = 0;

void Keep(void* p) {
  g_kept[g_nkept++ % 64] = p;
}

__attribute__((noinline)) void* LeakForTest(size_t n) {
  void* p = std::malloc(n);
  asm volatile("" : : "r"(p) : "memory");
  return p;
}

__attribute__((noinline)) void* CacheForever(size_t n) {
  void* p = std::malloc(n);
  asm volatile("" : : "r"(p) : "memory");
  return p;
}

// A bump allocator over a static arena, told to leakscope like malloc.
alignas(16) char g_arena[4096];
size_t g_used = 0;

__attribute__((noinline)) void* PoolAllocate(size_t n) {
  void* p = g_arena + g_used;
  g_used += (n + 15) & ~size_t{15};
  leakscope_report_alloc(p, n);
  return p;
}

__attribute__((noinline)) void PoolFree(void* p) {
  leakscope_report_free(p);
}

}  // namespace

TEST(Suite, Clean) {
  void* p = std::malloc(100);
  std::free(p);
  std::string s(1000, 'x');
  EXPECT_EQ(s.size(), 1000u);
}

TEST(Suite, Leaks) {
  Keep(LeakForTest(48));
}

TEST(Suite, WithinBudget) {
  leakscope::gtest::SetLeakBudget(64);
  Keep(LeakForTest(64));
}

TEST(Suite, OverBudget) {
  leakscope::gtest::SetLeakBudget(64);
  Keep(LeakForTest(65));
}

TEST(Suite, Allowed) {
  leakscope::gtest::AllowLeaksIn("CacheForever");
  Keep(CacheForever(32));
}

TEST(Suite, Paused) {
  leakscope_pause();
  Keep(LeakForTest(32));
  leakscope_resume();
}

TEST(Suite, PoolLeak) {
  Keep(PoolAllocate(24));
}

TEST(Suite, PoolClean) {
  PoolFree(PoolAllocate(24));
}

// A leak through std::vector: the failure names the program's line, not
// std::vector's allocator.
__attribute__((noinline)) std::vector<int>* LeakVector() {
  auto* v = new std::vector<int>;
  v->push_back(1);
  return v;
}

TEST(Suite, VectorLeak) {
  Keep(LeakVector());
}
