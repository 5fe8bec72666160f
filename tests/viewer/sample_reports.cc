#include "sample_reports.h"

namespace leakscope::viewer::testing {
namespace {

void AddFrame(report::Report* r, const char* function, const char* file, uint32_t line,
              const char* module, bool inlined) {
  report::Frame* f = r->add_frames();
  f->set_function(function);
  f->set_file(file);
  f->set_line(line);
  f->set_module(module);
  f->set_inlined(inlined);
}

report::Site* AddSite(report::Report* r, uint64_t live_bytes, uint64_t live_allocations,
                      uint64_t allocated_bytes, uint64_t allocations) {
  report::Site* s = r->add_sites();
  s->set_live_bytes(live_bytes);
  s->set_live_allocations(live_allocations);
  s->set_allocated_bytes(allocated_bytes);
  s->set_allocations(allocations);
  return s;
}

}  // namespace

report::Report ServerReport() {
  report::Report r;
  r.set_format_version(1);
  r.set_final(true);
  report::Process* p = r.mutable_process();
  p->set_pid(4242);
  p->set_ppid(1);
  p->set_exe("/usr/bin/server");
  p->add_argv("server");
  p->add_argv("--port");
  p->add_argv("80 81");  // needs quoting on the command line
  p->set_end(report::Process::EXITED);
  p->set_exit_status(3);
  r.set_sampling_interval_bytes(1);
  report::Totals* t = r.mutable_totals();
  t->set_allocations(1500);
  t->set_frees(256);
  t->set_allocated_bytes(3145728);    // 3.0 MiB
  t->set_live_bytes(1572864 + 1000);  // the two surviving sites
  t->set_live_allocations(1234 + 10);
  t->set_peak_live_bytes(2097152);  // 2.0 MiB
  AddFrame(&r, "Cache::Insert(std::string const&)", "/src/cache.cc", 42, "/usr/bin/server", true);
  AddFrame(&r, "Handler::Run()", "/src/handler.cc", 7, "/usr/bin/server", false);
  AddFrame(&r, "", "", 0, "/lib/x86_64-linux-gnu/libc.so.6", false);
  AddFrame(&r, "leak_hundreds", "/src/leaky.c", 12, "/usr/bin/server", false);
  // Deliberately not sorted: the viewer must order by live bytes itself.
  AddSite(&r, 1000, 10, 1000, 10)->add_frames(3);
  report::Site* big = AddSite(&r, 1572864, 1234, 3000000, 1400);  // 1.5 MiB live, 2.9 MiB total
  big->add_frames(0);
  big->add_frames(1);
  big->add_frames(2);
  AddSite(&r, 0, 0, 4096, 4)->add_frames(1);  // freed everything: not "surviving"
  return r;
}

report::Report TinyReport() {
  report::Report r;
  report::Process* p = r.mutable_process();
  p->set_pid(7);
  p->set_ppid(6);
  p->set_exe("/bin/a\"b");
  p->add_argv("a\"b");
  p->add_argv("tab\there");
  p->set_end(report::Process::SIGNALED);
  p->set_signal(9);
  p->set_forked(true);
  r.set_sampling_interval_bytes(1);
  report::Totals* t = r.mutable_totals();
  t->set_allocations(2);
  t->set_frees(1);
  t->set_allocated_bytes(300);
  t->set_live_bytes(100);
  t->set_live_allocations(1);
  t->set_peak_live_bytes(300);
  r.set_dropped_events(5);
  AddFrame(&r, "f", "/src/\xff.c", 3, "/bin/a\"b", false);
  AddSite(&r, 100, 1, 300, 2)->add_frames(0);
  return r;
}

report::Report ScaleReport(int sites) {
  constexpr int kShared = 1000, kDepth = 30;
  report::Report r;
  r.set_format_version(1);
  r.set_final(true);
  r.set_sampling_interval_bytes(1);
  r.mutable_process()->set_exe("/usr/bin/long_runner");
  r.mutable_process()->set_end(report::Process::EXITED);
  for (int i = 0; i < kShared; ++i) {
    const std::string name = "service::Layer" + std::to_string(i) + "::Handle(Request const&)";
    AddFrame(&r, name.c_str(), "/src/service/layer.cc", static_cast<uint32_t>(i + 1),
             "/usr/bin/long_runner", false);
  }
  uint64_t live = 0;
  for (int i = 0; i < sites; ++i) {
    const std::string leaf = "leaf_" + std::to_string(i) + "(int)";
    AddFrame(&r, leaf.c_str(), "/src/service/leaf.cc", static_cast<uint32_t>(i + 1),
             "/usr/bin/long_runner", false);
    const uint64_t bytes = 16 * (static_cast<uint64_t>(i) + 1);
    const uint64_t count = static_cast<uint64_t>(i % 7) + 1;
    report::Site* s = AddSite(&r, bytes, count, 2 * bytes, 2 * count);
    s->set_peak_live_bytes(bytes);
    s->set_temporary_allocations(count / 2);
    s->add_frames(static_cast<uint32_t>(r.frames_size() - 1));
    for (int k = 1; k < kDepth; ++k)
      s->add_frames(static_cast<uint32_t>((i * 31 + k * 97) % kShared));
    live += bytes;
  }
  r.mutable_totals()->set_live_bytes(live);
  return r;
}

}  // namespace leakscope::viewer::testing
