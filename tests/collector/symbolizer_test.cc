// Symbolizes real call sites of code built with -g -O2 (testdata/), located
// at runtime with dl_iterate_phdr the way the shim does, and checks every
// field against what the source says: names, __LINE__ values, inlining.
#include "symbolizer.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "main_code.h"
#include "shared_library.h"

namespace leakscope::collector {
namespace {

std::string Basename(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

std::string Hex(uint64_t value) {
  char buf[24];
  snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(value));
  return buf;
}

std::string ExecutablePath() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, n) : std::string();
}

// The GNU build-id in one PT_NOTE segment, or "".
std::string BuildIdInNote(const dl_phdr_info* info, const ElfW(Phdr) & phdr) {
  const char* p = reinterpret_cast<const char*>(info->dlpi_addr + phdr.p_vaddr);
  const char* end = p + phdr.p_memsz;
  auto align4 = [](size_t n) { return (n + 3) & ~size_t{3}; };
  while (p + sizeof(ElfW(Nhdr)) <= end) {
    const auto* note = reinterpret_cast<const ElfW(Nhdr)*>(p);
    const char* name = p + sizeof(ElfW(Nhdr));
    const char* desc = name + align4(note->n_namesz);
    if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 && memcmp(name, "GNU", 4) == 0)
      return std::string(desc, note->n_descsz);
    p = desc + align4(note->n_descsz);
  }
  return {};
}

struct Search {
  uint64_t address = 0;
  ModuleInfo module;
  bool found = false;
};

// dl_iterate_phdr callback: the module whose executable PT_LOAD holds
// `address`, described as the shim describes it (wire.Module).
int MatchModule(dl_phdr_info* info, size_t, void* data) {
  auto* search = static_cast<Search*>(data);
  ModuleInfo module;
  module.path = info->dlpi_name[0] != '\0' ? info->dlpi_name : ExecutablePath();
  module.load_bias = info->dlpi_addr;
  bool contains = false;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& phdr = info->dlpi_phdr[i];
    if (phdr.p_type == PT_NOTE && module.build_id.empty())
      module.build_id = BuildIdInNote(info, phdr);
    if (phdr.p_type != PT_LOAD || (phdr.p_flags & PF_X) == 0) continue;
    uint64_t start = info->dlpi_addr + phdr.p_vaddr;
    module.exec_ranges.emplace_back(start, start + phdr.p_memsz);
    contains |= search->address >= start && search->address < start + phdr.p_memsz;
  }
  if (!contains) return 0;
  search->module = module;
  search->found = true;
  return 1;
}

ModuleInfo ModuleContaining(const void* address) {
  Search search;
  search.address = reinterpret_cast<uint64_t>(address);
  dl_iterate_phdr(MatchModule, &search);
  EXPECT_TRUE(search.found) << "no module holds " << address;
  return search.module;
}

// The call instruction itself: the return address minus one.
uint64_t CallPc(const symtest::Site& site) {
  return reinterpret_cast<uint64_t>(site.return_address) - 1;
}

// libsymtest_shared.so, dlopen'd for the lifetime of the object.
class SharedLibrary {
 public:
  SharedLibrary() : handle_(dlopen(SYMTEST_SHARED_PATH, RTLD_NOW | RTLD_LOCAL)) {}
  ~SharedLibrary() { Close(); }
  SharedLibrary(const SharedLibrary&) = delete;
  SharedLibrary& operator=(const SharedLibrary&) = delete;

  bool ok() const { return handle_ != nullptr; }
  void Close() {
    if (handle_ != nullptr) dlclose(handle_);
    handle_ = nullptr;
  }
  symtest::Site Call(const char* function) {
    symtest::Site site;
    auto* fn = reinterpret_cast<void (*)(symtest::Site*)>(dlsym(handle_, function));
    EXPECT_NE(fn, nullptr) << function;
    if (fn != nullptr) fn(&site);
    return site;
  }

 private:
  void* handle_;
};

void ExpectFrame(const SymbolizedFrame& frame, const std::string& function,
                 const std::string& file_basename, int line, bool inlined) {
  EXPECT_EQ(frame.function, function);
  EXPECT_EQ(Basename(frame.file), file_basename);
  EXPECT_EQ(frame.line, static_cast<uint32_t>(line));
  EXPECT_EQ(frame.inlined, inlined);
}

TEST(SymbolizerTest, PlainFunctionInExecutable) {
  symtest::Site site;
  symtest::PlainFunction(&site);
  ModuleInfo module = ModuleContaining(site.return_address);
  Symbolizer symbolizer;
  symbolizer.AddModule(module);

  const auto& frames = symbolizer.Symbolize(CallPc(site));
  ASSERT_EQ(frames.size(), 1u);
  ExpectFrame(frames[0], "symtest::PlainFunction(symtest::Site*)", "main_code.cc", site.line,
              false);
  EXPECT_EQ(frames[0].file[0], '/');  // joined with the compilation directory
  EXPECT_EQ(frames[0].module, ExecutablePath());
  EXPECT_EQ(frames[0].module_offset, CallPc(site) - module.load_bias);
}

TEST(SymbolizerTest, InlinedCallGivesInlinedFrameThenCaller) {
  symtest::Site site;
  symtest::FunctionWithInline(&site);
  Symbolizer symbolizer;
  symbolizer.AddModule(ModuleContaining(site.return_address));

  const auto& frames = symbolizer.Symbolize(CallPc(site));
  ASSERT_EQ(frames.size(), 2u);
  // A static function has no DWARF linkage name: qualified, no parameters.
  ExpectFrame(frames[0], "symtest::InlinedCallee", "main_code.cc", site.line, true);
  ExpectFrame(frames[1], "symtest::FunctionWithInline(symtest::Site*)", "main_code.cc",
              site.call_line, false);
  EXPECT_EQ(frames[0].module, frames[1].module);
  EXPECT_EQ(frames[0].module_offset, frames[1].module_offset);
}

TEST(SymbolizerTest, NestedInlinedCallsGiveOneFrameEach) {
  symtest::Site site;
  symtest::FunctionWithNestedInline(&site);
  Symbolizer symbolizer;
  symbolizer.AddModule(ModuleContaining(site.return_address));

  const auto& frames = symbolizer.Symbolize(CallPc(site));
  ASSERT_EQ(frames.size(), 3u);
  ExpectFrame(frames[0], "symtest::InlinedCallee", "main_code.cc", site.line, true);
  ExpectFrame(frames[1], "symtest::OuterInlined", "main_code.cc", site.call_line, true);
  ExpectFrame(frames[2], "symtest::FunctionWithNestedInline(symtest::Site*)", "main_code.cc",
              site.outer_call_line, false);
}

TEST(SymbolizerTest, TemplateFunctionNameIsDemangled) {
  symtest::Site site;
  symtest::TemplateFunction<int>(&site);
  Symbolizer symbolizer;
  symbolizer.AddModule(ModuleContaining(site.return_address));

  const auto& frames = symbolizer.Symbolize(CallPc(site));
  ASSERT_EQ(frames.size(), 1u);
  ExpectFrame(frames[0], "void symtest::TemplateFunction<int>(symtest::Site*)", "main_code.cc",
              site.line, false);
}

TEST(SymbolizerTest, FunctionInSharedLibrary) {
  SharedLibrary library;
  ASSERT_TRUE(library.ok()) << dlerror();
  symtest::Site site = library.Call("SymtestLibraryFunction");
  ModuleInfo module = ModuleContaining(site.return_address);
  EXPECT_EQ(module.path, SYMTEST_SHARED_PATH);
  EXPECT_FALSE(module.build_id.empty());
  Symbolizer symbolizer;
  symbolizer.AddModule(module);

  const auto& frames = symbolizer.Symbolize(CallPc(site));
  ASSERT_EQ(frames.size(), 1u);
  ExpectFrame(frames[0], "SymtestLibraryFunction", "shared_library.cc", site.line, false);
  EXPECT_EQ(frames[0].module, SYMTEST_SHARED_PATH);
  EXPECT_EQ(frames[0].module_offset, CallPc(site) - module.load_bias);
}

TEST(SymbolizerTest, SeveralModulesInOneSymbolizer) {
  SharedLibrary library;
  ASSERT_TRUE(library.ok()) << dlerror();
  symtest::Site in_library = library.Call("SymtestLibraryFunction");
  symtest::Site in_executable;
  symtest::PlainFunction(&in_executable);
  Symbolizer symbolizer;
  symbolizer.AddModule(ModuleContaining(in_executable.return_address));
  symbolizer.AddModule(ModuleContaining(in_library.return_address));

  const auto& library_frames = symbolizer.Symbolize(CallPc(in_library));
  const auto& executable_frames = symbolizer.Symbolize(CallPc(in_executable));
  ASSERT_EQ(library_frames.size(), 1u);
  ASSERT_EQ(executable_frames.size(), 1u);
  ExpectFrame(library_frames[0], "SymtestLibraryFunction", "shared_library.cc", in_library.line,
              false);
  EXPECT_EQ(library_frames[0].module, SYMTEST_SHARED_PATH);
  ExpectFrame(executable_frames[0], "symtest::PlainFunction(symtest::Site*)", "main_code.cc",
              in_executable.line, false);
  EXPECT_EQ(executable_frames[0].module, ExecutablePath());
}

// Assembly symbols often have no size; one still names the code after it.
TEST(SymbolizerTest, UnsizedSymbolNamesTheCodeAfterIt) {
  SharedLibrary library;
  ASSERT_TRUE(library.ok()) << dlerror();
  symtest::Site site = library.Call("SymtestUnsizedFunction");
  Symbolizer symbolizer;
  symbolizer.AddModule(ModuleContaining(site.return_address));

  const auto& frames = symbolizer.Symbolize(CallPc(site));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].function, "SymtestUnsizedFunction");
  EXPECT_FALSE(frames[0].inlined);
}

TEST(SymbolizerTest, LibraryStillSymbolizesAfterDlclose) {
  SharedLibrary library;
  ASSERT_TRUE(library.ok()) << dlerror();
  symtest::Site site = library.Call("SymtestCallHidden");
  ModuleInfo module = ModuleContaining(site.return_address);
  library.Close();
  Symbolizer symbolizer;
  symbolizer.AddModule(module);

  const auto& frames = symbolizer.Symbolize(CallPc(site));
  ASSERT_EQ(frames.size(), 1u);
  // Internal linkage: named from the symbol table, which has the parameters.
  ExpectFrame(frames[0], "(anonymous namespace)::HiddenFunction(symtest::Site*)",
              "shared_library.cc", site.line, false);
}

// What symtest_nonpie printed: one call site and its executable segments.
struct NonPieRun {
  uint64_t return_address = 0;
  int line = 0;
  ModuleInfo module;
};

bool RunNonPie(NonPieRun* run) {
  FILE* out = popen(SYMTEST_NONPIE_PATH, "r");
  if (out == nullptr) return false;
  unsigned long long address = 0, start = 0, end = 0;
  bool ok = fscanf(out, "%llu %d", &address, &run->line) == 2;
  run->return_address = address;
  run->module.path = SYMTEST_NONPIE_PATH;
  while (fscanf(out, "%llu %llu", &start, &end) == 2)
    run->module.exec_ranges.emplace_back(start, end);
  return pclose(out) == 0 && ok && !run->module.exec_ranges.empty();
}

TEST(SymbolizerTest, NonPieExecutable) {
  NonPieRun run;
  ASSERT_TRUE(RunNonPie(&run));
  Symbolizer symbolizer;
  symbolizer.AddModule(run.module);  // load bias 0: addresses are link-time addresses

  const auto& frames = symbolizer.Symbolize(run.return_address - 1);
  ASSERT_EQ(frames.size(), 1u);
  ExpectFrame(frames[0], "symtest::PlainFunction(symtest::Site*)", "main_code.cc", run.line, false);
  EXPECT_EQ(frames[0].module, SYMTEST_NONPIE_PATH);
  EXPECT_EQ(frames[0].module_offset, run.return_address - 1);
}

TEST(SymbolizerTest, AddressInNoModule) {
  Symbolizer symbolizer;
  const auto& frames = symbolizer.Symbolize(0x1234abcd);
  ASSERT_EQ(frames.size(), 1u);
  ExpectFrame(frames[0], "0x1234abcd", "", 0, false);
  EXPECT_EQ(frames[0].module, "");
}

// A module at a made-up address, for files that cannot be used.
constexpr uint64_t kFakeBias = 0x7f0000000000;
constexpr uint64_t kFakeOffset = 0x1234;

ModuleInfo ModuleAtFakeAddress(const std::string& path) {
  ModuleInfo module;
  module.path = path;
  module.load_bias = kFakeBias;
  module.exec_ranges = {{kFakeBias + 0x1000, kFakeBias + 0x3000}};
  return module;
}

// Such a module is symbolized as basename+offset.
void ExpectModuleOffsetFallback(const std::string& path) {
  Symbolizer symbolizer;
  symbolizer.AddModule(ModuleAtFakeAddress(path));
  const auto& frames = symbolizer.Symbolize(kFakeBias + kFakeOffset);
  ASSERT_EQ(frames.size(), 1u);
  ExpectFrame(frames[0], Basename(path) + "+" + Hex(kFakeOffset), "", 0, false);
  EXPECT_EQ(frames[0].module, path);
  EXPECT_EQ(frames[0].module_offset, kFakeOffset);
}

TEST(SymbolizerTest, MissingFileFallsBackToModuleOffset) {
  ExpectModuleOffsetFallback("/nonexistent/dir/libgone.so");
}

TEST(SymbolizerTest, NonElfFileFallsBackToModuleOffset) {
  std::string path = testing::TempDir() + "symbolizer_not_elf.so";
  std::ofstream(path) << "this is not an ELF file\n";
  ExpectModuleOffsetFallback(path);
  unlink(path.c_str());
}

// Opening a FIFO for reading blocks until a writer comes. The symbolization
// runs in a child that SIGALRM ends, so that opening it fails the test
// instead of hanging it.
TEST(SymbolizerTest, FifoIsNotOpened) {
  std::string path = testing::TempDir() + "symbolizer_fifo.so";
  unlink(path.c_str());
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  const std::string expected = Basename(path) + "+" + Hex(kFakeOffset);
  EXPECT_EXIT(
      {
        alarm(10);
        Symbolizer symbolizer;
        symbolizer.AddModule(ModuleAtFakeAddress(path));
        const std::string& function = symbolizer.Symbolize(kFakeBias + kFakeOffset)[0].function;
        exit(function == expected ? 0 : 1);
      },
      testing::ExitedWithCode(0), "");
  unlink(path.c_str());
}

TEST(SymbolizerTest, EmptyPathFallsBackToModuleOffset) {
  ExpectModuleOffsetFallback("");
}

// The stripped copy, described with the real library's runtime addresses.
ModuleInfo StrippedCopyOf(const ModuleInfo& module) {
  ModuleInfo stripped = module;
  stripped.path = SYMTEST_STRIPPED_PATH;
  return stripped;
}

TEST(SymbolizerTest, StrippedLibraryNamesExportedFunctionFromDynsym) {
  SharedLibrary library;
  ASSERT_TRUE(library.ok()) << dlerror();
  symtest::Site site = library.Call("SymtestLibraryFunction");
  Symbolizer symbolizer;
  symbolizer.AddModule(StrippedCopyOf(ModuleContaining(site.return_address)));

  const auto& frames = symbolizer.Symbolize(CallPc(site));
  ASSERT_EQ(frames.size(), 1u);
  ExpectFrame(frames[0], "SymtestLibraryFunction", "", 0, false);
  EXPECT_EQ(frames[0].module, SYMTEST_STRIPPED_PATH);
}

// `f` and `Ss` are also Itanium type codes (float, std::string): a plain C
// name from the symbol table is shown as it is, not demangled as a type.
TEST(SymbolizerTest, PlainCNamesFromSymbolTableAreNotDemangledAsTypes) {
  SharedLibrary library;
  ASSERT_TRUE(library.ok()) << dlerror();
  for (const char* name : {"f", "Ss"}) {
    symtest::Site site = library.Call(name);
    Symbolizer symbolizer;
    symbolizer.AddModule(StrippedCopyOf(ModuleContaining(site.return_address)));
    const auto& frames = symbolizer.Symbolize(CallPc(site));
    ASSERT_EQ(frames.size(), 1u) << name;
    ExpectFrame(frames[0], name, "", 0, false);
  }
}

TEST(SymbolizerTest, PlainCNamesFromDwarfAreShownAsWritten) {
  SharedLibrary library;
  ASSERT_TRUE(library.ok()) << dlerror();
  for (const char* name : {"f", "Ss"}) {
    symtest::Site site = library.Call(name);
    Symbolizer symbolizer;
    symbolizer.AddModule(ModuleContaining(site.return_address));
    const auto& frames = symbolizer.Symbolize(CallPc(site));
    ASSERT_EQ(frames.size(), 1u) << name;
    ExpectFrame(frames[0], name, "shared_library.cc", site.line, false);
  }
}

TEST(SymbolizerTest, StrippedLibraryHiddenFunctionIsModuleOffset) {
  SharedLibrary library;
  ASSERT_TRUE(library.ok()) << dlerror();
  symtest::Site site = library.Call("SymtestCallHidden");
  ModuleInfo module = ModuleContaining(site.return_address);
  Symbolizer symbolizer;
  symbolizer.AddModule(StrippedCopyOf(module));

  const auto& frames = symbolizer.Symbolize(CallPc(site));
  ASSERT_EQ(frames.size(), 1u);
  uint64_t offset = CallPc(site) - module.load_bias;
  ExpectFrame(frames[0], Basename(SYMTEST_STRIPPED_PATH) + "+" + Hex(offset), "", 0, false);
  EXPECT_EQ(frames[0].module_offset, offset);
}

// A call in libsymtest_shared.so's code, symbolized (by a fresh Symbolizer)
// as if the library had been loaded from `path`, a stripped copy whose DWARF
// is in a separate file: it must read exactly as the source says.
void ExpectHiddenFunctionAs(const char* path, ModuleInfo* module_out = nullptr) {
  SharedLibrary library;
  ASSERT_TRUE(library.ok()) << dlerror();
  symtest::Site site = library.Call("SymtestCallHidden");
  ModuleInfo module = ModuleContaining(site.return_address);
  module.path = path;
  Symbolizer symbolizer;
  symbolizer.AddModule(module);

  const auto& frames = symbolizer.Symbolize(CallPc(site));
  ASSERT_EQ(frames.size(), 1u);
  ExpectFrame(frames[0], "(anonymous namespace)::HiddenFunction(symtest::Site*)",
              "shared_library.cc", site.line, false);
  EXPECT_EQ(frames[0].module, path);
  if (module_out != nullptr) *module_out = module;
}

TEST(SymbolizerTest, StrippedLibraryFindsSeparateDebugInfoThroughDebugLink) {
  ExpectHiddenFunctionAs(SYMTEST_DEBUGLINK_PATH);
}

TEST(SymbolizerTest, BuildIdMismatchIsNotTrusted) {
  SharedLibrary library;
  ASSERT_TRUE(library.ok()) << dlerror();
  symtest::Site site = library.Call("SymtestLibraryFunction");
  ModuleInfo module = ModuleContaining(site.return_address);
  module.build_id = std::string("\x01\x02\x03\x04", 4);
  Symbolizer symbolizer;
  symbolizer.AddModule(module);

  const auto& frames = symbolizer.Symbolize(CallPc(site));
  ASSERT_EQ(frames.size(), 1u);
  uint64_t offset = CallPc(site) - module.load_bias;
  ExpectFrame(frames[0], Basename(SYMTEST_SHARED_PATH) + "+" + Hex(offset), "", 0, false);
}

TEST(SymbolizerTest, SameModuleAddedTwiceKeepsTheFirst) {
  symtest::Site site;
  symtest::PlainFunction(&site);
  ModuleInfo module = ModuleContaining(site.return_address);
  ModuleInfo again = module;
  again.build_id = "not this file";
  Symbolizer symbolizer;
  symbolizer.AddModule(module);
  symbolizer.AddModule(again);  // ignored; if kept, as the latest it would win and not match

  EXPECT_EQ(symbolizer.Symbolize(CallPc(site))[0].function,
            "symtest::PlainFunction(symtest::Site*)");
}

TEST(SymbolizerTest, LatestModuleWinsWhereRangesOverlap) {
  symtest::Site site;
  symtest::PlainFunction(&site);
  ModuleInfo module = ModuleContaining(site.return_address);
  ModuleInfo earlier = module;
  earlier.path = "/nonexistent/unloaded.so";
  Symbolizer symbolizer;
  symbolizer.AddModule(earlier);
  symbolizer.AddModule(module);

  EXPECT_EQ(symbolizer.Symbolize(CallPc(site))[0].module, ExecutablePath());
}

TEST(SymbolizerTest, ResultsAreCachedPerPc) {
  symtest::Site site;
  symtest::PlainFunction(&site);
  Symbolizer symbolizer;
  symbolizer.AddModule(ModuleContaining(site.return_address));

  const auto* first = &symbolizer.Symbolize(CallPc(site));
  symbolizer.Symbolize(0x10);  // another pc in between must not move it
  EXPECT_EQ(&symbolizer.Symbolize(CallPc(site)), first);
}

// Prewarm (`leakscope run`): the worker's frames are Symbolize()'s.
TEST(SymbolizerTest, PrewarmedFramesAreThoseSymbolizeGives) {
  SharedLibrary library;
  ASSERT_TRUE(library.ok()) << dlerror();
  symtest::Site in_library = library.Call("SymtestLibraryFunction");
  symtest::Site plain, inlined;
  symtest::PlainFunction(&plain);
  symtest::FunctionWithNestedInline(&inlined);
  Symbolizer symbolizer;
  symbolizer.AddModule(ModuleContaining(plain.return_address));
  symbolizer.AddModule(ModuleContaining(in_library.return_address));
  // Return addresses, as stacks carry them; 0 (no frame) is skipped.
  const uint64_t stack[] = {CallPc(inlined) + 1, 0, CallPc(plain) + 1, CallPc(in_library) + 1,
                            CallPc(plain) + 1};
  symbolizer.Prewarm(stack, std::size(stack));

  const auto& nested = symbolizer.Symbolize(CallPc(inlined));
  ASSERT_EQ(nested.size(), 3u);
  ExpectFrame(nested[0], "symtest::InlinedCallee", "main_code.cc", inlined.line, true);
  ExpectFrame(nested[1], "symtest::OuterInlined", "main_code.cc", inlined.call_line, true);
  ExpectFrame(nested[2], "symtest::FunctionWithNestedInline(symtest::Site*)", "main_code.cc",
              inlined.outer_call_line, false);
  const auto& frames = symbolizer.Symbolize(CallPc(plain));
  ASSERT_EQ(frames.size(), 1u);
  ExpectFrame(frames[0], "symtest::PlainFunction(symtest::Site*)", "main_code.cc", plain.line,
              false);
  EXPECT_EQ(frames[0].module, ExecutablePath());
  const auto& library_frames = symbolizer.Symbolize(CallPc(in_library));
  ASSERT_EQ(library_frames.size(), 1u);
  ExpectFrame(library_frames[0], "SymtestLibraryFunction", "shared_library.cc", in_library.line,
              false);
  EXPECT_EQ(library_frames[0].module, SYMTEST_SHARED_PATH);
}

// This process's threads called `name` (their ids).
std::vector<std::string> ThreadsNamed(const std::string& name) {
  std::vector<std::string> tids;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string line;
    if (std::getline(comm, line) && line == name) tids.push_back(task.path().filename());
  }
  return tids;
}

// One prewarm thread for every batch and every symbolizer, kept between
// them (a thread per batch cost a Node.js run 878 thread starts).
TEST(SymbolizerTest, OnePrewarmThreadServesEveryBatchAndSymbolizer) {
  symtest::Site plain, inlined, nested, templated;
  symtest::PlainFunction(&plain);
  symtest::FunctionWithInline(&inlined);
  symtest::FunctionWithNestedInline(&nested);
  symtest::TemplateFunction<int>(&templated);
  const ModuleInfo module = ModuleContaining(plain.return_address);
  std::vector<std::string> worker;
  for (const symtest::Site* site : {&plain, &inlined, &nested, &templated}) {
    Symbolizer symbolizer;  // a stream's: one per batch here
    symbolizer.AddModule(module);
    const uint64_t stack[] = {CallPc(*site) + 1};
    symbolizer.Prewarm(stack, 1);
    EXPECT_EQ(symbolizer.Symbolize(CallPc(*site)).back().module, ExecutablePath());
    const std::vector<std::string> now = ThreadsNamed("ls-symbols");
    ASSERT_EQ(now.size(), 1u);  // idle, and kept
    if (worker.empty()) worker = now;
    EXPECT_EQ(now, worker);
  }
}

// A symbolizer may go while its pcs are queued: they are dropped, and the
// worker goes on with the next one's.
TEST(SymbolizerTest, ASymbolizerDestroyedWhilePrewarmingLeavesTheWorkerUsable) {
  symtest::Site plain, inlined;
  symtest::PlainFunction(&plain);
  symtest::FunctionWithInline(&inlined);
  const ModuleInfo module = ModuleContaining(plain.return_address);
  for (int i = 0; i < 20; ++i) {
    Symbolizer gone;
    gone.AddModule(module);
    const uint64_t stack[] = {CallPc(plain) + 1, CallPc(inlined) + 1};
    gone.Prewarm(stack, std::size(stack));
  }
  Symbolizer symbolizer;
  symbolizer.AddModule(module);
  const uint64_t stack[] = {CallPc(inlined) + 1};
  symbolizer.Prewarm(stack, 1);
  const auto& frames = symbolizer.Symbolize(CallPc(inlined));
  ASSERT_EQ(frames.size(), 2u);
  ExpectFrame(frames[0], "symtest::InlinedCallee", "main_code.cc", inlined.line, true);
  ExpectFrame(frames[1], "symtest::FunctionWithInline(symtest::Site*)", "main_code.cc",
              inlined.call_line, false);
}

// collector/debug_cache.h: a compressed debug file is inflated once into the
// cache, the copy is used from then on, and the results are the same.
class DebugCacheTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/leakscope-debug-cache-XXXXXX";
    dir_ = mkdtemp(tmpl);
    setenv("LEAKSCOPE_DEBUG_CACHE", dir_.c_str(), 1);
  }
  void TearDown() override {
    unsetenv("LEAKSCOPE_DEBUG_CACHE");
    std::system(("rm -rf '" + dir_ + "'").c_str());
  }
  // Symbolizes a call in libsymtest_zdebug.so's code; the name its cached
  // copy has (or would have).
  void ExpectHiddenFunction(std::string* cached_file) {
    ModuleInfo module;
    ExpectHiddenFunctionAs(SYMTEST_ZDEBUG_PATH, &module);
    std::string hex;
    for (unsigned char c : module.build_id) {
      char two[3];
      snprintf(two, sizeof two, "%02x", c);
      hex += two;
    }
    *cached_file = dir_ + "/" + hex + ".debug";
  }
  static off_t SizeOf(const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0 ? st.st_size : -1;
  }
  std::string dir_;
};

TEST_F(DebugCacheTest, ACompressedDebugFileIsInflatedOnceAndUsedAfter) {
  std::string cached;
  ExpectHiddenFunction(&cached);
  const off_t compressed = SizeOf(std::string(SYMTEST_ZDEBUG_PATH) + ".debug");
  ASSERT_GT(SizeOf(cached), compressed);  // inflated
  struct stat first;
  ASSERT_EQ(stat(cached.c_str(), &first), 0);
  ExpectHiddenFunction(&cached);  // from the copy: the same frames
  struct stat second;
  ASSERT_EQ(stat(cached.c_str(), &second), 0);
  EXPECT_EQ(first.st_ino, second.st_ino);  // not made again
}

TEST_F(DebugCacheTest, ACorruptCopyIsNotTrusted) {
  std::string cached;
  ExpectHiddenFunction(&cached);
  std::ofstream(cached, std::ios::trunc) << "not an ELF file";
  ExpectHiddenFunction(&cached);  // the build-id check fails: the original is read
}

TEST_F(DebugCacheTest, OffMeansNoCopy) {
  setenv("LEAKSCOPE_DEBUG_CACHE", "off", 1);
  std::string cached;
  ExpectHiddenFunction(&cached);
  EXPECT_EQ(SizeOf(cached), -1);
}

}  // namespace
}  // namespace leakscope::collector
