// The shim's memory figures: smaps tallied by kind of mapping, and the wire
// encoding of wire.MemoryStats.
#include "memory_figures.h"

#include <gtest/gtest.h>
#include <lz4.h>

#include <cstring>
#include <string>

#include "framing.h"
#include "wire.pb.h"
#include "wire_writer.h"

namespace leakscope::preload {
namespace {

// Each kind once, with the lines the tally reads (and some it skips).
const char kSmaps[] =
    "55d915875000-55d915877000 r-xp 00001000 fe:00 10952816                   /usr/bin/prog\n"
    "Size:                  8 kB\n"
    "Rss:                   8 kB\n"
    "Anonymous:             0 kB\n"
    "VmFlags: rd ex mr mw me sd\n"
    "55d915879000-55d91587a000 rw-p 00003000 fe:00 10952816                   /usr/bin/prog\n"
    "Rss:                   4 kB\n"
    "Anonymous:             4 kB\n"
    "55d92e94e000-55d92e96f000 rw-p 00000000 00:00 0                          [heap]\n"
    "Rss:                 132 kB\n"
    "Anonymous:           132 kB\n"
    // A thread's stack: its guard page right below.
    "7f1f5347c000-7f1f5347d000 ---p 00000000 00:00 0 \n"
    "Rss:                   0 kB\n"
    "7f1f5347d000-7f1f534bd000 rw-p 00000000 00:00 0 \n"
    "Rss:                  72 kB\n"
    "Anonymous:            72 kB\n"
    // An arena: read-write below, its inaccessible reserve above (64 MiB).
    "7f1f40000000-7f1f40021000 rw-p 00000000 00:00 0 \n"
    "Rss:                  12 kB\n"
    "Anonymous:            12 kB\n"
    "7f1f40021000-7f1f44000000 ---p 00000000 00:00 0 \n"
    "Rss:                   0 kB\n"
    // Not a stack: the reserve above is 64 MiB, not a guard page.
    "7f1f44000000-7f1f44001000 rw-p 00000000 00:00 0 \n"
    "Rss:                   4 kB\n"
    "Anonymous:             4 kB\n"
    "7f1f536ee000-7f1f536f0000 rw-s 00000000 00:01 1234                       /dev/zero (deleted)\n"
    "Rss:                   8 kB\n"
    "Anonymous:             0 kB\n"
    "7f1f536f6000-7f1f536f8000 r-xp 00000000 00:00 0                          [vdso]\n"
    "Rss:                   4 kB\n"
    "7ffdea58e000-7ffdea5af000 rw-p 00000000 00:00 0                          [stack]\n"
    "Rss:                  16 kB\n"
    "Anonymous:            16 kB";  // no final newline

TEST(SmapsTally, TalliesEachKindWhateverThePieces) {
  for (size_t piece : {size_t{1}, size_t{7}, size_t{100}, sizeof kSmaps}) {
    MemoryFigures m;
    SmapsTally tally(&m);
    for (size_t at = 0; at < sizeof kSmaps - 1; at += piece)
      tally.Feed(kSmaps + at, std::min(piece, sizeof kSmaps - 1 - at));
    tally.Finish();
    EXPECT_EQ(m.file, (8 + 4) * 1024u) << piece;  // the program's pages, the vdso
    // The data page copied on write, [heap], the arena, the page above its
    // reserve, and the shared anonymous mapping.
    EXPECT_EQ(m.anonymous, (4 + 132 + 12 + 4 + 8) * 1024u) << piece;
    EXPECT_EQ(m.stack, (72 + 16) * 1024u) << piece;
    EXPECT_EQ(m.thread_stacks, 1u) << piece;
    EXPECT_EQ(m.rss, (8 + 4 + 132 + 72 + 12 + 4 + 8 + 4 + 16) * 1024u) << piece;
  }
}

TEST(SmapsTally, ALineLongerThanItsBufferIsCutNotOverrun) {
  MemoryFigures m;
  SmapsTally tally(&m);
  const std::string path(5000, 'x');
  const std::string text =
      "7f0000000000-7f0000001000 r--p 00000000 fe:00 1 /" + path + "\nRss: 4 kB\n";
  tally.Feed(text.data(), text.size());
  tally.Finish();
  EXPECT_EQ(m.file, 4096u);
  EXPECT_EQ(m.rss, 4096u);
}

TEST(MemoryStats, EncodedInStatsDecodeExactly) {
  MemoryFigures f;
  f.allocator = 1;
  f.allocator_in_use = 1000;
  f.allocator_free = 2000;
  f.allocator_mapped = 3000;
  f.allocator_releasable = 400;
  f.maps_read = true;
  f.rss = 1 << 20;
  f.anonymous = 5000;
  f.stack = 6000;
  f.file = 7000;
  f.thread_stacks = 3;
  StatsInfo s;
  s.time_ns = 42;
  s.memory = &f;
  ByteBuffer msg, frame;
  EncodeStats(s, &msg);
  ASSERT_TRUE(EncodeFrame(msg, &frame));
  uint32_t compressed, raw;
  std::memcpy(&compressed, frame.data(), 4);
  std::memcpy(&raw, frame.data() + 4, 4);
  std::string out(raw, '\0');
  ASSERT_EQ(LZ4_decompress_safe(frame.data() + 8, out.data(), int(compressed), int(raw)), int(raw));
  wire::Message m;
  ASSERT_TRUE(m.ParseFromString(out));
  ASSERT_TRUE(m.stats().has_memory());
  const wire::MemoryStats& w = m.stats().memory();
  EXPECT_EQ(w.allocator(), wire::MemoryStats::GLIBC);
  EXPECT_EQ(w.allocator_in_use_bytes(), 1000u);
  EXPECT_EQ(w.allocator_free_bytes(), 2000u);
  EXPECT_EQ(w.allocator_mapped_bytes(), 3000u);
  EXPECT_EQ(w.allocator_releasable_bytes(), 400u);
  EXPECT_TRUE(w.maps_read());
  EXPECT_EQ(w.rss_bytes(), 1u << 20);
  EXPECT_EQ(w.anonymous_bytes(), 5000u);
  EXPECT_EQ(w.stack_bytes(), 6000u);
  EXPECT_EQ(w.file_bytes(), 7000u);
  EXPECT_EQ(w.thread_stacks(), 3u);
  // Without figures, no MemoryStats (older collectors see nothing new).
  ByteBuffer plain, plain_frame;
  s.memory = nullptr;
  EncodeStats(s, &plain);
  wire::Message p;
  ASSERT_TRUE(p.ParseFromArray(plain.data(), int(plain.size())));
  EXPECT_FALSE(p.stats().has_memory());
}

}  // namespace
}  // namespace leakscope::preload
