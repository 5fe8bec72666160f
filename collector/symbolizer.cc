// libdw symbolizer: one offline Dwfl per module, opened on the first pc that
// falls into it, so a module that was dlclose'd (or replaced at the same
// address) keeps its own view of the file. Results are cached per pc.
//
// Per pc: the CU from .debug_aranges (dwfl_module_addrdie), the function from
// our index of that CU, then a walk down that one function's inlined calls;
// names from DWARF linkage names or our sorted symbol table, lines from the
// line table. Everything costly is built once per CU or per module.
#include "symbolizer.h"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <tsl/robin_set.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <iterator>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "debug_cache.h"
#include "source_path.h"

namespace leakscope::collector {
namespace {

// Default debuginfo search path (the .gnu_debuglink and build-id
// directories under /usr/lib/debug); libdwfl reads it through a char**.
char* g_debuginfo_path = nullptr;

// Whether libdw may ask debuginfod servers (LEAKSCOPE_DEBUGINFOD set).
bool g_debuginfod = false;

// The build id of an open ELF file: raw bytes, empty if it has none.
std::string FileBuildId(int fd) {
  std::string id;
  Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
  const void* bits = nullptr;
  const ssize_t len = elf ? dwelf_elf_gnu_build_id(elf, &bits) : -1;
  if (len > 0) id.assign(static_cast<const char*>(bits), static_cast<size_t>(len));
  if (elf) elf_end(elf);
  return id;
}

uint32_t FileCrc(int fd) {
  uLong crc = crc32(0L, Z_NULL, 0);
  char buf[1 << 16];
  off_t at = 0;
  for (ssize_t n; (n = pread(fd, buf, sizeof buf, at)) > 0;) {
    crc = crc32(crc, reinterpret_cast<const Bytef*>(buf), static_cast<uInt>(n));
    at += n;
  }
  return static_cast<uint32_t>(crc);
}

// Opens `path` if it is the debug file of `mod`: same build id, or, for a
// module without one, the CRC its .gnu_debuglink names.
int OpenIfDebugFileOf(Dwfl_Module* mod, const std::string& path, GElf_Word crc, bool check_crc,
                      char** found) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  const unsigned char* bits = nullptr;
  GElf_Addr vaddr = 0;
  const int len = dwfl_module_build_id(mod, &bits, &vaddr);
  const bool ok = len > 0 ? FileBuildId(fd) == std::string(reinterpret_cast<const char*>(bits),
                                                           static_cast<size_t>(len))
                          : !check_crc || FileCrc(fd) == crc;
  if (!ok) {
    close(fd);
    return -1;
  }
  *found = strdup(path.c_str());
  return fd;
}

// dwfl_standard_find_debuginfo's local search (build-id directory, then the
// debuglink next to the file, in .debug/ and under /usr/lib/debug) without
// its last resort: libdw 0.188 dlopens libdebuginfod there (libcurl, gnutls,
// krb5...: ~25 libraries, milliseconds of every report) even with no server
// configured. With LEAKSCOPE_DEBUGINFOD the standard search runs in full.
int FindDebuginfo(Dwfl_Module* mod, void** userdata, const char* modname, Dwarf_Addr base,
                  const char* file_name, const char* debuglink_file, GElf_Word debuglink_crc,
                  char** debuginfo_file_name) {
  if (g_debuginfod)
    return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
                                        debuglink_crc, debuginfo_file_name);
  const unsigned char* bits = nullptr;
  GElf_Addr vaddr = 0;
  const int len = dwfl_module_build_id(mod, &bits, &vaddr);
  std::string hex;
  for (int i = 0; i < len; ++i) {
    static const char kHex[] = "0123456789abcdef";
    hex += kHex[bits[i] >> 4];
    hex += kHex[bits[i] & 15];
  }
  // The debug file found at `fd`, or its inflated copy (collector/debug_cache.h).
  const auto inflated = [&](int fd) {
    if (fd < 0 || hex.empty()) return fd;
    const std::string copy = InflatedDebugFile(*debuginfo_file_name, hex);
    char* copy_name = nullptr;
    const int copy_fd = copy.empty() ? -1 : OpenIfDebugFileOf(mod, copy, 0, false, &copy_name);
    if (copy_fd < 0) return fd;
    close(fd);
    free(*debuginfo_file_name);
    *debuginfo_file_name = copy_name;
    return copy_fd;
  };
  if (hex.size() > 2) {
    const std::string path =
        "/usr/lib/debug/.build-id/" + hex.substr(0, 2) + "/" + hex.substr(2) + ".debug";
    const int fd = OpenIfDebugFileOf(mod, path, 0, false, debuginfo_file_name);
    if (fd >= 0) return inflated(fd);
  }
  if (file_name == nullptr || file_name[0] != '/') return -1;
  const std::string file(file_name);
  const std::string dir = file.substr(0, file.rfind('/'));
  const std::string link = debuglink_file ? debuglink_file : file.substr(dir.size() + 1) + ".debug";
  for (const std::string& candidate :
       {dir + "/" + link, dir + "/.debug/" + link, "/usr/lib/debug" + dir + "/" + link}) {
    if (candidate == file) continue;  // the debuglink names the file itself
    const int fd = OpenIfDebugFileOf(mod, candidate, debuglink_crc, debuglink_file != nullptr,
                                     debuginfo_file_name);
    if (fd >= 0) return inflated(fd);
  }
  return -1;
}

const Dwfl_Callbacks* OfflineCallbacks() {
  static const Dwfl_Callbacks callbacks = [] {
    Dwfl_Callbacks c{};
    c.find_elf = dwfl_build_id_find_elf;
    c.find_debuginfo = FindDebuginfo;
    c.section_address = dwfl_offline_section_address;
    c.debuginfo_path = &g_debuginfo_path;
    return c;
  }();
  return &callbacks;
}

std::string Demangle(const char* name) {
  if (name == nullptr) return {};
  // Only Itanium-mangled names: __cxa_demangle also reads a bare type code,
  // so a C function `f` would come back as "float".
  if (strncmp(name, "_Z", 2) != 0) return name;
  int status = 0;
  char* demangled = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (status != 0 || demangled == nullptr) return name;
  std::string result(demangled);
  free(demangled);
  return result;
}

std::string Basename(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string Hex(uint64_t value) {
  char buf[24];
  snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(value));
  return buf;
}

// libdwfl open()s the path: a FIFO or device would block or mislead it.
bool IsRegularFile(const std::string& path) {
  struct stat st;
  return !path.empty() && stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// A file rebuilt since the process ran would give confident wrong answers.
bool BuildIdMatches(Dwfl_Module* mod, const std::string& expected) {
  if (expected.empty()) return true;
  const unsigned char* bits = nullptr;
  GElf_Addr vaddr = 0;
  int len = dwfl_module_build_id(mod, &bits, &vaddr);
  return len > 0 && expected.size() == static_cast<size_t>(len) &&
         memcmp(expected.data(), bits, len) == 0;
}

// Reports `path` at `load_bias`. add_p_vaddr=false treats the base as the
// bias only when the first PT_LOAD is at vaddr 0 (the usual case); the
// retry covers objects linked at another address.
Dwfl_Module* ReportAtBias(Dwfl* dwfl, const ModuleInfo& info) {
  for (bool add_p_vaddr : {false, true}) {
    dwfl_report_begin(dwfl);
    Dwfl_Module* mod = dwfl_report_elf(dwfl, info.path.c_str(), info.path.c_str(), -1,
                                       info.load_bias, add_p_vaddr);
    dwfl_report_end(dwfl, nullptr, nullptr);
    if (mod == nullptr) return nullptr;
    Dwarf_Addr bias = 0;
    if (dwfl_module_getelf(mod, &bias) != nullptr && bias == info.load_bias) return mod;
  }
  return nullptr;
}

// The DIE that declares `die`: its DW_AT_abstract_origin / DW_AT_specification
// target, transitively (bounded: malformed DWARF may loop).
Dwarf_Die Declaration(Dwarf_Die* die) {
  Dwarf_Die current = *die;
  for (int hops = 0; hops < 8; ++hops) {
    Dwarf_Attribute attr;
    Dwarf_Die next;
    if (dwarf_attr(&current, DW_AT_abstract_origin, &attr) == nullptr &&
        dwarf_attr(&current, DW_AT_specification, &attr) == nullptr)
      break;
    if (dwarf_formref_die(&attr, &next) == nullptr) break;
    current = next;
  }
  return current;
}

// The functions of one compilation unit, indexed by one walk over its DIEs.
// A C++ CU holds thousands of DIEs from headers; dwarf_getscopes walks them
// all again for every pc, which made 100,000 pcs take minutes.
struct CuIndex {
  struct Range {
    Dwarf_Addr low, high;  // [low, high), module addresses before bias
    Dwarf_Die function;    // the concrete DW_TAG_subprogram
  };
  std::vector<Range> ranges;                          // sorted by low
  std::vector<std::string> prefixes;                  // "ns::Class::", one per enclosing scope
  std::unordered_map<Dwarf_Off, uint32_t> prefix_of;  // subprogram DIE -> prefixes
};

bool IsNamingScope(int tag) {
  return tag == DW_TAG_namespace || tag == DW_TAG_class_type || tag == DW_TAG_structure_type ||
         tag == DW_TAG_union_type;
}

void AddRanges(Dwarf_Die* function, CuIndex* index) {
  Dwarf_Addr base = 0, low = 0, high = 0;
  ptrdiff_t offset = 0;
  while ((offset = dwarf_ranges(function, offset, &base, &low, &high)) > 0)
    if (low < high) index->ranges.push_back({low, high, *function});
}

// Records the subprograms under `scope`, descending into namespaces and
// classes (where C++ puts definitions), not into functions.
void IndexScope(Dwarf_Die* scope, uint32_t prefix, int depth, CuIndex* index) {
  Dwarf_Die child;
  if (depth > 64 || dwarf_child(scope, &child) != 0) return;
  do {
    int tag = dwarf_tag(&child);
    if (tag == DW_TAG_subprogram) {
      index->prefix_of[dwarf_dieoffset(&child)] = prefix;
      AddRanges(&child, index);
    } else if (IsNamingScope(tag)) {
      const char* name = dwarf_diename(&child);
      index->prefixes.push_back(index->prefixes[prefix] +
                                (name != nullptr ? name : "(anonymous namespace)") + "::");
      IndexScope(&child, static_cast<uint32_t>(index->prefixes.size() - 1), depth + 1, index);
    }
  } while (dwarf_siblingof(&child, &child) == 0);
}

CuIndex BuildCuIndex(Dwarf_Die* cu) {
  CuIndex index;
  index.prefixes.push_back("");
  IndexScope(cu, 0, 0, &index);
  std::sort(index.ranges.begin(), index.ranges.end(),
            [](const CuIndex::Range& a, const CuIndex::Range& b) { return a.low < b.low; });
  return index;
}

// The indexes of a module's CUs, built as pcs reach them. Keyed by where the
// CU's DIE lies in memory: unlike its offset, that is unique across the
// main debug file and a dwz supplementary file.
class CuIndexes {
 public:
  const CuIndex& Of(Dwarf_Die* cu) {
    auto it = by_die_.find(cu->addr);
    if (it == by_die_.end()) it = by_die_.emplace(cu->addr, BuildCuIndex(cu)).first;
    return it->second;
  }

 private:
  std::unordered_map<const void*, CuIndex> by_die_;
};

// The concrete subprogram holding `pc` (relative to the CU's module).
bool FunctionAt(const CuIndex& index, Dwarf_Addr pc, Dwarf_Die* function) {
  auto it = std::upper_bound(index.ranges.begin(), index.ranges.end(), pc,
                             [](Dwarf_Addr p, const CuIndex::Range& r) { return p < r.low; });
  if (it == index.ranges.begin() || pc >= std::prev(it)->high) return false;
  *function = std::prev(it)->function;
  return true;
}

// "ns::Class::name" from the scopes enclosing the declaration. GCC gives no
// linkage name to functions with internal linkage; without this they would
// read as a bare "name", unlike the symbol table's qualified one.
std::string QualifiedName(Dwarf_Die* die, const char* name, CuIndexes* indexes) {
  Dwarf_Die declaration = Declaration(die), cu;
  if (dwarf_diecu(&declaration, &cu, nullptr, nullptr) == nullptr) return name;
  const CuIndex& index = indexes->Of(&cu);
  auto it = index.prefix_of.find(dwarf_dieoffset(&declaration));
  return it == index.prefix_of.end() ? name : index.prefixes[it->second] + name;
}

const char* LinkageName(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  for (int name : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name})
    if (dwarf_attr_integrate(die, name, &attr) != nullptr) return dwarf_formstring(&attr);
  return nullptr;
}

// The DWARF name of a subprogram or inlined subroutine. The linkage name
// when there is one (following DW_AT_abstract_origin / DW_AT_specification),
// so that demangling gives the qualified name with parameters.
std::string DieFunctionName(Dwarf_Die* die, CuIndexes* indexes) {
  if (const char* linkage = LinkageName(die)) return Demangle(linkage);
  const char* plain = dwarf_diename(die);
  return plain == nullptr ? std::string() : QualifiedName(die, plain, indexes);
}

// The scopes holding `pc` inside `function`, outermost (the function) first:
// the concrete chain of inlined calls, as `eu-addr2line -i` prints it.
std::vector<Dwarf_Die> ScopesIn(Dwarf_Die function, Dwarf_Addr pc) {
  std::vector<Dwarf_Die> chain{function};
  Dwarf_Die child;
  bool descended = true;
  while (descended && chain.size() < 256 && dwarf_child(&chain.back(), &child) == 0) {
    descended = false;
    do {
      int tag = dwarf_tag(&child);
      if ((tag == DW_TAG_inlined_subroutine || tag == DW_TAG_lexical_block) &&
          dwarf_haspc(&child, pc) == 1) {
        chain.push_back(child);
        descended = true;
        break;
      }
    } while (dwarf_siblingof(&child, &child) == 0);
  }
  return chain;
}

// Joins a relative DWARF path with its compilation directory, cleaned of
// "dir/.." (libdw may have joined it already).
std::string Absolute(const char* file, const char* comp_dir) {
  if (file == nullptr) return {};
  if (file[0] == '/' || comp_dir == nullptr || comp_dir[0] == '\0') return CleanSourcePath(file);
  return CleanSourcePath(std::string(comp_dir) + "/" + file);
}

const char* CompDir(Dwarf_Die* die) {
  Dwarf_Die cu;
  if (dwarf_diecu(die, &cu, nullptr, nullptr) == nullptr) return nullptr;
  Dwarf_Attribute attr;
  return dwarf_formstring(dwarf_attr(&cu, DW_AT_comp_dir, &attr));
}

// Where an inlined subroutine was called from: DW_AT_call_file/call_line,
// the file being an index into its CU's line-table file list.
void CallSite(Dwarf_Die* inlined, std::string* file, uint32_t* line) {
  Dwarf_Attribute attr;
  Dwarf_Word value = 0;
  *line = dwarf_formudata(dwarf_attr(inlined, DW_AT_call_line, &attr), &value) == 0
              ? static_cast<uint32_t>(value)
              : 0;
  file->clear();
  Dwarf_Die cu;
  Dwarf_Files* files = nullptr;
  size_t nfiles = 0;
  if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_file, &attr), &value) != 0 ||
      dwarf_diecu(inlined, &cu, nullptr, nullptr) == nullptr ||
      dwarf_getsrcfiles(&cu, &files, &nfiles) != 0 || value >= nfiles)
    return;
  *file = Absolute(dwarf_filesrc(files, value, nullptr, nullptr), CompDir(&cu));
}

// The line-table position of `pc` itself: that of the innermost frame.
void SourceAt(Dwfl_Module* mod, uint64_t pc, std::string* file, uint32_t* line) {
  Dwfl_Line* dwfl_line = dwfl_module_getsrc(mod, pc);
  if (dwfl_line == nullptr) return;
  int lineno = 0;
  const char* name = dwfl_lineinfo(dwfl_line, nullptr, &lineno, nullptr, nullptr, nullptr);
  if (name == nullptr) return;
  *file = Absolute(name, dwfl_line_comp_dir(dwfl_line));
  *line = lineno > 0 ? static_cast<uint32_t>(lineno) : 0;
}

// A module's function symbols, sorted once: dwfl_module_addrinfo scans the
// whole table on every call, which made a pc in libc cost 100 us.
class SymbolTable {
 public:
  explicit SymbolTable(Dwfl_Module* mod);
  // The demangled name of the function symbol holding pc, or "".
  std::string NameAt(uint64_t pc) const;

 private:
  struct Symbol {          // 32 bytes: Node.js has 80,000
    GElf_Addr start, end;  // unsized (assembly labels): end of its section
    const char* name;      // owned by the module's Elf
    bool sized;
    int8_t rank;  // among aliases the global name wins, then weak
  };
  std::vector<Symbol> symbols_;  // by start, then rank
};

int8_t BindingRank(unsigned char info) {
  switch (GELF_ST_BIND(info)) {
    case STB_GLOBAL:
      return 2;
    case STB_WEAK:
      return 1;
    default:
      return 0;
  }
}

// Where the section holding an unsized symbol ends: it covers the code up
// to the next symbol, but not past its section (into the PLT, say).
GElf_Addr SectionEnd(Elf* elf, GElf_Word shndx, Dwarf_Addr bias, GElf_Addr fallback) {
  GElf_Shdr header;
  Elf_Scn* section = elf == nullptr ? nullptr : elf_getscn(elf, shndx);
  if (section == nullptr || gelf_getshdr(section, &header) == nullptr) return fallback;
  return header.sh_addr + header.sh_size + bias;
}

SymbolTable::SymbolTable(Dwfl_Module* mod) {
  int count = mod == nullptr ? 0 : dwfl_module_getsymtab(mod);
  // At most this many: reserved, the array is written once (only the pages
  // used are touched), not copied at each doubling.
  symbols_.reserve(static_cast<size_t>(std::max(count, 0)));
  for (int i = 1; i < count; ++i) {
    GElf_Sym sym;
    GElf_Addr address = 0;
    GElf_Word shndx = 0;
    Elf* elf = nullptr;
    Dwarf_Addr bias = 0;
    const char* name = dwfl_module_getsym_info(mod, i, &sym, &address, &shndx, &elf, &bias);
    int type = GELF_ST_TYPE(sym.st_info);
    if (name == nullptr || name[0] == '\0' || shndx == SHN_UNDEF ||
        (type != STT_FUNC && type != STT_GNU_IFUNC))
      continue;
    bool sized = sym.st_size > 0;
    GElf_Addr end = sized ? address + sym.st_size : SectionEnd(elf, shndx, bias, address);
    symbols_.push_back({address, end, name, sized, BindingRank(sym.st_info)});
  }
  std::sort(symbols_.begin(), symbols_.end(), [](const Symbol& a, const Symbol& b) {
    return a.start != b.start ? a.start < b.start : a.rank < b.rank;
  });
}

std::string SymbolTable::NameAt(uint64_t pc) const {
  auto after = std::upper_bound(symbols_.begin(), symbols_.end(), pc,
                                [](uint64_t p, const Symbol& s) { return p < s.start; });
  if (after == symbols_.begin()) return {};
  // A sized symbol holding pc, looking back past unsized labels inside it.
  auto it = after;
  for (int steps = 0; it != symbols_.begin() && steps < 16; ++steps) {
    --it;
    if (it->sized && pc < it->end) return Demangle(it->name);
  }
  const Symbol& nearest = *std::prev(after);
  return !nearest.sized && pc < nearest.end ? Demangle(nearest.name) : std::string();
}

// The name of the function (not inlined) holding pc. Without a DWARF
// linkage name (internal linkage, lambdas) the symbol table's name is the
// better one: qualified, with parameters. Clone suffixes (".cold",
// ".isra.0") are dropped so that all parts of a function read the same.
std::string OuterFunctionName(const SymbolTable& symbols, uint64_t pc, Dwarf_Die* die,
                              CuIndexes* indexes) {
  if (LinkageName(die) == nullptr) {
    std::string symbol = symbols.NameAt(pc);
    std::string::size_type clone = symbol.find(" [clone ");
    if (clone != std::string::npos) symbol.resize(clone);
    if (!symbol.empty()) return symbol;
  }
  return DieFunctionName(die, indexes);
}

// The frames at pc, innermost first: every inlined subroutine becomes an
// inlined frame, the enclosing subprogram the last frame. Each outer frame's
// position is the call site recorded in the inner one. Empty when no DWARF
// function covers pc.
std::vector<SymbolizedFrame> DwarfFrames(Dwfl_Module* mod, uint64_t pc, const SymbolizedFrame& base,
                                         const SymbolTable& symbols, CuIndexes* indexes) {
  Dwarf_Addr bias = 0;
  Dwarf_Die* cu = dwfl_module_addrdie(mod, pc, &bias);
  Dwarf_Die function;
  if (cu == nullptr || !FunctionAt(indexes->Of(cu), pc - bias, &function)) return {};
  std::vector<Dwarf_Die> scopes = ScopesIn(function, pc - bias);
  std::vector<SymbolizedFrame> frames;
  SymbolizedFrame frame = base;
  SourceAt(mod, pc, &frame.file, &frame.line);
  for (auto scope = scopes.rbegin(); scope != scopes.rend(); ++scope) {
    int tag = dwarf_tag(&*scope);
    if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram) continue;
    frame.inlined = tag == DW_TAG_inlined_subroutine;
    frame.function = frame.inlined ? DieFunctionName(&*scope, indexes)
                                   : OuterFunctionName(symbols, pc, &*scope, indexes);
    frames.push_back(frame);
    if (frame.inlined) CallSite(&*scope, &frame.file, &frame.line);
  }
  return frames;
}

// libdw is used from the report's thread and from the prewarm worker: each
// Dwfl is only ever used by one thread at a time, and this keeps libdw's few
// shared structures out of any race.
std::mutex g_libdw;

// One registered module and, once a pc needs it, its Dwfl.
struct LoadedModule {
  ModuleInfo info;
  bool prewarm = false;  // handed to the prewarm worker (loop thread only)
  bool opened = false;
  Dwfl* dwfl = nullptr;           // owned; null if the file is unusable
  Dwfl_Module* module = nullptr;  // the single module of `dwfl`
  CuIndexes cu_indexes;
  std::unique_ptr<SymbolTable> symbols;  // once the module is open

  explicit LoadedModule(ModuleInfo i) : info(std::move(i)) {}
  ~LoadedModule() {
    if (dwfl != nullptr) dwfl_end(dwfl);
  }
  LoadedModule(const LoadedModule&) = delete;
  LoadedModule& operator=(const LoadedModule&) = delete;

  Dwfl_Module* Open() {
    if (opened) return module;
    opened = true;
    if (!IsRegularFile(info.path)) return nullptr;
    dwfl = dwfl_begin(OfflineCallbacks());
    if (dwfl == nullptr) return nullptr;
    Dwfl_Module* mod = ReportAtBias(dwfl, info);
    if (mod != nullptr && BuildIdMatches(mod, info.build_id)) module = mod;
    symbols = std::make_unique<SymbolTable>(module);
    return module;
  }

  bool Contains(uint64_t pc) const {
    for (const auto& range : info.exec_ranges)
      if (pc >= range.first && pc < range.second) return true;
    return false;
  }
};

// A Symbolizer's side of the prewarm worker: its jobs queued or running
// (guarded by the worker's mutex) and their results, which are the worker's
// while any is pending and the symbolizer's once none is.
struct PrewarmOwner {
  uint64_t pending = 0;
  std::vector<std::pair<uint64_t, std::vector<SymbolizedFrame>>> prewarmed;
};

std::vector<SymbolizedFrame> ResolveIn(LoadedModule* loaded, uint64_t pc);

// The process's one prewarm thread, for every Symbolizer: resolves the pcs
// queued by Prewarm() in order, in modules handed to it (LoadedModule::
// prewarm), into its owner's `prewarmed`. Started at the first Prewarm() and
// kept: a thread per batch of new pcs (one per frame of a program that
// keeps meeting new stacks, 878 in a Node.js run) cost more than the
// symbolizing. libdw is serialized anyway (g_libdw), so one thread for all
// streams loses nothing. It inherits the signal mask of the thread that
// started it (the collector's: blocks what `leakscope run` forwards).
class PrewarmWorker {
 public:
  struct Job {
    PrewarmOwner* owner;
    LoadedModule* module;
    uint64_t pc;
  };
  static PrewarmWorker& Get() {
    static PrewarmWorker worker;
    return worker;
  }
  ~PrewarmWorker() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    work_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  void Add(const std::vector<Job>& jobs);
  // Until none of owner's jobs is queued or running; its results are then
  // the caller's to take.
  void Wait(PrewarmOwner* owner);
  // Drops owner's queued jobs and waits for its running one.
  void Cancel(PrewarmOwner* owner);

 private:
  void Main();
  std::mutex mu_;  // guards everything below, and PrewarmOwner::pending
  std::condition_variable work_, done_;
  std::deque<Job> queue_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

struct Symbolizer::Impl {
  std::vector<std::unique_ptr<LoadedModule>> modules;
  std::unordered_map<uint64_t, std::vector<SymbolizedFrame>> cache;
  PrewarmOwner prewarm;  // results join the cache once none is pending
  // Pcs queued (loop thread). Asked for every pc of every new stack (770,000
  // in a Node.js run, of 6,000 distinct): a flat set, no node per lookup.
  tsl::robin_set<uint64_t> prewarm_seen;

  void WaitPrewarm() {
    PrewarmWorker::Get().Wait(&prewarm);
    for (auto& [pc, frames] : prewarm.prewarmed) cache.emplace(pc, std::move(frames));
    prewarm.prewarmed.clear();
  }

  // The latest registered module wins when ranges overlap: a library loaded
  // where a dlclose'd one used to be.
  LoadedModule* Find(uint64_t pc) {
    for (auto it = modules.rbegin(); it != modules.rend(); ++it)
      if ((*it)->Contains(pc)) return it->get();
    return nullptr;
  }

  std::vector<SymbolizedFrame> Resolve(uint64_t pc);
};

std::vector<SymbolizedFrame> Symbolizer::Impl::Resolve(uint64_t pc) {
  LoadedModule* loaded = Find(pc);
  if (loaded == nullptr) {
    SymbolizedFrame frame;
    frame.function = Hex(pc);
    return {frame};
  }
  return ResolveIn(loaded, pc);
}

// The C library's process and thread entry frames: on every stack, never
// the program's call site. Their symbol name is enough, and skipping their
// DWARF spares a report from inflating libc's compressed debug info (~40 ms)
// when nothing else needs it.
bool IsEntryFrame(std::string name) {
  name.resize(std::min(name.size(), name.find('@')));  // "__libc_start_main@@GLIBC_2.34"
  static const char* const kEntries[] = {"_start",
                                         "__libc_start_main",
                                         "__libc_start_call_main",
                                         "start_thread",
                                         "__clone3",
                                         "clone3",
                                         "__clone",
                                         "clone",
                                         "__clone_internal"};
  for (const char* e : kEntries)
    if (name == e) return true;
  return false;
}

namespace {

std::vector<SymbolizedFrame> ResolveIn(LoadedModule* loaded, uint64_t pc) {
  SymbolizedFrame frame;
  frame.module = loaded->info.path;
  frame.module_offset = pc - loaded->info.load_bias;
  Dwfl_Module* mod = loaded->Open();
  if (mod != nullptr) {
    std::string name = loaded->symbols->NameAt(pc);
    if (IsEntryFrame(name)) {
      frame.function = std::move(name);
      return {frame};
    }
  }
  std::vector<SymbolizedFrame> frames;
  if (mod != nullptr) frames = DwarfFrames(mod, pc, frame, *loaded->symbols, &loaded->cu_indexes);
  if (frames.empty()) {
    if (mod != nullptr) SourceAt(mod, pc, &frame.file, &frame.line);
    frames.push_back(frame);
  }
  std::string& outer = frames.back().function;
  if (outer.empty() && mod != nullptr) outer = loaded->symbols->NameAt(pc);
  if (outer.empty()) outer = Basename(loaded->info.path) + "+" + Hex(frame.module_offset);
  return frames;
}

}  // namespace

void PrewarmWorker::Add(const std::vector<Job>& jobs) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Job& job : jobs) {
      queue_.push_back(job);
      ++job.owner->pending;
    }
    if (!thread_.joinable()) {
      thread_ = std::thread([this] { Main(); });
      pthread_setname_np(thread_.native_handle(), "ls-symbols");
    }
  }
  work_.notify_one();
}

void PrewarmWorker::Wait(PrewarmOwner* owner) {
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [owner] { return owner->pending == 0; });
}

void PrewarmWorker::Cancel(PrewarmOwner* owner) {
  std::unique_lock<std::mutex> lock(mu_);
  const size_t before = queue_.size();
  queue_.erase(std::remove_if(queue_.begin(), queue_.end(),
                              [owner](const Job& job) { return job.owner == owner; }),
               queue_.end());
  owner->pending -= before - queue_.size();
  done_.wait(lock, [owner] { return owner->pending == 0; });
}

void PrewarmWorker::Main() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    const Job job = queue_.front();
    queue_.pop_front();
    lock.unlock();
    {
      std::lock_guard<std::mutex> libdw(g_libdw);
      job.owner->prewarmed.emplace_back(job.pc, ResolveIn(job.module, job.pc));
    }
    lock.lock();
    if (--job.owner->pending == 0) done_.notify_all();
  }
}

Symbolizer::Symbolizer() : impl_(new Impl) {
  // libdw would fetch missing debug info from debuginfod servers while a
  // report is being written: a collector must not stall on the network.
  g_debuginfod = getenv("LEAKSCOPE_DEBUGINFOD") != nullptr;
  if (!g_debuginfod) unsetenv("DEBUGINFOD_URLS");
}
Symbolizer::~Symbolizer() {
  PrewarmWorker::Get().Cancel(&impl_->prewarm);
}

void Symbolizer::Prewarm(const uint64_t* return_addresses, size_t n) {
  Impl* impl = impl_.get();
  std::vector<PrewarmWorker::Job> jobs;
  for (size_t i = 0; i < n; ++i) {
    if (return_addresses[i] == 0) continue;
    const uint64_t pc = return_addresses[i] - 1;  // the call site, as reports ask
    if (!impl->prewarm_seen.insert(pc).second || impl->cache.count(pc)) continue;
    LoadedModule* m = impl->Find(pc);
    // A module opened by Symbolize() stays with this thread; it is cheap now.
    if (m == nullptr || (!m->prewarm && m->opened)) continue;
    m->prewarm = true;
    jobs.push_back({&impl->prewarm, m, pc});
  }
  if (!jobs.empty()) PrewarmWorker::Get().Add(jobs);  // never blocks on the worker's work
}

void Symbolizer::AddModule(const ModuleInfo& module) {
  for (const auto& m : impl_->modules)
    if (m->info.path == module.path && m->info.load_bias == module.load_bias) return;
  impl_->modules.push_back(std::make_unique<LoadedModule>(module));
}

const std::vector<SymbolizedFrame>& Symbolizer::Symbolize(uint64_t pc) {
  auto it = impl_->cache.find(pc);
  if (it != impl_->cache.end()) return it->second;
  impl_->WaitPrewarm();
  std::lock_guard<std::mutex> lock(g_libdw);
  return impl_->cache.emplace(pc, impl_->Resolve(pc)).first->second;
}

}  // namespace leakscope::collector
