// A non-PIE executable (ET_EXEC, load bias 0) for symbolizer_test: prints
// one call site of PlainFunction and its own executable segments as
//   <return address> <line>
//   <start> <end>     (one line per executable PT_LOAD)
#include <link.h>

#include <cstdio>

#include "main_code.h"

namespace {

int PrintMainExecRanges(dl_phdr_info* info, size_t, void*) {
  if (info->dlpi_name[0] != '\0') return 0;  // not the main program
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& phdr = info->dlpi_phdr[i];
    if (phdr.p_type != PT_LOAD || (phdr.p_flags & PF_X) == 0) continue;
    unsigned long long start = info->dlpi_addr + phdr.p_vaddr;
    printf("%llu %llu\n", start, start + phdr.p_memsz);
  }
  return 1;
}

}  // namespace

int main() {
  symtest::Site site;
  symtest::PlainFunction(&site);
  printf("%llu %d\n", reinterpret_cast<unsigned long long>(site.return_address), site.line);
  dl_iterate_phdr(PrintMainExecRanges, nullptr);
  return 0;
}
