#include "private_loader.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

namespace leakscope::preload {
namespace {

constexpr uintptr_t kPage = 4096;
constexpr int kMaxHeaders = 16;

uintptr_t Down(uintptr_t v) {
  return v & ~(kPage - 1);
}
uintptr_t Up(uintptr_t v) {
  return (v + kPage - 1) & ~(kPage - 1);
}

int Protection(uint32_t flags) {
  return (flags & PF_R ? PROT_READ : 0) | (flags & PF_W ? PROT_WRITE : 0) |
         (flags & PF_X ? PROT_EXEC : 0);
}

bool ReadAt(int fd, void* to, size_t size, off_t at) {
  char* p = static_cast<char*>(to);
  while (size) {
    const ssize_t n = pread(fd, p, size, at);
    if (n <= 0) return false;
    p += n;
    at += n;
    size -= size_t(n);
  }
  return true;
}

char* ThreadPointer() {
  return static_cast<char*>(__builtin_thread_pointer());
}

struct Dynamic {
  const Elf64_Sym* symbols = nullptr;
  const char* strings = nullptr;
  size_t strings_size = 0;
  const uint32_t* gnu_hash = nullptr;
  const Elf64_Rela* rela = nullptr;
  size_t rela_size = 0;
  const Elf64_Rela* plt = nullptr;
  size_t plt_size = 0;
  uintptr_t init = 0;
  uintptr_t init_array = 0;
  size_t init_array_size = 0;
};

// Everything relocation needs, and the checks that make it safe.
class Relocator {
 public:
  Relocator(char* base, const Elf64_Phdr* headers, int count, const Dynamic& d,
            const PrivateImport* imports, size_t import_count, intptr_t tls_offset, bool has_tls)
      : base_(base),
        headers_(headers),
        count_(count),
        d_(d),
        imports_(imports),
        import_count_(import_count),
        tls_offset_(tls_offset),
        has_tls_(has_tls) {}

  bool Apply(const Elf64_Rela* r, size_t bytes) {
    for (size_t i = 0; i < bytes / sizeof(Elf64_Rela); ++i)
      if (!ApplyOne(r[i])) return false;
    return true;
  }

 private:
  // Relocations may only write into writable segments (no text relocations).
  bool Writable(uintptr_t at) const {
    for (int i = 0; i < count_; ++i) {
      const Elf64_Phdr& h = headers_[i];
      if (h.p_type == PT_LOAD && (h.p_flags & PF_W) && at >= h.p_vaddr &&
          at + sizeof(uint64_t) <= h.p_vaddr + h.p_memsz)
        return true;
    }
    return false;
  }

  bool Symbol(uint32_t index, uintptr_t* value) const {
    const Elf64_Sym& s = d_.symbols[index];
    if (s.st_name >= d_.strings_size) return false;
    const char* name = d_.strings + s.st_name;
    for (size_t i = 0; i < import_count_; ++i) {
      if (std::strcmp(imports_[i].name, name) == 0) {
        *value = reinterpret_cast<uintptr_t>(imports_[i].address);
        return true;
      }
    }
    const unsigned type = ELF64_ST_TYPE(s.st_info);
    if (s.st_shndx != SHN_UNDEF) {
      if (type == STT_GNU_IFUNC || type == STT_TLS) return false;
      *value = reinterpret_cast<uintptr_t>(base_) + s.st_value;
      return true;
    }
    if (ELF64_ST_BIND(s.st_info) == STB_WEAK) {
      *value = 0;
      return true;
    }
    return false;
  }

  bool ApplyOne(const Elf64_Rela& r) {
    const uint32_t type = ELF64_R_TYPE(r.r_info);
    const uint32_t index = ELF64_R_SYM(r.r_info);
    if (type == R_X86_64_NONE) return true;
    if (!Writable(r.r_offset)) return false;
    uint64_t value;
    switch (type) {
      case R_X86_64_RELATIVE:
        value = reinterpret_cast<uintptr_t>(base_) + uint64_t(r.r_addend);
        break;
      case R_X86_64_64:
      case R_X86_64_GLOB_DAT:
      case R_X86_64_JUMP_SLOT: {
        uintptr_t s;
        if (!Symbol(index, &s)) return false;
        value = s + (type == R_X86_64_64 ? uint64_t(r.r_addend) : 0);
        break;
      }
      case R_X86_64_TPOFF64: {
        // Only the library's own thread-local variables, in the caller's block.
        if (!has_tls_) return false;
        uint64_t at = 0;
        if (index) {
          const Elf64_Sym& s = d_.symbols[index];
          if (s.st_shndx == SHN_UNDEF || ELF64_ST_TYPE(s.st_info) != STT_TLS) return false;
          at = s.st_value;
        }
        value = at + uint64_t(r.r_addend) + uint64_t(tls_offset_);
        break;
      }
      default:
        return false;
    }
    std::memcpy(base_ + r.r_offset, &value, sizeof value);
    return true;
  }

  char* base_;
  const Elf64_Phdr* headers_;
  int count_;
  const Dynamic& d_;
  const PrivateImport* imports_;
  size_t import_count_;
  intptr_t tls_offset_;
  bool has_tls_;
};

bool ReadDynamic(char* base, const Elf64_Phdr& dynamic, Dynamic* d) {
  size_t plt_type = DT_RELA;
  for (auto* e = reinterpret_cast<const Elf64_Dyn*>(base + dynamic.p_vaddr); e->d_tag != DT_NULL;
       ++e) {
    const uintptr_t v = e->d_un.d_val;
    switch (e->d_tag) {
      case DT_SYMTAB:
        d->symbols = reinterpret_cast<const Elf64_Sym*>(base + v);
        break;
      case DT_STRTAB:
        d->strings = base + v;
        break;
      case DT_STRSZ:
        d->strings_size = v;
        break;
      case DT_GNU_HASH:
        d->gnu_hash = reinterpret_cast<const uint32_t*>(base + v);
        break;
      case DT_RELA:
        d->rela = reinterpret_cast<const Elf64_Rela*>(base + v);
        break;
      case DT_RELASZ:
        d->rela_size = v;
        break;
      case DT_JMPREL:
        d->plt = reinterpret_cast<const Elf64_Rela*>(base + v);
        break;
      case DT_PLTRELSZ:
        d->plt_size = v;
        break;
      case DT_PLTREL:
        plt_type = v;
        break;
      case DT_INIT:
        d->init = v;
        break;
      case DT_INIT_ARRAY:
        d->init_array = v;
        break;
      case DT_INIT_ARRAYSZ:
        d->init_array_size = v;
        break;
      case DT_RELAENT:
        if (v != sizeof(Elf64_Rela)) return false;
        break;
      case DT_REL:
      case DT_TEXTREL:
        return false;
      case DT_FLAGS:
        if (v & DF_TEXTREL) return false;
        break;
      default:
        break;
    }
  }
  return d->symbols && d->strings && d->gnu_hash && plt_type == DT_RELA;
}

bool MapSegments(int fd, char* base, const Elf64_Phdr* headers, int count) {
  for (int i = 0; i < count; ++i) {
    const Elf64_Phdr& h = headers[i];
    if (h.p_type != PT_LOAD) continue;
    const int prot = Protection(h.p_flags);
    const uintptr_t start = Down(h.p_vaddr);
    const uintptr_t file_end = h.p_vaddr + h.p_filesz;
    const uintptr_t end = h.p_vaddr + h.p_memsz;
    if (mmap(base + start, Up(file_end) - start, prot, MAP_PRIVATE | MAP_FIXED, fd,
             off_t(Down(h.p_offset))) == MAP_FAILED)
      return false;
    if (end == file_end) continue;
    // .bss: the rest of the file's last page is zeroed, the pages after it
    // are anonymous.
    if (!(prot & PROT_WRITE)) return false;
    std::memset(base + file_end, 0, (Up(file_end) < end ? Up(file_end) : end) - file_end);
    if (Up(end) > Up(file_end) &&
        mmap(base + Up(file_end), Up(end) - Up(file_end), prot,
             MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
      return false;
  }
  return true;
}

bool Load(int fd, const PrivateImport* imports, size_t import_count, PrivateTls* tls,
          PrivateObject* out) {
  Elf64_Ehdr e;
  if (!ReadAt(fd, &e, sizeof e, 0)) return false;
  if (std::memcmp(e.e_ident, ELFMAG, SELFMAG) != 0 || e.e_ident[EI_CLASS] != ELFCLASS64 ||
      e.e_ident[EI_DATA] != ELFDATA2LSB || e.e_type != ET_DYN || e.e_machine != EM_X86_64 ||
      e.e_phentsize != sizeof(Elf64_Phdr) || e.e_phnum == 0 || e.e_phnum > kMaxHeaders)
    return false;
  Elf64_Phdr headers[kMaxHeaders];
  const int count = e.e_phnum;
  if (!ReadAt(fd, headers, count * sizeof(Elf64_Phdr), off_t(e.e_phoff))) return false;

  uintptr_t lo = UINTPTR_MAX, hi = 0;
  const Elf64_Phdr *dynamic = nullptr, *thread_local_data = nullptr, *relro = nullptr;
  for (int i = 0; i < count; ++i) {
    const Elf64_Phdr& h = headers[i];
    if (h.p_type == PT_LOAD) {
      if (h.p_offset % kPage != h.p_vaddr % kPage || h.p_filesz == 0 || h.p_filesz > h.p_memsz)
        return false;
      if (Down(h.p_vaddr) < lo) lo = Down(h.p_vaddr);
      if (Up(h.p_vaddr + h.p_memsz) > hi) hi = Up(h.p_vaddr + h.p_memsz);
    }
    if (h.p_type == PT_DYNAMIC) dynamic = &h;
    if (h.p_type == PT_TLS) thread_local_data = &h;
    if (h.p_type == PT_GNU_RELRO) relro = &h;
  }
  if (!dynamic || hi <= lo) return false;
  // The TLS block must fit the caller's, starting at its first byte.
  if (thread_local_data &&
      (!tls || thread_local_data->p_memsz > tls->size || thread_local_data->p_align > tls->align ||
       (thread_local_data->p_align > 1 &&
        thread_local_data->p_vaddr % thread_local_data->p_align != 0)))
    return false;

  void* reserved =
      mmap(nullptr, hi - lo, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (reserved == MAP_FAILED) return false;
  char* base = static_cast<char*>(reserved) - lo;
  Dynamic d;
  const intptr_t tls_offset = tls ? tls->block - ThreadPointer() : 0;
  Relocator relocator(base, headers, count, d, imports, import_count, tls_offset,
                      thread_local_data != nullptr);
  if (!MapSegments(fd, base, headers, count) || !ReadDynamic(base, *dynamic, &d) ||
      !relocator.Apply(d.rela, d.rela_size) || !relocator.Apply(d.plt, d.plt_size)) {
    munmap(reserved, hi - lo);
    return false;
  }
  if (relro) {
    const uintptr_t start = Down(relro->p_vaddr), end = Down(relro->p_vaddr + relro->p_memsz);
    if (end > start && mprotect(base + start, end - start, PROT_READ) != 0) {
      munmap(reserved, hi - lo);
      return false;
    }
  }
  if (thread_local_data) {
    tls->image = base + thread_local_data->p_vaddr;
    tls->image_size = thread_local_data->p_filesz;
  }
  out->base = base;
  out->mapping = static_cast<char*>(reserved);
  out->mapping_size = hi - lo;
  out->symbols = d.symbols;
  out->strings = d.strings;
  out->gnu_hash = d.gnu_hash;
  out->init = d.init;
  out->init_array =
      reinterpret_cast<const uintptr_t*>(d.init_array ? base + d.init_array : nullptr);
  out->init_count = d.init_array_size / sizeof(uintptr_t);
  return true;
}

}  // namespace

bool LoadPrivateObject(const char* path, const PrivateImport* imports, size_t import_count,
                       PrivateTls* tls, PrivateObject* out) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = Load(fd, imports, import_count, tls, out);
  close(fd);
  return ok;
}

void RunPrivateInitializers(const PrivateObject& object) {
  using Init = void (*)(int, char**, char**);
  if (object.init) reinterpret_cast<Init>(object.base + object.init)(0, nullptr, environ);
  for (size_t i = 0; i < object.init_count; ++i)
    reinterpret_cast<Init>(object.init_array[i])(0, nullptr, environ);
}

void* PrivateSymbol(const PrivateObject& object, const char* name) {
  // DT_GNU_HASH: buckets of symbol indexes, chains of hashes (low bit: last).
  const uint32_t* h = object.gnu_hash;
  const uint32_t buckets = h[0], first = h[1], bloom_words = h[2];
  const uint32_t* bucket =
      reinterpret_cast<const uint32_t*>(reinterpret_cast<const uint64_t*>(h + 4) + bloom_words);
  const uint32_t* chain = bucket + buckets;
  uint32_t hash = 5381;
  for (const char* c = name; *c; ++c) hash = hash * 33 + static_cast<unsigned char>(*c);
  const auto* symbols = static_cast<const Elf64_Sym*>(object.symbols);
  uint32_t i = bucket[hash % buckets];
  if (i == 0 || i < first) return nullptr;
  for (;; ++i) {
    const uint32_t link = chain[i - first];
    const Elf64_Sym& s = symbols[i];
    if ((link | 1) == (hash | 1) && s.st_shndx != SHN_UNDEF &&
        std::strcmp(object.strings + s.st_name, name) == 0)
      return object.base + s.st_value;
    if (link & 1) break;
  }
  return nullptr;
}

}  // namespace leakscope::preload
