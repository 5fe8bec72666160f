#include "scan_roots.h"

#include <elf.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace leakscope::collector {
namespace {

constexpr uint64_t kRedZone = 128;
constexpr uint64_t kThreadDescriptorBytes = 4096;
constexpr uint64_t kMaxStaticTls = 64ull << 20;
constexpr uint64_t kMaxDtvEntries = 1 << 16;
constexpr uint16_t kMaxPhdrs = 256;

bool IsModulePath(const std::string& path) {
  if (path.empty() || path[0] != '/') return false;  // [stack], [heap], [vdso], anonymous
  return path.rfind("/dev/", 0) != 0 && path.rfind("/memfd:", 0) != 0 &&
         path.rfind("/SYSV", 0) != 0;
}

bool IsShim(const std::string& path) {
  const size_t slash = path.rfind('/');
  return path.compare(slash + 1, 12, "libleakscope") == 0;
}

const MapEntry* Containing(const std::vector<MapEntry>& maps, uint64_t address) {
  for (const MapEntry& m : maps)
    if (address >= m.start && address < m.end) return &m;
  return nullptr;
}

void Merge(std::vector<MemoryRange>* ranges) {
  std::sort(ranges->begin(), ranges->end(),
            [](const MemoryRange& a, const MemoryRange& b) { return a.start < b.start; });
  size_t kept = 0;
  for (const MemoryRange& r : *ranges) {
    if (r.end <= r.start) continue;
    if (kept > 0 && r.start <= (*ranges)[kept - 1].end)
      (*ranges)[kept - 1].end = std::max((*ranges)[kept - 1].end, r.end);
    else
      (*ranges)[kept++] = r;
  }
  ranges->resize(kept);
}

// The DTV and the static TLS blocks of one thread (see scan_roots.h).
void AddTls(const std::vector<MapEntry>& maps, const StoppedThread& t, MemoryReader& memory,
            std::vector<MemoryRange>* ranges) {
  const uint64_t tp = t.thread_pointer;
  const MapEntry* home = Containing(maps, tp);
  if (!home) return;
  ranges->push_back({tp, std::min(home->end, tp + kThreadDescriptorBytes)});
  uint64_t tcb[2];  // tcbhead_t: tcb, dtv
  if (memory.Read(tp, sizeof tcb, reinterpret_cast<uint8_t*>(tcb)) != sizeof tcb) return;
  const uint64_t dtv = tcb[1];
  uint64_t count = 0;  // dtv[-1].counter: the slots after dtv[0]
  if (dtv < 16 || memory.Read(dtv - 16, 8, reinterpret_cast<uint8_t*>(&count)) != 8) return;
  count = std::min(count, kMaxDtvEntries);
  ranges->push_back({dtv - 16, dtv + 16 * (count + 1)});
  std::vector<uint64_t> entries(2 * count);
  const size_t got = memory.Read(dtv + 16, 16 * count, reinterpret_cast<uint8_t*>(entries.data()));
  uint64_t lowest = tp;
  for (size_t i = 0; i + 16 <= got; i += 16) {
    const uint64_t val = entries[i / 8];
    if (val < tp && tp - val <= kMaxStaticTls && val >= home->start) lowest = std::min(lowest, val);
  }
  ranges->push_back({lowest, tp});
}

}  // namespace

std::vector<MapEntry> ParseMaps(const std::string& text) {
  std::vector<MapEntry> maps;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    unsigned long long start, end, offset, inode;
    char perms[8] = {}, dev[16] = {};
    int path_at = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx %7s %llx %15s %llu %n", &start, &end, perms, &offset,
                    dev, &inode, &path_at) < 6)
      continue;
    MapEntry m;
    m.start = start;
    m.end = end;
    m.offset = offset;
    m.writable = perms[1] == 'w';
    m.inode = inode;
    if (path_at > 0 && size_t(path_at) <= line.size()) m.path = line.substr(size_t(path_at));
    maps.push_back(std::move(m));
  }
  return maps;
}

std::vector<MapEntry> ReadMaps(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/maps");
  std::stringstream text;
  text << f.rdbuf();
  return ParseMaps(text.str());
}

namespace {

// The mapping of the module's first page: at its load bias (a shared object,
// a PIE), or by its path (an executable linked at a fixed address, bias 0).
const MapEntry* HeaderMapping(const std::vector<MapEntry>& maps, const LoadedModule& module) {
  for (const MapEntry& m : maps)
    if (m.offset == 0 && m.start == module.load_bias && IsModulePath(m.path)) return &m;
  for (const MapEntry& m : maps)
    if (m.offset == 0 && m.path == module.path) return &m;
  return nullptr;
}

void AddWritableSegments(const MapEntry& header, uint64_t bias, MemoryReader& memory,
                         std::vector<MemoryRange>* ranges) {
  Elf64_Ehdr eh;
  if (memory.Read(header.start, sizeof eh, reinterpret_cast<uint8_t*>(&eh)) != sizeof eh ||
      std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > kMaxPhdrs)
    return;
  std::vector<Elf64_Phdr> ph(eh.e_phnum);
  const size_t bytes = ph.size() * sizeof(Elf64_Phdr);
  if (memory.Read(header.start + eh.e_phoff, bytes, reinterpret_cast<uint8_t*>(ph.data())) != bytes)
    return;
  for (const Elf64_Phdr& p : ph)
    if (p.p_type == PT_LOAD && (p.p_flags & PF_W) && p.p_memsz > 0)
      ranges->push_back({bias + p.p_vaddr, bias + p.p_vaddr + p.p_memsz});
}

}  // namespace

std::vector<MemoryRange> ModuleDataRanges(const std::vector<MapEntry>& maps,
                                          const std::vector<LoadedModule>& modules,
                                          MemoryReader& memory) {
  std::vector<MemoryRange> ranges;
  for (const LoadedModule& module : modules) {
    if (module.path.empty() || IsShim(module.path)) continue;
    const MapEntry* header = HeaderMapping(maps, module);
    if (header && !IsShim(header->path))
      AddWritableSegments(*header, module.load_bias, memory, &ranges);
  }
  return ranges;
}

ScanRoots CollectRoots(const std::vector<MapEntry>& maps, const std::vector<LoadedModule>& modules,
                       const std::vector<StoppedThread>& threads, MemoryReader& memory) {
  ScanRoots roots;
  roots.ranges = ModuleDataRanges(maps, modules, memory);
  for (const StoppedThread& t : threads) {
    if (t.name == kShimThreadName) continue;
    roots.words.insert(roots.words.end(), t.registers.begin(), t.registers.end());
    if (const MapEntry* stack = Containing(maps, t.stack_pointer)) {
      const uint64_t from =
          t.stack_pointer >= stack->start + kRedZone ? t.stack_pointer - kRedZone : stack->start;
      roots.ranges.push_back({from, stack->end});
    }
    AddTls(maps, t, memory, &roots.ranges);
  }
  Merge(&roots.ranges);
  return roots;
}

}  // namespace leakscope::collector
