#include "json_report.h"

#include "json_writer.h"
#include "report_facts.h"

namespace leakscope::viewer {
namespace {

void WriteProcess(const report::Process& p, JsonWriter* w) {
  w->Key("process");
  w->BeginObject();
  w->Field("pid", p.pid());
  w->Field("ppid", p.ppid());
  w->Field("exe", p.exe());
  w->Key("argv");
  w->BeginArray();
  for (const std::string& arg : p.argv()) w->String(arg);
  w->EndArray();
  if (p.end() == report::Process::EXITED) w->Field("exit_status", p.exit_status());
  if (p.end() == report::Process::SIGNALED) w->Field("signal", p.signal());
  w->Field("end", EndWord(p.end()));
  w->Field("forked", p.forked());
  w->EndObject();
}

void WriteTotals(const report::Totals& t, JsonWriter* w) {
  w->Key("totals");
  w->BeginObject();
  w->Field("allocations", t.allocations());
  w->Field("frees", t.frees());
  w->Field("allocated_bytes", t.allocated_bytes());
  w->Field("live_bytes", t.live_bytes());
  w->Field("live_allocations", t.live_allocations());
  w->Field("peak_live_bytes", t.peak_live_bytes());
  w->EndObject();
}

void WriteFrame(const report::Frame& f, JsonWriter* w) {
  w->BeginObject();
  w->Field("function", f.function());
  w->Field("file", f.file());
  w->Field("line", f.line());
  w->Field("module", f.module());
  w->Field("inlined", f.inlined());
  w->EndObject();
}

void WriteSite(const report::Report& report, const report::Site& s, JsonWriter* w) {
  w->BeginObject();
  w->Field("live_bytes", s.live_bytes());
  w->Field("live_allocations", s.live_allocations());
  w->Field("allocated_bytes", s.allocated_bytes());
  w->Field("allocations", s.allocations());
  if (SamplingInterval(report) > 1) {
    w->Field("live_samples", s.live_samples());
    w->Field("live_bytes_ci_low", s.live_bytes_ci_low());
    w->Field("live_bytes_ci_high", s.live_bytes_ci_high());
  }
  w->Key("frames");
  w->BeginArray();
  for (uint32_t index : s.frames()) WriteFrame(FrameAt(report, index), w);
  w->EndArray();
  w->EndObject();
}

}  // namespace

std::string RenderJsonReport(const report::Report& report, size_t top) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  WriteProcess(report.process(), &w);
  w.Field("sampling_interval_bytes", SamplingInterval(report));
  WriteTotals(report.totals(), &w);
  w.Field("dropped_events", report.dropped_events());
  w.Key("sites");
  w.BeginArray();
  for (int i : SitesByLiveBytes(report, top)) WriteSite(report, report.sites(i), &w);
  w.EndArray();
  w.EndObject();
  return out;
}

}  // namespace leakscope::viewer
