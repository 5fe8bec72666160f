#include "anon_mappings.h"

#include <algorithm>

namespace leakscope::collector {

MappingSiteStats& AnonMappings::Site(uint32_t site) {
  if (site >= sites_.size()) sites_.resize(site + 1);
  return sites_[site];
}

void AnonMappings::Insert(uint64_t start, const Range& r) {
  ranges_.emplace(start, r);
  MappingSiteStats& s = Site(r.site);
  const uint64_t bytes = r.end - start;
  s.live_bytes += bytes;
  if (r.inherited) s.inherited_live_bytes += bytes;
  live_bytes_ += bytes;
  if (pieces_of_[r.origin]++ == 0) {
    ++s.live_mappings;
    ++live_mappings_;
  }
}

void AnonMappings::Erase(std::map<uint64_t, Range>::iterator it) {
  const Range r = it->second;
  MappingSiteStats& s = sites_[r.site];
  const uint64_t bytes = r.end - it->first;
  s.live_bytes -= bytes;
  if (r.inherited) s.inherited_live_bytes -= bytes;
  live_bytes_ -= bytes;
  auto p = pieces_of_.find(r.origin);
  if (--p->second == 0) {
    pieces_of_.erase(p);
    --s.live_mappings;
    --live_mappings_;
  }
  ranges_.erase(it);
}

void AnonMappings::Map(uint64_t address, uint64_t length, uint32_t site) {
  if (length == 0 || address + length < address) return;
  Unmap(address, length);
  Insert(address, Range{address + length, site, false, next_origin_++});
  MappingSiteStats& s = Site(site);
  s.mapped_bytes += length;
  ++s.mappings;
  ++mappings_;
}

void AnonMappings::Unmap(uint64_t address, uint64_t length) {
  if (length == 0) return;
  const uint64_t end = address + length < address ? UINT64_MAX : address + length;
  // The first range that ends past `address`.
  auto it = ranges_.upper_bound(address);
  if (it != ranges_.begin() && std::prev(it)->second.end > address) --it;
  while (it != ranges_.end() && it->first < end) {
    const uint64_t start = it->first;
    const Range r = it->second;
    auto next = std::next(it);
    Erase(it);
    // What is left of it on either side stays: the same mapping, in pieces.
    if (start < address) Insert(start, Range{address, r.site, r.inherited, r.origin});
    if (r.end > end) Insert(end, Range{r.end, r.site, r.inherited, r.origin});
    it = next;
  }
}

void AnonMappings::BeginRemap(uint64_t old_address, uint64_t old_length, bool keep_old) {
  if (remapping_.count(old_address)) EndRemap(old_address, 0, 0);  // never ended: as failed
  auto it = ranges_.upper_bound(old_address);
  if (it == ranges_.begin() || std::prev(it)->second.end <= old_address) return;  // not tracked
  const Range& r = std::prev(it)->second;
  InFlight f{r.site, r.inherited, keep_old, r.origin, old_length};
  // While it moves, the mapping counts as live (its origin keeps a piece).
  if (!keep_old) {
    ++pieces_of_[f.origin];
    Unmap(old_address, old_length);
  }
  remapping_[old_address] = f;
}

void AnonMappings::EndRemap(uint64_t old_address, uint64_t new_address, uint64_t new_length) {
  // Whatever was at the destination is replaced (MREMAP_FIXED), tracked or not.
  Unmap(new_address, new_length);
  auto f = remapping_.find(old_address);
  if (f == remapping_.end()) return;
  const InFlight m = f->second;
  remapping_.erase(f);
  MappingSiteStats& s = Site(m.site);
  if (m.keep_old) {               // a second mapping of the site
    if (new_length == 0) return;  // failed
    Insert(new_address, Range{new_address + new_length, m.site, false, next_origin_++});
    s.mapped_bytes += new_length;
    ++s.mappings;
    ++mappings_;
    return;
  }
  if (new_length)
    Insert(new_address, Range{new_address + new_length, m.site, m.inherited, m.origin});
  if (new_length > m.old_length) s.mapped_bytes += new_length - m.old_length;
  auto p = pieces_of_.find(m.origin);  // the piece BeginRemap kept for it
  if (--p->second == 0) {
    pieces_of_.erase(p);
    --s.live_mappings;
    --live_mappings_;
  }
}

std::vector<AnonMappings::Piece> AnonMappings::Pieces() const {
  std::vector<Piece> out;
  out.reserve(ranges_.size());
  for (const auto& [start, r] : ranges_) out.push_back(Piece{start, r.end, r.site, r.origin});
  return out;
}

void AnonMappings::Inherit(const std::vector<Piece>& pieces) {
  for (const Piece& p : pieces) {
    Insert(p.start, Range{p.end, p.site, true, p.origin});
    next_origin_ = std::max(next_origin_, p.origin + 1);
  }
}

uint64_t AnonMappings::MemoryBytes() const {
  // A map node (3 pointers, colour, key, value) and an origin entry per piece.
  return (ranges_.size() + remapping_.size()) * 120 + sites_.capacity() * sizeof(MappingSiteStats);
}

}  // namespace leakscope::collector
