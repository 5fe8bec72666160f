#include "module_map.h"

#include <elf.h>
#include <limits.h>
#include <link.h>
#include <time.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <new>

#include "../proto/framing.h"
#include "raw_syscall.h"

namespace leakscope::preload {
namespace {

namespace f = wire::field;

char g_main_program[PATH_MAX];

// The GNU build-id note of a loaded object, or 0 bytes.
size_t BuildId(const dl_phdr_info* info, const unsigned char** out) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    auto* p = reinterpret_cast<const unsigned char*>(info->dlpi_addr + ph.p_vaddr);
    const unsigned char* end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      auto* nh = reinterpret_cast<const ElfW(Nhdr)*>(p);
      const unsigned char* name = p + sizeof(ElfW(Nhdr));
      const unsigned char* desc = name + ((nh->n_namesz + 3) & ~3u);
      if (desc + nh->n_descsz > end) break;
      if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0) {
        *out = desc;
        return nh->n_descsz;
      }
      p = desc + ((nh->n_descsz + 3) & ~3u);
    }
  }
  return 0;
}

// A relative name made absolute against the working directory now (as the
// loader opened it, unless the program has changed directory since). Only
// raw syscalls: this runs inside dl_iterate_phdr (raw_syscall.h). "./" is
// dropped; ".." is kept, the kernel resolves it with the symlinks.
const char* AbsolutePath(const char* name, char* buf, size_t size) {
  const long n = RawSyscall3(SYS_getcwd, long(buf), long(size), 0);
  if (n <= 0) return name;
  size_t len = std::strlen(buf);
  while (name[0] == '.' && name[1] == '/') name += 2;
  const size_t rest = std::strlen(name);
  if (len + 1 + rest + 1 > size) return name;
  if (len > 1) buf[len++] = '/';
  std::memcpy(buf + len, name, rest + 1);
  return buf;
}

// Path of an object as the collector can open it.
const char* ModulePath(const dl_phdr_info* info, char* buf, size_t size) {
  const char* name = info->dlpi_name;
  if (!name || !*name) {  // the main program
    if (g_main_program[0]) return g_main_program;
    const long n = RawSyscall3(SYS_readlink, long("/proc/self/exe"), long(buf), long(size - 1));
    if (n <= 0) return nullptr;
    buf[n] = 0;
    return buf;
  }
  if (name[0] != '/' && std::strchr(name, '/')) return AbsolutePath(name, buf, size);
  return name;  // absolute, or a name with no file (linux-vdso.so.1)
}

int EncodeModule(dl_phdr_info* info, size_t, void* data) {
  auto* out = static_cast<ByteBuffer*>(data);
  char path_buf[PATH_MAX];
  const char* path = ModulePath(info, path_buf, sizeof path_buf);
  if (!path) return 0;
  ByteBuffer m;
  m.PutStringField(f::kModulePath, path);
  m.PutVarintField(f::kModuleLoadBias, info->dlpi_addr);
  ByteBuffer ranges;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X)) continue;
    ranges.PutVarint(info->dlpi_addr + ph.p_vaddr);
    ranges.PutVarint(info->dlpi_addr + ph.p_vaddr + ph.p_memsz);
  }
  m.PutMessageField(f::kModuleExecRanges, ranges);  // packed repeated uint64
  const unsigned char* id = nullptr;
  if (size_t n = BuildId(info, &id)) m.PutBytesField(f::kModuleBuildId, id, n);
  out->PutMessageField(f::kMessageModules, m);
  return 0;
}

struct LoaderCounts {
  unsigned long long adds = 0, subs = 0;
};

// Only the first object's visit: the counts are the loader's, the same in all.
int ReadLoaderCounts(dl_phdr_info* info, size_t size, void* data) {
  auto* c = static_cast<LoaderCounts*>(data);
  if (size >= offsetof(dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
    c->adds = info->dlpi_adds;
    c->subs = info->dlpi_subs;
  }
  return 1;
}

}  // namespace

void ModuleMap::RefreshLocked(bool force) {
  const uint64_t gen = generation_.load(std::memory_order_relaxed);
  if (reset_.exchange(false, std::memory_order_acq_rel)) force = true;
  LoaderCounts counts;
  dl_iterate_phdr(ReadLoaderCounts, &counts);
  // A load that ends after the counts were read changes them again: the next
  // refresh sees it.
  if (force || gen != seen_generation_ || counts.adds != seen_adds_ || counts.subs != seen_subs_) {
    seen_generation_ = gen;
    seen_adds_ = counts.adds;
    seen_subs_ = counts.subs;
    last_.Clear();
    dl_iterate_phdr(EncodeModule, &last_);
    pending_.PutBytes(last_.data(), last_.size());
  }
}

bool ModuleMap::TryRefresh(bool force) {
  if (pthread_mutex_trylock(&mu_) != 0) return false;
  RefreshLocked(force);
  pthread_mutex_unlock(&mu_);
  return true;
}

void ModuleMap::RefreshBeforeUnload() {
  pthread_mutex_lock(&mu_);
  RefreshLocked(false);
  pthread_mutex_unlock(&mu_);
}

// Only tries the lock, again with short naps for up to `wait_ms`: the caller
// may be a signal handler that interrupted a refresh on its own thread.
bool ModuleMap::TakePending(ByteBuffer* out, int wait_ms) {
  for (int waited_us = 0; pthread_mutex_trylock(&mu_) != 0; waited_us += 100) {
    if (waited_us >= wait_ms * 1000) return false;
    timespec nap = {0, 100 * 1000};
    nanosleep(&nap, nullptr);
  }
  if (resend_.exchange(false, std::memory_order_acq_rel)) out->PutBytes(last_.data(), last_.size());
  bool any = !pending_.empty();
  out->PutBytes(pending_.data(), pending_.size());
  pending_.Clear();
  pthread_mutex_unlock(&mu_);
  return any;
}

bool ModuleMap::LockForFork(int seconds) {
  timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += seconds;
  return pthread_mutex_timedlock(&mu_, &deadline) == 0;
}

void ModuleMap::AfterForkChild() {
  pthread_mutex_init(&mu_, nullptr);
  // Another thread may have been writing these at the fork: read it afresh.
  last_.Clear();
  pending_.Clear();
  resend_.store(false, std::memory_order_relaxed);
  reset_.store(true, std::memory_order_release);
}

void ModuleMap::SetMainProgram(const char* path) {
  std::strncpy(g_main_program, path, sizeof g_main_program - 1);
}

ModuleMap& Modules() {
  // Never destroyed: the drain thread may still use it while exit() runs
  // static destructors.
  alignas(ModuleMap) static char storage[sizeof(ModuleMap)];
  static ModuleMap* map = new (storage) ModuleMap();
  return *map;
}

}  // namespace leakscope::preload
