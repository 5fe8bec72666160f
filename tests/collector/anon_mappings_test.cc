// AnonMappings: the interval map of the program's anonymous mappings, against
// what the kernel does for each call (split, span, move, replace).
#include "anon_mappings.h"

#include <gtest/gtest.h>

namespace leakscope::collector {
namespace {

constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kPage = 4096;

struct Figures {
  uint64_t live_bytes, live_mappings, mapped_bytes, mappings;
  bool operator==(const Figures& o) const {
    return live_bytes == o.live_bytes && live_mappings == o.live_mappings &&
           mapped_bytes == o.mapped_bytes && mappings == o.mappings;
  }
};
void PrintTo(const Figures& f, std::ostream* os) {
  *os << "{" << f.live_bytes << ", " << f.live_mappings << ", " << f.mapped_bytes << ", "
      << f.mappings << "}";
}
Figures Of(const AnonMappings& m, uint32_t site) {
  if (site >= m.sites().size()) return {0, 0, 0, 0};
  const MappingSiteStats& s = m.sites()[site];
  return {s.live_bytes, s.live_mappings, s.mapped_bytes, s.mappings};
}

TEST(AnonMappings, MapAndUnmapWhole) {
  AnonMappings m;
  m.Map(0x10000000, kMiB, 1);
  m.Map(0x20000000, 2 * kMiB, 1);
  m.Map(0x30000000, kMiB, 2);
  EXPECT_EQ(Of(m, 1), (Figures{3 * kMiB, 2, 3 * kMiB, 2}));
  EXPECT_EQ(Of(m, 2), (Figures{kMiB, 1, kMiB, 1}));
  m.Unmap(0x20000000, 2 * kMiB);
  EXPECT_EQ(Of(m, 1), (Figures{kMiB, 1, 3 * kMiB, 2}));
  EXPECT_EQ(m.live_bytes(), 2 * kMiB);
  EXPECT_EQ(m.live_mappings(), 2u);
  EXPECT_EQ(m.pieces(), 2u);
}

TEST(AnonMappings, UnmapInTheMiddleSplitsOneMappingInTwoPieces) {
  AnonMappings m;
  m.Map(0x10000000, 16 * kPage, 3);
  m.Unmap(0x10000000 + 4 * kPage, 2 * kPage);
  EXPECT_EQ(Of(m, 3), (Figures{14 * kPage, 1, 16 * kPage, 1}));
  EXPECT_EQ(m.pieces(), 2u);
  // The head, then the tail: the mapping is gone once both are.
  m.Unmap(0x10000000, 4 * kPage);
  EXPECT_EQ(Of(m, 3), (Figures{10 * kPage, 1, 16 * kPage, 1}));
  m.Unmap(0x10000000 + 6 * kPage, 10 * kPage);
  EXPECT_EQ(Of(m, 3), (Figures{0, 0, 16 * kPage, 1}));
  EXPECT_EQ(m.pieces(), 0u);
  EXPECT_EQ(m.live_mappings(), 0u);
}

TEST(AnonMappings, UnmapOfTheSecondHalf) {
  AnonMappings m;
  m.Map(0x7f0000000000, kMiB, 1);
  m.Unmap(0x7f0000000000 + kMiB / 2, kMiB / 2);
  EXPECT_EQ(Of(m, 1), (Figures{kMiB / 2, 1, kMiB, 1}));
}

TEST(AnonMappings, OneUnmapSpanningSeveralMappingsAndGaps) {
  AnonMappings m;
  m.Map(0x10000, 4 * kPage, 1);         // [0x10000, 0x14000)
  m.Map(0x20000, 4 * kPage, 2);         // [0x20000, 0x24000)
  m.Map(0x30000, 4 * kPage, 1);         // [0x30000, 0x34000)
  m.Unmap(0x12000, 0x32000 - 0x12000);  // the tail of the first to the head of the third
  EXPECT_EQ(Of(m, 1), (Figures{2 * kPage + 2 * kPage, 2, 8 * kPage, 2}));
  EXPECT_EQ(Of(m, 2), (Figures{0, 0, 4 * kPage, 1}));
  const std::vector<AnonMappings::Piece> p = m.Pieces();
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].start, 0x10000u);
  EXPECT_EQ(p[0].end, 0x12000u);
  EXPECT_EQ(p[1].start, 0x32000u);
  EXPECT_EQ(p[1].end, 0x34000u);
}

TEST(AnonMappings, UnmapOfRangesNeverTrackedChangesNothing) {
  AnonMappings m;
  m.Map(0x40000, 4 * kPage, 1);
  m.Unmap(0x10000, 0x30000);  // ends where the mapping starts
  m.Unmap(0x44000, kMiB);     // starts where it ends
  m.Unmap(0x40000, 0);
  EXPECT_EQ(Of(m, 1), (Figures{4 * kPage, 1, 4 * kPage, 1}));
  m.Unmap(0, UINT64_MAX);  // to the end of the address space, without overflow
  EXPECT_EQ(Of(m, 1), (Figures{0, 0, 4 * kPage, 1}));
}

TEST(AnonMappings, MapFixedOverExistingMappingsReplacesThem) {
  AnonMappings m;
  m.Map(0x100000, 8 * kPage, 1);
  m.Map(0x108000, 8 * kPage, 1);
  // MAP_FIXED from the middle of the first into the second.
  m.Map(0x104000, 8 * kPage, 2);
  EXPECT_EQ(Of(m, 1), (Figures{8 * kPage, 2, 16 * kPage, 2}));
  EXPECT_EQ(Of(m, 2), (Figures{8 * kPage, 1, 8 * kPage, 1}));
  EXPECT_EQ(m.live_bytes(), 16 * kPage);
  EXPECT_EQ(m.pieces(), 3u);
  // Exactly over a whole one: it is gone.
  m.Map(0x104000, 8 * kPage, 3);
  EXPECT_EQ(Of(m, 2), (Figures{0, 0, 8 * kPage, 1}));
  EXPECT_EQ(Of(m, 3), (Figures{8 * kPage, 1, 8 * kPage, 1}));
}

TEST(AnonMappings, RemapGrowsInPlaceShrinksAndMoves) {
  AnonMappings m;
  m.Map(0x200000, kMiB, 4);
  m.Remap(0x200000, kMiB, 0x200000, 2 * kMiB, false);  // grown in place
  EXPECT_EQ(Of(m, 4), (Figures{2 * kMiB, 1, 2 * kMiB, 1}));
  m.Remap(0x200000, 2 * kMiB, 0x200000, kMiB / 2, false);  // shrunk
  EXPECT_EQ(Of(m, 4), (Figures{kMiB / 2, 1, 2 * kMiB, 1}));
  m.Remap(0x200000, kMiB / 2, 0x900000, 4 * kMiB, false);  // moved (MREMAP_MAYMOVE)
  EXPECT_EQ(Of(m, 4), (Figures{4 * kMiB, 1, 11 * kMiB / 2, 1}));
  const std::vector<AnonMappings::Piece> p = m.Pieces();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].start, 0x900000u);
  EXPECT_EQ(p[0].end, 0x900000u + 4 * kMiB);
  m.Unmap(0x900000, 4 * kMiB);
  EXPECT_EQ(Of(m, 4), (Figures{0, 0, 11 * kMiB / 2, 1}));
}

TEST(AnonMappings, RemapFixedReplacesWhatWasAtTheDestination) {
  AnonMappings m;
  m.Map(0x100000, 4 * kPage, 1);
  m.Map(0x200000, 8 * kPage, 2);
  m.Remap(0x100000, 4 * kPage, 0x202000, 4 * kPage, false);  // MREMAP_FIXED into site 2's
  EXPECT_EQ(Of(m, 1), (Figures{4 * kPage, 1, 4 * kPage, 1}));
  EXPECT_EQ(Of(m, 2), (Figures{4 * kPage, 1, 8 * kPage, 1}));
  EXPECT_EQ(m.pieces(), 3u);
  // An untracked mapping (a file's) moved over a tracked one replaces it too.
  m.Remap(0x900000, kPage, 0x200000, 2 * kPage, false);
  EXPECT_EQ(Of(m, 2), (Figures{2 * kPage, 1, 8 * kPage, 1}));
}

TEST(AnonMappings, AMappingMadeAtTheOldRangeDuringAMoveIsNotTakenForTheMovedOne) {
  AnonMappings m;
  m.Map(0x100000, 4 * kPage, 1);
  m.BeginRemap(0x100000, 4 * kPage, false);
  EXPECT_EQ(Of(m, 1), (Figures{0, 1, 4 * kPage, 1}));  // moving: still one mapping
  m.Map(0x100000, 2 * kPage, 2);  // another thread, as soon as the range is free
  m.EndRemap(0x100000, 0x800000, 8 * kPage);
  EXPECT_EQ(Of(m, 1), (Figures{8 * kPage, 1, 8 * kPage, 1}));
  EXPECT_EQ(Of(m, 2), (Figures{2 * kPage, 1, 2 * kPage, 1}));
}

TEST(AnonMappings, AFailedRemapPutsTheMappingBack) {
  AnonMappings m;
  m.Map(0x100000, 4 * kPage, 1);
  m.BeginRemap(0x100000, 4 * kPage, false);
  m.EndRemap(0x100000, 0x100000, 4 * kPage);  // the shim's end of a failed call
  EXPECT_EQ(Of(m, 1), (Figures{4 * kPage, 1, 4 * kPage, 1}));
  m.BeginRemap(0x100000, 4 * kPage, true);
  m.EndRemap(0x100000, 0, 0);
  EXPECT_EQ(Of(m, 1), (Figures{4 * kPage, 1, 4 * kPage, 1}));
  EXPECT_EQ(m.pieces(), 1u);
}

TEST(AnonMappings, AnEndWithoutItsBeginOnlyReplacesTheDestination) {
  AnonMappings m;
  m.Map(0x100000, 4 * kPage, 1);
  m.EndRemap(0x900000, 0x100000, kPage);  // an untracked (file) mapping moved there
  EXPECT_EQ(Of(m, 1), (Figures{3 * kPage, 1, 4 * kPage, 1}));
}

TEST(AnonMappings, RemapOfPartOfAMappingKeepsItOneMapping) {
  AnonMappings m;
  m.Map(0x100000, 8 * kPage, 1);
  m.Remap(0x104000, 4 * kPage, 0x500000, 4 * kPage, false);
  EXPECT_EQ(Of(m, 1), (Figures{8 * kPage, 1, 8 * kPage, 1}));
  EXPECT_EQ(m.pieces(), 2u);
}

TEST(AnonMappings, RemapKeepingTheOldRangeMakesASecondMapping) {
  AnonMappings m;
  m.Map(0x100000, 4 * kPage, 1);
  m.Remap(0x100000, 4 * kPage, 0x500000, 4 * kPage, true);  // MREMAP_DONTUNMAP
  EXPECT_EQ(Of(m, 1), (Figures{8 * kPage, 2, 8 * kPage, 2}));
}

TEST(AnonMappings, AForkedChildInheritsThePiecesAsOneMappingEach) {
  AnonMappings parent;
  parent.Map(0x100000, 8 * kPage, 1);
  parent.Unmap(0x102000, kPage);  // two pieces of one mapping
  parent.Map(0x300000, kPage, 2);
  AnonMappings child;
  child.Inherit(parent.Pieces());
  EXPECT_EQ(Of(child, 1), (Figures{7 * kPage, 1, 0, 0}));
  EXPECT_EQ(child.sites()[1].inherited_live_bytes, 7 * kPage);
  EXPECT_EQ(Of(child, 2), (Figures{kPage, 1, 0, 0}));
  // The child's own mapping does not take an inherited one's identity.
  child.Map(0x400000, kPage, 1);
  EXPECT_EQ(Of(child, 1), (Figures{8 * kPage, 2, kPage, 1}));
  child.Unmap(0x100000, 8 * kPage);
  EXPECT_EQ(Of(child, 1), (Figures{kPage, 1, kPage, 1}));
  EXPECT_EQ(child.sites()[1].inherited_live_bytes, 0u);
}

}  // namespace
}  // namespace leakscope::collector
