// Where a stopped process keeps the pointers that make its blocks reachable
// (LeakSanitizer's roots), from /proc/PID/maps, the threads' registers and
// their thread control blocks:
//   - the writable PT_LOAD segments (data and bss, p_memsz) of every module
//     the shim listed (dl_iterate_phdr: the program's link map), read from
//     the ELF and program headers in the process's memory, except the
//     shim's own (libleakscope*: its tables name the program's blocks by
//     address; they must not keep them alive). The shim's private mimalloc
//     is not in the link map; its heap and the rings are anonymous mappings,
//     never roots. (An anonymous mapping right after a module's data is not
//     taken for its bss: a later mmap may fill the gap there.);
//   - each thread's stack from its stack pointer (less the 128-byte red zone
//     a leaf function may use below it) to the end of its mapping, and its
//     general registers;
//   - static TLS: [lowest module block in the thread's DTV, thread pointer +
//     4 KiB) within the mapping holding it (glibc: the blocks sit below the
//     thread descriptor, which keeps pthread_setspecific's first 32 values).
//     For threads glibc started this is inside their stack mapping already;
//     the main thread's was allocated by ld.so before malloc existed;
//   - dynamic TLS: the DTV itself, whose entries point at the start of each
//     module's block (malloc'd by __tls_get_addr, so in the live table):
//     LeakSanitizer's way of keeping them reachable, without treating every
//     ld.so allocation as a root.
// The shim's drain thread (named "leakscope", preload/drain.cc) is skipped:
// its registers and stack hold addresses it is encoding.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "process_stopper.h"
#include "reachability.h"

namespace leakscope::collector {

struct MapEntry {
  uint64_t start = 0, end = 0;
  uint64_t offset = 0;
  bool writable = false;
  uint64_t inode = 0;
  std::string path;
};

// /proc/PID/maps, parsed.
std::vector<MapEntry> ReadMaps(pid_t pid);
std::vector<MapEntry> ParseMaps(const std::string& text);

struct LoadedModule {
  std::string path;
  uint64_t load_bias = 0;
};

// The writable PT_LOAD segments of `modules` (see above).
std::vector<MemoryRange> ModuleDataRanges(const std::vector<MapEntry>& maps,
                                          const std::vector<LoadedModule>& modules,
                                          MemoryReader& memory);

inline constexpr const char* kShimThreadName = "leakscope";

// Every root of the stopped threads and modules; ranges sorted and merged.
ScanRoots CollectRoots(const std::vector<MapEntry>& maps, const std::vector<LoadedModule>& modules,
                       const std::vector<StoppedThread>& threads, MemoryReader& memory);

}  // namespace leakscope::collector
