// The recording path's stack capture (stack_unwind.h) on real frames: a stack from
// the cache must be exactly the stack an unwind gives, even when another
// call chain at the same depth and stack pointer left a stale copy of one of
// its return addresses on the stack.
#include "stack_unwind.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <cstdint>

#include "no_unwind_tables.h"

namespace leakscope::preload {
namespace {

StackCache g_cache;  // large: not on the stack
uint64_t g_stack_lo, g_stack_hi;
uint32_t g_full_walks;  // the thread's FullWalks so far (ThreadState::full_walks)

// The calling thread's stack, as the shim knows a thread's it started.
void StackBounds(uint64_t* lo, uint64_t* hi) {
  pthread_attr_t attr;
  void* base = nullptr;
  size_t size = 0;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    pthread_attr_getstack(&attr, &base, &size);
    pthread_attr_destroy(&attr);
  }
  *lo = reinterpret_cast<uint64_t>(base);
  *hi = *lo + size;
}

struct Capture {
  uint64_t sp = 0;           // the frame the cache is looked up from
  bool hit = false;          // served by the cache
  uint64_t leaf_caller = 0;  // Leaf's return address: into Caller<chain>
  volatile uint64_t* spill = nullptr;
  uint64_t spill_seen = 0;  // *spill when the stack was captured
  uint32_t n = 0, truth_n = 0;
  uint64_t pcs[kMaxFrames] = {}, truth[kMaxFrames] = {};
};
Capture g_got[4];

// The shape of the shim's RecordAlloc: a frame, a lookup from it, and on a
// miss the unwind that may store an entry. Also unwinds afresh: the truth.
__attribute__((noinline)) void Record(Capture* out) {
  const uint64_t sp = reinterpret_cast<uint64_t>(__builtin_frame_address(0));
  const uint64_t ra = reinterpret_cast<uint64_t>(__builtin_return_address(0));
  auto own = [ra](uint64_t pc) { return pc != ra; };  // frames below Leaf's
  out->sp = sp;
  out->hit = false;
  out->spill_seen = *out->spill;
  if (const uint32_t ref = g_cache.Lookup(sp)) {
    out->hit = true;
    out->n = g_cache.frames(ref);
    for (uint32_t i = 0; i < out->n; ++i) out->pcs[i] = g_cache.pc(ref, i);
  } else {
    uint32_t stored;
    out->n =
        UnwindAndCache(g_cache, sp, g_stack_lo, g_stack_hi, out->pcs, &stored, &g_full_walks, own);
  }
  out->truth_n = FastUnwind(out->truth, own);
  asm volatile("" ::: "memory");  // no tail call: Leaf's frame stays
}

// Chain 0 keeps a copy of its return address in its frame (as a spilled
// function pointer or a dead local would); chain 1 does not write that word,
// so it still holds chain 0's return address when chain 1 records.
__attribute__((noinline)) void Leaf(int chain, Capture* out) {
  volatile uint64_t spill[2];
  if (chain == 0) spill[0] = reinterpret_cast<uint64_t>(__builtin_return_address(0));
  out->spill = &spill[0];
  out->leaf_caller = reinterpret_cast<uint64_t>(__builtin_return_address(0));
  Record(out);
  asm volatile("" ::: "memory");
}

// Two callers of Leaf with frames of the same size (distinct code, so that
// they are not folded into one function).
template <int kChain>
__attribute__((noinline)) void Caller(Capture* out) {
  Leaf(kChain, out);
  asm volatile("" ::: "memory");
}

// Chain 0 three times, then chain 1, from one call site (so that the two
// chains differ only in Leaf's caller, and chain 0 is one call chain each
// time). Through a volatile pointer: the call stays indirect.
void (*volatile g_chains[2])(Capture*) = {Caller<0>, Caller<1>};
__attribute__((noinline)) void RunChains() {
  for (int i = 0; i < 4; ++i) {
    g_chains[i < 3 ? 0 : 1](&g_got[i]);
    asm volatile("" ::: "memory");
  }
}

TEST(StackUnwind, ACachedStackIsNeverAnotherCallChainsLeftOnTheStack) {
  pthread_attr_t attr;
  ASSERT_EQ(pthread_getattr_np(pthread_self(), &attr), 0);
  void* base;
  size_t size;
  ASSERT_EQ(pthread_attr_getstack(&attr, &base, &size), 0);
  pthread_attr_destroy(&attr);
  g_stack_lo = reinterpret_cast<uint64_t>(base);
  g_stack_hi = g_stack_lo + size;
  g_cache.Clear();
  // Every miss through RuleWalk (the stack is known; FullWalk's turn over).
  g_full_walks = kFullWalks;

  RunChains();

  const Capture& a = g_got[0];
  const Capture& b = g_got[3];
  // The situation: both chains at one stack pointer, chain 0's return
  // address left where chain 1's Leaf frame does not overwrite it.
  ASSERT_EQ(b.sp, a.sp);
  ASSERT_NE(b.leaf_caller, a.leaf_caller);
  ASSERT_EQ(b.spill, a.spill);
  ASSERT_EQ(b.spill_seen, a.leaf_caller);
  // The cache serves chain 0 once it knows it.
  EXPECT_TRUE(g_got[2].hit);
  for (const Capture& c : g_got) {
    ASSERT_GE(c.truth_n, 2u);
    EXPECT_EQ(c.truth[1], c.leaf_caller);  // the truth is what it claims to be
    ASSERT_EQ(c.n, c.truth_n) << "capture " << (&c - g_got);
    for (uint32_t i = 0; i < c.n; ++i)
      EXPECT_EQ(c.pcs[i], c.truth[i]) << "capture " << (&c - g_got) << " frame " << i;
  }
  EXPECT_FALSE(b.hit);  // chain 1's stack is not chain 0's
}

// On a known stack, misses are RuleWalk's (frame_walk.h): the fast trace's
// frames exactly, entries stored as the fast trace and FindSlots would, and
// no FullWalk spent.
TEST(StackUnwind, RuleWalksGiveTheFastTracesFrames) {
  for (const bool on_new_thread : {false, true}) {
    auto run = [](void*) -> void* {
      StackBounds(&g_stack_lo, &g_stack_hi);
      g_cache.Clear();
      g_full_walks = 0;
      RunChains();
      return nullptr;
    };
    if (on_new_thread) {
      pthread_t t;
      ASSERT_EQ(pthread_create(&t, nullptr, run, nullptr), 0);
      ASSERT_EQ(pthread_join(t, nullptr), 0);
    } else {
      run(nullptr);
    }
    EXPECT_EQ(g_full_walks, 0u) << "new thread: " << on_new_thread;
    EXPECT_FALSE(g_got[0].hit);
    EXPECT_FALSE(g_got[1].hit);
    EXPECT_TRUE(g_got[2].hit);
    EXPECT_FALSE(g_got[3].hit);
    for (const Capture& c : g_got) {
      ASSERT_GE(c.truth_n, 3u);  // Leaf's caller, RunChains, ... to the thread's first frame
      ASSERT_EQ(c.n, c.truth_n) << "capture " << (&c - g_got) << ", new thread " << on_new_thread;
      for (uint32_t i = 0; i < c.n; ++i) EXPECT_EQ(c.pcs[i], c.truth[i]) << "frame " << i;
    }
  }
}

// A stack the shim does not know (a thread it did not start): FullWalk for
// the thread's first misses, then the fast trace; the same frames.
TEST(StackUnwind, FullWalksGiveTheFastTracesFramesThenStop) {
  g_stack_lo = g_stack_hi = 0;
  g_cache.Clear();
  g_full_walks = 0;
  RunChains();
  EXPECT_EQ(g_full_walks, 4u);  // nothing stored: four misses
  for (const Capture& c : g_got) {
    EXPECT_FALSE(c.hit);
    ASSERT_GE(c.truth_n, 3u);
    ASSERT_EQ(c.n, c.truth_n) << "capture " << (&c - g_got);
    for (uint32_t i = 0; i < c.n; ++i) EXPECT_EQ(c.pcs[i], c.truth[i]) << "frame " << i;
  }
  // Spent: the fast trace serves the misses from now on.
  g_full_walks = kFullWalks;
  RunChains();
  EXPECT_EQ(g_full_walks, kFullWalks);
  for (const Capture& c : g_got) ASSERT_EQ(c.n, c.truth_n);
}

#if defined(__x86_64__)
struct Through {
  uint64_t stack_lo = 0, stack_hi = 0;
  uint32_t rule = 0, full = 0, fast = 0, fallback = 0;
  uint64_t pcs[kMaxFrames] = {}, slots[kMaxFrames] = {}, fast_pcs[kMaxFrames] = {},
           fallback_pcs[kMaxFrames] = {};
  uint64_t at_slots[kMaxFrames] = {};  // what each slot held right after the walk
};

__attribute__((noinline)) void UnwindThrough(void* arg) {
  Through& t = *static_cast<Through*>(arg);
  auto own = [](uint64_t) { return false; };
  t.rule = RuleWalk(t.pcs, t.slots, own, t.stack_lo, t.stack_hi);
  // Before another call reuses RuleWalk's dead frame (slot 0).
  for (uint32_t i = 0; i < t.rule; ++i)
    t.at_slots[i] = *reinterpret_cast<const uint64_t*>(t.slots[i]);
  uint64_t pcs[kMaxFrames], slots[kMaxFrames];
  t.full = FullWalk(pcs, slots, own);
  t.fast = FastUnwind(t.fast_pcs, own);
  StackCache cache;  // not in the cache's stack bounds (0, 0): nothing stored
  uint32_t ref, walks = 0;
  t.fallback = UnwindAndCache(cache, 0, 0, 0, t.fallback_pcs, &ref, &walks, own);
  asm volatile("" ::: "memory");
}

// A frame without unwind tables (JIT code) ends libgcc's walk. RuleWalk
// crosses it by its frame pointer and goes on by the CFI of the frames
// beyond: the fast trace's frames, each with the slot it was read from, on
// the main thread's stack and a new thread's. On a stack the shim does not
// know, FullWalk says it cannot vouch for the stack, and the miss gets the
// fast trace's frames.
TEST(StackUnwind, RuleWalkCrossesAFrameWithoutUnwindTables) {
  for (const bool on_new_thread : {false, true}) {
    Through t;
    auto run = [](void* arg) -> void* {
      Through& t = *static_cast<Through*>(arg);
      StackBounds(&t.stack_lo, &t.stack_hi);
      LeakscopeCallWithoutUnwindTables(UnwindThrough, &t);
      return nullptr;
    };
    if (on_new_thread) {
      pthread_t thread;
      ASSERT_EQ(pthread_create(&thread, nullptr, run, &t), 0);
      ASSERT_EQ(pthread_join(thread, nullptr), 0);
    } else {
      run(&t);
    }
    EXPECT_EQ(t.full, 0u);
    ASSERT_GE(t.fast, 4u);  // UnwindThrough, the code without tables, run, ...
    // The frames from UnwindThrough's caller outward are the same (the
    // innermost pc differs: separate call sites in UnwindThrough).
    ASSERT_EQ(t.rule, t.fast) << "new thread: " << on_new_thread;
    for (uint32_t i = 1; i < t.fast; ++i) EXPECT_EQ(t.pcs[i], t.fast_pcs[i]) << i;
    for (uint32_t i = 0; i < t.rule; ++i) {
      EXPECT_EQ(t.at_slots[i], t.pcs[i]) << i;
      if (i) {
        EXPECT_GT(t.slots[i], t.slots[i - 1]) << i;
      }
    }
    ASSERT_EQ(t.fallback, t.fast);
    for (uint32_t i = 1; i < t.fast; ++i) EXPECT_EQ(t.fallback_pcs[i], t.fast_pcs[i]) << i;
  }
}
#endif

}  // namespace
}  // namespace leakscope::preload
