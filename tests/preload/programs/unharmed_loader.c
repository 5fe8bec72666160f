// A library that loads its sibling by bare name, as plugin hosts do: glibc
// finds it through this library's RUNPATH ($ORIGIN), which it looks up from
// the caller of dlopen (tests/preload/unharmed_test.cc).
#include <dlfcn.h>

int load_sibling(void) {
  void* h = dlopen("libleakscope_unharmed_lib.so", RTLD_NOW);
  if (!h) return -1;
  void (*keep)(void) = (void (*)(void))dlsym(h, "deep_keep");
  if (!keep) return -2;
  keep();
  return 1;
}
