// The mark phase (collector/reachability.h) against a fake memory: memcheck's
// verdicts for each way a block can be held or lost.
#include "reachability.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "chunk_cache.h"
#include "scan_roots.h"

namespace leakscope::collector {
namespace {

// Memory as a set of regions; anything else is unmapped.
class FakeMemory : public MemoryReader {
 public:
  void Map(uint64_t start, size_t size) { regions_[start].assign(size, 0); }
  void Put(uint64_t address, uint64_t word) {
    for (auto& [start, bytes] : regions_)
      if (address >= start && address + 8 <= start + bytes.size()) {
        std::memcpy(bytes.data() + (address - start), &word, 8);
        return;
      }
    ADD_FAILURE() << "unmapped " << address;
  }
  size_t Read(uint64_t address, size_t size, uint8_t* out) override {
    for (auto& [start, bytes] : regions_)
      if (address >= start && address < start + bytes.size()) {
        const size_t n = std::min<size_t>(size, start + bytes.size() - address);
        std::memcpy(out, bytes.data() + (address - start), n);
        return n;
      }
    return 0;
  }

 private:
  std::map<uint64_t, std::vector<uint8_t>> regions_;
};

constexpr uint64_t kRoot = 0x1000, kHeap = 0x100000;

class ReachabilityTest : public ::testing::Test {
 protected:
  ReachabilityTest() {
    memory.Map(kRoot, 4096);
    memory.Map(kHeap, 1 << 20);
    roots.ranges.push_back({kRoot, kRoot + 4096});
  }
  // Block i: 64 bytes at kHeap + 256 * i.
  uint64_t Block(int i) const { return kHeap + 256 * uint64_t(i); }
  void AddBlocks(int n) {
    for (int i = 0; i < n; ++i) blocks.push_back({Block(i), 64, uint32_t(i)});
  }
  std::vector<Verdict> Run() { return ClassifyBlocks(blocks, roots, memory, &counts); }

  FakeMemory memory;
  ScanRoots roots;
  std::vector<ScanBlock> blocks;
  ScanCounts counts;
};

using V = Verdict;

TEST_F(ReachabilityTest, StartPointerInARootReachesAChain) {
  AddBlocks(3);
  memory.Put(kRoot + 8, Block(0));
  memory.Put(Block(0) + 16, Block(1));
  EXPECT_EQ(Run(), (std::vector<V>{V::kReachable, V::kReachable, V::kDefinitelyLost}));
  EXPECT_EQ(counts.root_bytes, 4096u);
  EXPECT_EQ(counts.heap_bytes, 128u);
}

TEST_F(ReachabilityTest, RegisterHoldsTheOnlyPointer) {
  AddBlocks(2);
  roots.words = {7, Block(1)};
  EXPECT_EQ(Run(), (std::vector<V>{V::kDefinitelyLost, V::kReachable}));
}

TEST_F(ReachabilityTest, InteriorPointerIsPossiblyLostAndSoIsWhatItHolds) {
  AddBlocks(3);
  memory.Put(kRoot, Block(0) + 8);
  memory.Put(Block(0), Block(1));
  EXPECT_EQ(Run(), (std::vector<V>{V::kPossiblyLost, V::kPossiblyLost, V::kDefinitelyLost}));
}

TEST_F(ReachabilityTest, StartPointerFromReachableUpgradesAPossibleBlock) {
  AddBlocks(2);
  memory.Put(kRoot, Block(1) + 8);  // possibly, first
  memory.Put(kRoot + 8, Block(0));
  memory.Put(Block(0) + 8, Block(1));  // then reachable through block 0
  EXPECT_EQ(Run(), (std::vector<V>{V::kReachable, V::kReachable}));
}

TEST_F(ReachabilityTest, UnalignedWordIsNotAPointer) {
  AddBlocks(1);
  memory.Put(kRoot + 12, Block(0));
  EXPECT_EQ(Run(), (std::vector<V>{V::kDefinitelyLost}));
}

TEST_F(ReachabilityTest, LostTreeHasOneDefiniteRootAndIndirectSubtree) {
  AddBlocks(4);  // 2 -> 0, 2 -> 3, 3 -> 1; nothing points at 2
  memory.Put(Block(2), Block(0));
  memory.Put(Block(2) + 8, Block(3));
  memory.Put(Block(3), Block(1));
  EXPECT_EQ(Run(), (std::vector<V>{V::kIndirectlyLost, V::kIndirectlyLost, V::kDefinitelyLost,
                                   V::kIndirectlyLost}));
}

TEST_F(ReachabilityTest, LostCycleHasItsLowestBlockDefinitelyLost) {
  AddBlocks(3);  // 1 -> 2 -> 1
  memory.Put(Block(1), Block(2));
  memory.Put(Block(2), Block(1));
  EXPECT_EQ(Run(), (std::vector<V>{V::kDefinitelyLost, V::kDefinitelyLost, V::kIndirectlyLost}));
}

TEST_F(ReachabilityTest, LostCycleHeldByALostBlockIsAllIndirect) {
  AddBlocks(3);  // 0 <-> 1, 2 -> 0
  memory.Put(Block(0), Block(1));
  memory.Put(Block(1), Block(0));
  memory.Put(Block(2), Block(0));
  EXPECT_EQ(Run(), (std::vector<V>{V::kIndirectlyLost, V::kIndirectlyLost, V::kDefinitelyLost}));
}

TEST_F(ReachabilityTest, InteriorPointerFromALostBlockMakesItsTargetIndirect) {
  AddBlocks(2);
  memory.Put(Block(0), Block(1) + 24);
  EXPECT_EQ(Run(), (std::vector<V>{V::kDefinitelyLost, V::kIndirectlyLost}));
}

TEST_F(ReachabilityTest, PointerPastTheEndIsNotInTheBlock) {
  AddBlocks(1);
  memory.Put(kRoot, Block(0) + 64);
  EXPECT_EQ(Run(), (std::vector<V>{V::kDefinitelyLost}));
}

TEST_F(ReachabilityTest, LongListIsMarkedWithoutRecursion) {
  const int n = 4000;  // the whole heap region: 256 bytes apart
  AddBlocks(n);
  memory.Put(kRoot, Block(0));
  for (int i = 0; i + 1 < n; ++i) memory.Put(Block(i), Block(i + 1));
  const std::vector<V> v = Run();
  EXPECT_EQ(std::count(v.begin(), v.end(), V::kReachable), n);
}

TEST_F(ReachabilityTest, LongLostListIsOneDefiniteAndTheRestIndirect) {
  const int n = 4000;
  AddBlocks(n);
  for (int i = 0; i + 1 < n; ++i) memory.Put(Block(i), Block(i + 1));
  const std::vector<V> v = Run();
  EXPECT_EQ(v[0], V::kDefinitelyLost);
  EXPECT_EQ(std::count(v.begin(), v.end(), V::kIndirectlyLost), n - 1);
}

TEST_F(ReachabilityTest, UnreadableBlockIsCountedAndScansAsEmpty) {
  blocks.push_back({0x900000, 64, 0});  // not mapped
  memory.Put(kRoot, 0x900000);
  EXPECT_EQ(Run(), (std::vector<V>{V::kReachable}));
  EXPECT_EQ(counts.unreadable_bytes, 64u);
}

TEST_F(ReachabilityTest, ZeroSizedBlockIsHeldByItsStartPointer) {
  blocks.push_back({Block(0), 0, 0});
  memory.Put(kRoot, Block(0));
  EXPECT_EQ(Run(), (std::vector<V>{V::kReachable}));
}

TEST_F(ReachabilityTest, BlocksLargerThanABatchAreScannedToTheirLastWord) {
  // Two 9 MiB blocks (read 4 MiB at a time): the held one's last word holds
  // block 0, the lost one's block 1.
  const uint64_t big = 0x10000000, size = 9 << 20;
  memory.Map(big, 2 * size);
  AddBlocks(2);
  blocks.push_back({big, size, 2});
  blocks.push_back({big + size, size, 3});
  memory.Put(kRoot, big);
  memory.Put(big + size - 8, Block(0));
  memory.Put(big + 2 * size - 8, Block(1));
  EXPECT_EQ(Run(),
            (std::vector<V>{V::kReachable, V::kIndirectlyLost, V::kReachable, V::kDefinitelyLost}));
  EXPECT_EQ(counts.heap_bytes, size + 64);
}

TEST(ChunkCache, ReadsWholeChunksOnceAndMappingsThatBeginInsideOne) {
  FakeMemory memory;
  const uint64_t base = 16 * ChunkCache::kChunkBytes;
  memory.Map(base + 4096, 2 * ChunkCache::kChunkBytes);  // begins a page into a chunk
  memory.Put(base + 4096, 11);
  memory.Put(base + ChunkCache::kChunkBytes + 8, 22);
  ChunkCache cache(memory);
  uint64_t w = 0;
  EXPECT_EQ(cache.Read(base + 4096, 8, reinterpret_cast<uint8_t*>(&w)), 8u);
  EXPECT_EQ(w, 11u);
  EXPECT_EQ(cache.Read(base + ChunkCache::kChunkBytes + 8, 8, reinterpret_cast<uint8_t*>(&w)), 8u);
  EXPECT_EQ(w, 22u);
  EXPECT_EQ(cache.Read(base + ChunkCache::kChunkBytes + 16, 8, reinterpret_cast<uint8_t*>(&w)), 8u);
  EXPECT_EQ(cache.chunk_reads(), 2u);
  // Past the mapping's end: the readable head only.
  uint8_t buffer[64];
  EXPECT_EQ(cache.Read(base + 4096 + 2 * ChunkCache::kChunkBytes - 16, 64, buffer), 16u);
}

TEST(ChunkCache, PeeksInsideOneReadableChunkOnly) {
  FakeMemory memory;
  const uint64_t base = 16 * ChunkCache::kChunkBytes;
  memory.Map(base, ChunkCache::kChunkBytes + 4096);  // a chunk and a page of the next
  memory.Put(base + 64, 33);
  ChunkCache cache(memory, 1);
  EXPECT_EQ(cache.bytes(), ChunkCache::kMinChunks * ChunkCache::kChunkBytes);
  const uint8_t* p = cache.Peek(base + 64, 16);
  ASSERT_NE(p, nullptr);
  uint64_t w = 0;
  std::memcpy(&w, p, 8);
  EXPECT_EQ(w, 33u);
  EXPECT_EQ(cache.Peek(base + ChunkCache::kChunkBytes - 8, 16), nullptr);  // crosses a chunk
  EXPECT_NE(cache.Peek(base + ChunkCache::kChunkBytes, 4096), nullptr);
  EXPECT_EQ(cache.Peek(base + ChunkCache::kChunkBytes + 4000, 200), nullptr);  // past the mapping
  EXPECT_EQ(cache.chunk_reads(), 2u);
}

TEST(SortBlocks, SortsAndDropsBlocksInsideAnEarlierOne) {
  std::vector<ScanBlock> b = {{300, 8, 3}, {100, 100, 1}, {150, 8, 2}, {200, 8, 4}};
  SortBlocks(&b);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].address, 100u);
  EXPECT_EQ(b[1].address, 200u);
  EXPECT_EQ(b[2].address, 300u);
}

// An ELF header and program headers at `at`: a read-only segment, then data
// (file 0x100 bytes, memory 0x900: its bss beyond) at vaddr 0x2000.
void PutElf(FakeMemory* memory, uint64_t at) {
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_phoff = sizeof eh;
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 2;
  Elf64_Phdr ph[2] = {};
  ph[0].p_type = PT_LOAD;
  ph[0].p_flags = PF_R;
  ph[0].p_memsz = 0x1000;
  ph[1].p_type = PT_LOAD;
  ph[1].p_flags = PF_R | PF_W;
  ph[1].p_vaddr = 0x2000;
  ph[1].p_filesz = 0x100;
  ph[1].p_memsz = 0x900;
  uint64_t words[(sizeof eh + sizeof ph) / 8];
  std::memcpy(words, &eh, sizeof eh);
  std::memcpy(reinterpret_cast<char*>(words) + sizeof eh, ph, sizeof ph);
  for (size_t i = 0; i < sizeof words / 8; ++i) memory->Put(at + 8 * i, words[i]);
}

TEST(ScanRoots, WritableSegmentsOfListedModulesFromTheirProgramHeadersNotTheShims) {
  const std::vector<MapEntry> maps = ParseMaps(
      "55d000000000-55d000001000 r--p 00000000 08:01 100 /usr/bin/prog\n"
      "55d000002000-55d000003000 rw-p 00002000 08:01 100 /usr/bin/prog\n"
      "55d000003000-55d000004000 rw-p 00000000 00:00 0 \n"
      "7f0000100000-7f0000101000 r--p 00000000 08:01 200 /opt/lib/libleakscope.so\n"
      "7f0000200000-7f0000201000 r--p 00000000 08:01 300 /usr/lib/libmimalloc.so.2\n");
  ASSERT_EQ(maps.size(), 5u);
  EXPECT_EQ(maps[1].path, "/usr/bin/prog");
  EXPECT_EQ(maps[1].offset, 0x2000u);
  FakeMemory memory;
  for (uint64_t at : {0x55d000000000ull, 0x7f0000100000ull, 0x7f0000200000ull}) {
    memory.Map(at, 4096);
    PutElf(&memory, at);
  }
  // The private mimalloc is not in the link map: not listed, not a root.
  const std::vector<MemoryRange> r = ModuleDataRanges(
      maps, {{"/usr/bin/prog", 0x55d000000000}, {"/opt/lib/libleakscope.so", 0x7f0000100000}},
      memory);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].start, 0x55d000002000u);
  EXPECT_EQ(r[0].end, 0x55d000002900u);
}

TEST(ScanRoots, StackFromBelowTheRedZoneRegistersAndTlsButNotTheShimThread) {
  FakeMemory memory;
  const std::vector<MapEntry> maps = ParseMaps(
      "7ffd00000000-7ffd00010000 rw-p 00000000 00:00 0 [stack]\n"
      "7f0000000000-7f0000010000 rw-p 00000000 00:00 0 \n");
  memory.Map(0x7f0000000000, 0x10000);
  // Thread pointer at +0x8000; DTV at +0x100 with two slots: static TLS at
  // +0x7000 and a dynamic block elsewhere.
  const uint64_t tp = 0x7f0000008000, dtv = 0x7f0000000100;
  memory.Put(tp + 8, dtv);
  memory.Put(dtv - 16, 2);
  memory.Put(dtv + 16, tp - 0x1000);
  memory.Put(dtv + 32, 0x123456789000);
  StoppedThread main_thread;
  main_thread.registers = {1, 2};
  main_thread.stack_pointer = 0x7ffd00008000;
  main_thread.thread_pointer = tp;
  StoppedThread shim = main_thread;
  shim.name = kShimThreadName;
  shim.registers = {3};
  shim.stack_pointer = 0x7ffd00000100;
  const ScanRoots roots = CollectRoots(maps, {}, {main_thread, shim}, memory);
  EXPECT_EQ(roots.words, (std::vector<uint64_t>{1, 2}));
  ASSERT_EQ(roots.ranges.size(), 3u);
  EXPECT_EQ(roots.ranges[0].start, dtv - 16);  // DTV: header and 2 slots
  EXPECT_EQ(roots.ranges[0].end, dtv + 48);
  EXPECT_EQ(roots.ranges[1].start, tp - 0x1000);  // static TLS and the descriptor
  EXPECT_EQ(roots.ranges[1].end, tp + 4096);
  EXPECT_EQ(roots.ranges[2].start, 0x7ffd00008000u - 128);
  EXPECT_EQ(roots.ranges[2].end, 0x7ffd00010000u);
}

}  // namespace
}  // namespace leakscope::collector
