// A minimal ELF loader for a shared library the shim uses for itself and the
// program must not see (mimalloc): the shim maps and relocates it, so it is
// in no link map (dl_iterate_phdr, ld.so's tables and allocations), has no
// TLS module of ld.so's, and no symbol of the program's scope binds to it.
// It accepts only what it handles: x86-64, relocations RELATIVE, 64,
// GLOB_DAT, JUMP_SLOT and TPOFF64, no text relocations, no IFUNC; an import
// missing from the caller's table refuses the library (nothing stays mapped).
// Allocates nothing and takes no lock: open, pread, mmap, mprotect, close.
#pragma once

#include <cstddef>
#include <cstdint>

namespace leakscope::preload {

struct PrivateImport {
  const char* name;
  void* address;
};

// The library's thread-local variables live in a block the caller reserved
// in its own static TLS (initial-exec: at the same offset from the thread
// pointer in every thread). The loader relocates against the block and says
// what each thread's copy must hold before the thread runs the library.
struct PrivateTls {
  char* block;  // the calling thread's copy
  size_t size;
  size_t align;
  // Set by the loader: the initialized part (image_size bytes, relocated),
  // then zeros up to size.
  const char* image = nullptr;
  size_t image_size = 0;
};

struct PrivateObject {
  char* base = nullptr;  // load bias
  char* mapping = nullptr;
  size_t mapping_size = 0;
  const void* symbols = nullptr;  // Elf64_Sym[]
  const char* strings = nullptr;
  const uint32_t* gnu_hash = nullptr;
  uintptr_t init = 0;  // DT_INIT, relative to base
  const uintptr_t* init_array = nullptr;
  size_t init_count = 0;
};

// Maps and relocates the library at `path`. A symbol it references binds to
// the import of that name, else to its own definition, else (weak) to null.
bool LoadPrivateObject(const char* path, const PrivateImport* imports, size_t import_count,
                       PrivateTls* tls, PrivateObject* out);
// Runs DT_INIT and DT_INIT_ARRAY, once, after this thread's TLS copy is ready.
void RunPrivateInitializers(const PrivateObject& object);
// A function or variable the library defines, or null.
void* PrivateSymbol(const PrivateObject& object, const char* name);

}  // namespace leakscope::preload
