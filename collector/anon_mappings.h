// The program's anonymous mappings (mmap/munmap/mremap, wire.MapEvent), by
// the site that made them: an interval map of the live ranges, as the kernel
// would have them after each call. Kept apart from the heap (LiveTable):
// heap blocks are freed whole by address, mappings are unmapped by range (a
// part of one, or several at once), moved and resized, and replaced by a
// MAP_FIXED mapping laid over them.
//
// A site's live mappings count the mmap calls of which at least one byte is
// still mapped (a munmap in the middle of one leaves one mapping in two
// pieces; mremap keeps the mapping it moves or resizes). Ranges are whole
// pages (the shim rounds lengths up to its page size).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <unordered_map>
#include <vector>

namespace leakscope::collector {

struct MappingSiteStats {
  uint64_t live_bytes = 0;
  uint64_t live_mappings = 0;
  uint64_t mapped_bytes = 0;          // by mmap calls, and by mremap growing them
  uint64_t mappings = 0;              // mmap calls
  uint64_t inherited_live_bytes = 0;  // a forked child: of live_bytes, mapped by the parent
};

class AnonMappings {
 public:
  // One live range, for a forked child's inheritance.
  struct Piece {
    uint64_t start, end;
    uint32_t site;
    uint64_t origin;  // the mmap call it belongs to
  };

  // An anonymous mapping of [address, address + length) made at `site`;
  // whatever was mapped there is replaced (MAP_FIXED).
  void Map(uint64_t address, uint64_t length, uint32_t site);
  // Unmaps [address, address + length): parts of mappings, or several.
  // Ranges never tracked (file mappings, the shim's own) are ignored.
  void Unmap(uint64_t address, uint64_t length);
  // mremap, in two events around the call (the shim records the first
  // before it, so that another thread's mmap that gets the old range as soon
  // as it is free cannot come first). Begin: the tracked mapping at
  // old_address (if any) leaves [old_address, old_address + old_length),
  // unless keep_old (MREMAP_DONTUNMAP, or old_length 0 on a shared mapping:
  // a second mapping of the same pages). End: it now covers
  // [new_address, new_address + new_length), same site and mapping (a new
  // mapping of the site if keep_old), replacing what was there
  // (MREMAP_FIXED). A failed call ends with the old range (or length 0).
  void BeginRemap(uint64_t old_address, uint64_t old_length, bool keep_old);
  void EndRemap(uint64_t old_address, uint64_t new_address, uint64_t new_length);
  // Both at once (tests).
  void Remap(uint64_t old_address, uint64_t old_length, uint64_t new_address, uint64_t new_length,
             bool keep_old) {
    BeginRemap(old_address, old_length, keep_old);
    EndRemap(old_address, new_address, new_length);
  }

  std::vector<Piece> Pieces() const;
  // A forked child starts with its parent's pieces (marked inherited).
  void Inherit(const std::vector<Piece>& pieces);

  const std::vector<MappingSiteStats>& sites() const { return sites_; }
  uint64_t live_bytes() const { return live_bytes_; }
  uint64_t live_mappings() const { return live_mappings_; }
  uint64_t mappings() const { return mappings_; }
  size_t pieces() const { return ranges_.size(); }
  uint64_t MemoryBytes() const;

 private:
  struct Range {
    uint64_t end;
    uint32_t site;
    bool inherited;
    uint64_t origin;
  };
  MappingSiteStats& Site(uint32_t site);
  void Insert(uint64_t start, const Range& r);
  void Erase(std::map<uint64_t, Range>::iterator it);

  std::map<uint64_t, Range> ranges_;                  // by start; never overlapping
  std::unordered_map<uint64_t, uint32_t> pieces_of_;  // origin -> its ranges
  struct InFlight {  // between BeginRemap and EndRemap, by old address
    uint32_t site;
    bool inherited, keep_old;
    uint64_t origin, old_length;
  };
  std::unordered_map<uint64_t, InFlight> remapping_;
  std::vector<MappingSiteStats> sites_;
  uint64_t live_bytes_ = 0, live_mappings_ = 0, mappings_ = 0;
  uint64_t next_origin_ = 1;
};

}  // namespace leakscope::collector
