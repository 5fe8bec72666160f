// BuildReport: allocator frames dropped, equal sites merged, sort order,
// frame table deduplicated, how the process ended. Function names come from a
// fake symbolizer; module+offset from the real one with a fake module map.
#include "report_builder.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <map>

#include "wire_test_encoder.h"

namespace leakscope::collector {
namespace {

using testing::AddStack;
using testing::EventsBuilder;
using testing::HelloMessage;

SymbolizedFrame Fn(const std::string& function, const std::string& module = "/bin/app",
                   bool inlined = false) {
  SymbolizedFrame f;
  f.function = function;
  f.module = module;
  f.inlined = inlined;
  return f;
}

// Keyed by call-site address: return address - 1.
class FakeSymbolizer {
 public:
  FakeSymbolizer() {
    frames_[0x100] = {Fn("malloc", "/usr/lib/libc.so.6")};
    frames_[0x200] = {Fn("operator new(unsigned long)", "/usr/lib/libstdc++.so.6")};
    frames_[0x300] = {Fn("Inlined()", "/bin/app", true), Fn("Caller()")};
    frames_[0x400] = {Fn("main")};
    frames_[0x500] = {Fn("calloc", "/usr/lib/libc.so.6")};
    frames_[0x600] = {Fn("leakscope::Record()", "/usr/lib/libleakscope.so")};
    frames_[0x700] = {Fn("Other()")};
  }
  SymbolizeFn Get() {
    return [this](uint64_t pc) -> const std::vector<SymbolizedFrame>& { return frames_.at(pc); };
  }

 private:
  std::map<uint64_t, std::vector<SymbolizedFrame>> frames_;
};

std::vector<std::string> Functions(const report::Report& r, int site) {
  std::vector<std::string> out;
  for (uint32_t i : r.sites(site).frames()) out.push_back(r.frames(i).function());
  return out;
}

class ReportBuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    wire::Message m = HelloMessage(99, "/bin/app");
    m.mutable_hello()->add_argv("--flag");
    AddStack(&m, 1, {0x601, 0x101, 0x201, 0x301, 0x401});  // shim, malloc, new, Caller, main
    AddStack(&m, 2, {0x201, 0x301, 0x401});                // same site once trimmed
    AddStack(&m, 3, {0x601, 0x501});                       // only allocator frames
    AddStack(&m, 4, {0x401});                              // main
    AddStack(&m, 5, {0x701});                              // defined, never allocates
    AddStack(&m, 6, {0x701, 0x401});                       // Other <- main
    *m.mutable_events() = EventsBuilder()
                              .Alloc(0x1000, 10, 1)
                              .Alloc(0x2000, 20, 2)
                              .Alloc(0x3000, 300, 3)
                              .Free(0x3000)  // temporary
                              .Alloc(0x4000, 30, 4)
                              .Alloc(0x5000, 50, 4)
                              .Free(0x5000)  // temporary
                              .Alloc(0x6000, 30, 6)
                              .Alloc(0x7000, 50, 6)
                              .Free(0x7000)  // temporary
                              .Build(10);
    state.Apply(m);
  }
  ProcessState state;
  FakeSymbolizer symbolizer;
};

TEST_F(ReportBuilderTest, SitesTrimmedMergedAndSorted) {
  report::Report r = BuildReport(state, {}, symbolizer.Get());
  // All live 30 but calloc's; then allocated bytes: 80 (Other<-main), 80 (main), 30 (stacks 1
  // and 2 merged); the two with 80 are ordered by frames: "Other()" < "main".
  ASSERT_EQ(r.sites_size(), 4);
  EXPECT_EQ(Functions(r, 0), (std::vector<std::string>{"Other()", "main"}));
  EXPECT_EQ(r.sites(0).live_bytes(), 30u);
  EXPECT_EQ(r.sites(0).allocated_bytes(), 80u);
  EXPECT_EQ(Functions(r, 1), (std::vector<std::string>{"main"}));
  EXPECT_EQ(r.sites(1).live_bytes(), 30u);
  EXPECT_EQ(r.sites(1).allocated_bytes(), 80u);
  EXPECT_EQ(r.sites(1).temporary_allocations(), 1u);
  EXPECT_EQ(Functions(r, 2), (std::vector<std::string>{"Inlined()", "Caller()", "main"}));
  EXPECT_EQ(r.sites(2).live_bytes(), 30u);
  EXPECT_EQ(r.sites(2).allocated_bytes(), 30u);
  EXPECT_EQ(r.sites(2).allocations(), 2u);
  EXPECT_EQ(r.sites(2).live_allocations(), 2u);
  EXPECT_TRUE(r.frames(r.sites(2).frames(0)).inlined());
  EXPECT_EQ(Functions(r, 3), (std::vector<std::string>{"calloc"}));  // at least one frame
  EXPECT_EQ(r.sites(3).live_bytes(), 0u);
  EXPECT_EQ(r.sites(3).temporary_allocations(), 1u);
  EXPECT_EQ(r.sites(3).peak_live_bytes(), 300u);  // peak 330 at the calloc
}

TEST_F(ReportBuilderTest, FrameTableHasEachFrameOnce) {
  report::Report r = BuildReport(state, {}, symbolizer.Get());
  std::vector<std::string> functions;
  for (const auto& f : r.frames()) functions.push_back(f.function());
  EXPECT_EQ(functions,
            (std::vector<std::string>{"Other()", "main", "Inlined()", "Caller()", "calloc"}));
}

TEST_F(ReportBuilderTest, TotalsAndProcess) {
  ReportContext context;
  context.end_time_unix_ns = 123;
  context.written_unix_ns = 456;
  report::Report r = BuildReport(state, context, symbolizer.Get());
  EXPECT_EQ(r.format_version(), 1u);
  EXPECT_TRUE(r.final());
  EXPECT_EQ(r.written_unix_ns(), 456u);
  EXPECT_EQ(r.sampling_interval_bytes(), 1u);
  EXPECT_EQ(r.totals().allocations(), 7u);
  EXPECT_EQ(r.totals().frees(), 3u);
  EXPECT_EQ(r.totals().allocated_bytes(), 490u);
  EXPECT_EQ(r.totals().live_bytes(), 90u);
  EXPECT_EQ(r.totals().live_allocations(), 4u);  // 0x1000 0x2000 0x4000 0x6000
  EXPECT_EQ(r.totals().peak_live_bytes(), 330u);
  EXPECT_EQ(r.totals().peak_time_ns(), 10u);
  EXPECT_EQ(r.process().pid(), 99u);
  EXPECT_EQ(r.process().exe(), "/bin/app");
  EXPECT_EQ(r.process().argv_size(), 2);
  EXPECT_EQ(r.process().argv(1), "--flag");
  EXPECT_EQ(r.process().end_time_unix_ns(), 123u);
  EXPECT_EQ(r.process().end(), report::Process::DISCONNECTED);
  // Exact mode: the interval is the value itself.
  EXPECT_EQ(r.sites(2).live_bytes_ci_low(), 30u);
  EXPECT_EQ(r.sites(2).live_bytes_ci_high(), 30u);
}

TEST_F(ReportBuilderTest, HowTheProcessEnded) {
  ReportContext running;
  running.running = true;
  report::Report r = BuildReport(state, running, symbolizer.Get());
  EXPECT_EQ(r.process().end(), report::Process::RUNNING);
  EXPECT_FALSE(r.final());

  ReportContext exited;
  exited.wait_status = 3 << 8;  // exit(3)
  r = BuildReport(state, exited, symbolizer.Get());
  EXPECT_EQ(r.process().end(), report::Process::EXITED);
  EXPECT_EQ(r.process().exit_status(), 3);

  ReportContext killed;
  killed.wait_status = SIGKILL;
  r = BuildReport(state, killed, symbolizer.Get());
  EXPECT_EQ(r.process().end(), report::Process::SIGNALED);
  EXPECT_EQ(r.process().signal(), SIGKILL);

  wire::Message bye;
  bye.mutable_goodbye()->set_how("exit");
  state.Apply(bye);
  r = BuildReport(state, {}, symbolizer.Get());
  EXPECT_EQ(r.process().end(), report::Process::ENDED);
  EXPECT_EQ(r.process().how(), "exit");

  bye.mutable_goodbye()->set_has_exit_status(true);
  bye.mutable_goodbye()->set_exit_status(4);
  state.Apply(bye);
  r = BuildReport(state, {}, symbolizer.Get());
  EXPECT_EQ(r.process().end(), report::Process::EXITED);
  EXPECT_EQ(r.process().exit_status(), 4);
}

TEST(IsAllocatorFrame, Names) {
  EXPECT_TRUE(IsAllocatorFrame(Fn("posix_memalign")));
  EXPECT_TRUE(IsAllocatorFrame(Fn("operator new[](unsigned long, std::align_val_t)")));
  EXPECT_TRUE(IsAllocatorFrame(Fn("anything", "libleakscope.so")));
  EXPECT_FALSE(IsAllocatorFrame(Fn("malloc_trim")));
  EXPECT_FALSE(IsAllocatorFrame(Fn("operator new_handler")));
  EXPECT_FALSE(IsAllocatorFrame(Fn("f", "/lib/libleak.so")));
}

// The real symbolizer, with modules that exist only in the stream: frames
// fall back to module + offset, and the shim's module is still dropped.
TEST(ReportBuilder, RealSymbolizerWithFakeModules) {
  ProcessState state;
  wire::Message m = HelloMessage(5, "/opt/fake/app");
  struct {
    const char* path;
    uint64_t bias, start, end;
  } modules[] = {{"/opt/fake/libleakscope.so", 0x7f0000000000, 0x7f0000001000, 0x7f0000002000},
                 {"/opt/fake/app", 0x555500000000, 0x555500001000, 0x555500009000}};
  for (const auto& mod : modules) {
    wire::Module* w = m.add_modules();
    w->set_path(mod.path);
    w->set_load_bias(mod.bias);
    w->add_exec_ranges(mod.start);
    w->add_exec_ranges(mod.end);
  }
  AddStack(&m, 1, {0x7f0000001234, 0x555500001235, 0x555500002001});
  *m.mutable_events() = EventsBuilder().Alloc(0x1000, 8, 1).Build(1);
  state.Apply(m);
  report::Report r = BuildReport(state, {});
  ASSERT_EQ(r.sites_size(), 1);
  ASSERT_EQ(r.sites(0).frames_size(), 2);
  const report::Frame& inner = r.frames(r.sites(0).frames(0));
  EXPECT_EQ(inner.module(), "/opt/fake/app");
  EXPECT_EQ(inner.module_offset(), 0x1234u);  // return address - 1 - bias
  const report::Frame& outer = r.frames(r.sites(0).frames(1));
  EXPECT_EQ(outer.module(), "/opt/fake/app");
  EXPECT_EQ(outer.module_offset(), 0x2000u);
}

}  // namespace
}  // namespace leakscope::collector

namespace leakscope::collector {
namespace {

// The shim's frames below the call site (its wrapper around main) are
// dropped too, and so is nothing else.
TEST(ReportBuilder, ShimFramesDeeperInTheStackAreDropped) {
  std::map<uint64_t, std::vector<SymbolizedFrame>> frames;
  frames[0x100] = {Fn("Leak()")};
  frames[0x200] = {Fn("main")};
  frames[0x300] = {Fn("MainTrampoline", "/opt/lib/libleakscope.so")};
  frames[0x400] = {Fn("__libc_start_main", "/usr/lib/libc.so.6")};
  frames[0x500] = {Fn("Helper", "/opt/lib/libleakscope_helper.so")};  // not the shim
  ProcessState state;
  wire::Message m = testing::HelloMessage(7, "/bin/app");
  testing::AddStack(&m, 1, {0x101, 0x201, 0x301, 0x401});
  testing::AddStack(&m, 2, {0x501, 0x201, 0x301, 0x401});
  *m.mutable_events() = testing::EventsBuilder().Alloc(0x1000, 64, 1).Alloc(0x2000, 32, 2).Build(1);
  state.Apply(m);
  const report::Report r = BuildReport(
      state, {}, [&](uint64_t pc) -> const std::vector<SymbolizedFrame>& { return frames.at(pc); });
  ASSERT_EQ(r.sites_size(), 2);
  EXPECT_EQ(Functions(r, 0), (std::vector<std::string>{"Leak()", "main", "__libc_start_main"}));
  EXPECT_EQ(Functions(r, 1), (std::vector<std::string>{"Helper", "main", "__libc_start_main"}));
}

}  // namespace
}  // namespace leakscope::collector
