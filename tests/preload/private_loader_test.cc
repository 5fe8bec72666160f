// The shim's private loader (preload/private_loader.h) on the mimalloc the
// build found: loaded, it works and is in no link map; given an import it
// cannot bind, or a library it cannot relocate, it refuses and leaves
// nothing mapped.
#include "private_loader.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <link.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace leakscope::preload {
namespace {

alignas(64) __thread char t_block[64] __attribute__((tls_model("initial-exec")));

int NotAtExit(void (*)(void*), void*, void*) {
  return 0;
}

// mimalloc's imports, bound as ld.so would, but its atexit handler dropped.
std::vector<PrivateImport> Imports() {
  std::vector<PrivateImport> imports;
  for (const char* name : {"__ctype_toupper_loc",
                           "__errno_location",
                           "__snprintf_chk",
                           "__stack_chk_fail",
                           "__vsnprintf_chk",
                           "abort",
                           "access",
                           "clock_gettime",
                           "close",
                           "fputs",
                           "free",
                           "getenv",
                           "getrusage",
                           "madvise",
                           "memchr",
                           "memcpy",
                           "memset",
                           "mmap",
                           "mprotect",
                           "munmap",
                           "open",
                           "read",
                           "realpath",
                           "strerror",
                           "strlen",
                           "strstr",
                           "strtol",
                           "syscall",
                           "sysconf",
                           "environ",
                           "__environ",
                           "stdout",
                           "stderr",
                           "pthread_key_create",
                           "pthread_setspecific"})
    imports.push_back({name, dlsym(RTLD_DEFAULT, name)});
  imports.push_back({"__cxa_atexit", reinterpret_cast<void*>(&NotAtExit)});
  return imports;
}

int CountMappingsOf(const std::string& file) {
  std::ifstream maps("/proc/self/maps");
  int n = 0;
  for (std::string line; std::getline(maps, line);) n += line.find(file) != std::string::npos;
  return n;
}

bool Listed(const char* name) {
  struct Search {
    const char* name;
    bool found;
  } search{name, false};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* p) {
        auto* s = static_cast<Search*>(p);
        s->found |= std::string(info->dlpi_name).find(s->name) != std::string::npos;
        return 0;
      },
      &search);
  return search.found;
}

TEST(PrivateLoader, LoadsMimallocOutOfTheLinkMap) {
  const std::vector<PrivateImport> imports = Imports();
  PrivateTls tls{t_block, sizeof t_block, 64};
  PrivateObject o;
  ASSERT_TRUE(LoadPrivateObject(LEAKSCOPE_MIMALLOC_PATH, imports.data(), imports.size(), &tls, &o));
  // Its default heap (a pointer) and a flag.
  ASSERT_EQ(tls.image_size, 8u);
  std::memcpy(t_block, tls.image, tls.image_size);
  RunPrivateInitializers(o);
  auto mi_malloc = reinterpret_cast<void* (*)(size_t)>(PrivateSymbol(o, "mi_malloc"));
  auto mi_free = reinterpret_cast<void (*)(void*)>(PrivateSymbol(o, "mi_free"));
  auto mi_usable_size =
      reinterpret_cast<size_t (*)(const void*)>(PrivateSymbol(o, "mi_usable_size"));
  ASSERT_NE(mi_malloc, nullptr);
  ASSERT_NE(mi_free, nullptr);
  ASSERT_NE(mi_usable_size, nullptr);
  EXPECT_EQ(PrivateSymbol(o, "no_such_function"), nullptr);
  void* p = mi_malloc(100);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(mi_usable_size(p), 112u);  // its size class
  mi_free(p);
  EXPECT_FALSE(Listed("mimalloc"));
}

TEST(PrivateLoader, RefusesAnImportItCannotBindAndLeavesNothingMapped) {
  const int before = CountMappingsOf("libmimalloc");
  PrivateTls tls{t_block, sizeof t_block, 64};
  PrivateObject o;
  EXPECT_FALSE(LoadPrivateObject(LEAKSCOPE_MIMALLOC_PATH, nullptr, 0, &tls, &o));
  EXPECT_EQ(CountMappingsOf("libmimalloc"), before);
}

TEST(PrivateLoader, RefusesRelocationsItDoesNotHandle) {
  // The C library has IRELATIVE relocations (its IFUNCs).
  const std::vector<PrivateImport> imports = Imports();
  PrivateTls tls{t_block, sizeof t_block, 64};
  PrivateObject o;
  const int before = CountMappingsOf("libc.so.6");
  EXPECT_FALSE(LoadPrivateObject("/lib/x86_64-linux-gnu/libc.so.6", imports.data(), imports.size(),
                                 &tls, &o));
  EXPECT_EQ(CountMappingsOf("libc.so.6"), before);
}

}  // namespace
}  // namespace leakscope::preload
