// The built binary's check, diff and export commands: exit statuses, what
// they print, what they write.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "cli_runner.h"
#include "pprof/profile.pb.h"
#include "report_file.h"
#include "sample_reports.h"

namespace leakscope::viewer {
namespace {

using testing::CliResult;
using testing::ReadFile;
using testing::RunLeakscope;
using testing::TempDir;
using testing::WriteFile;

class CommandsTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const report::Report& r) {
    const std::string path = dir_.path() + "/" + name;
    std::string error;
    EXPECT_TRUE(report::WriteReportFile(path, r, &error)) << error;
    return path;
  }
  TempDir dir_;
};

// ServerReport leaks 1,573,864 B: 1,572,864 at Cache::Insert, 1,000 at leak_hundreds.
TEST_F(CommandsTest, CheckExitsZeroWithinBudgetOneOverItTwoOnBadInput) {
  const std::string path = Write("server.lsr", testing::ServerReport());
  CliResult r = RunLeakscope({"check", path, "--max-leaked", "1573864"});
  EXPECT_EQ(r.exit_status, 0) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("leakscope check: OK: 1.5 MiB (1,573,864 bytes) leaked in 2 sites", 0), 0u);
  r = RunLeakscope({"check", path, "--max-leaked=1536K"});  // 1,572,864
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.out.find("at Cache::Insert(std::string const&)"), std::string::npos);
  EXPECT_NE(r.out.find("at leak_hundreds"), std::string::npos);
  EXPECT_EQ(r.err, "");
  r = RunLeakscope({"check", path, "--max-leaked", "lots"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_EQ(r.err,
            "leakscope check: option '--max-leaked' needs a size in bytes (e.g. 4096, 512K, 64M, "
            "2G), got 'lots'\n");
  r = RunLeakscope({"check", path, "--max-growth", "0"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_EQ(r.err, "leakscope check: option '--max-growth' needs '--baseline OLD_REPORT'\n");
  r = RunLeakscope({"check", path, "--baseline", dir_.path()});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_EQ(r.err, "leakscope check: baseline " + dir_.path() + ": not a regular file\n");
  WriteFile(dir_.path() + "/bad.supp", "leak:x\nfun:y\n");
  r = RunLeakscope({"check", path, "--suppressions", dir_.path() + "/bad.supp"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_EQ(r.err, "leakscope check: " + dir_.path() +
                       "/bad.supp:2: expected 'leak:<pattern>', got 'fun:y'\n");
}

TEST_F(CommandsTest, CheckAgainstBaselineFailsOnlyOnGrowth) {
  report::Report grown = testing::ServerReport();
  grown.mutable_sites(0)->set_live_bytes(1500);  // leak_hundreds: +500
  const std::string base = Write("base.lsr", testing::ServerReport());
  const std::string now = Write("now.lsr", grown);
  EXPECT_EQ(RunLeakscope({"check", now, "--baseline", base, "--max-growth", "500"}).exit_status, 0);
  const CliResult r = RunLeakscope({"check", now, "--baseline", base});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.out.find("    +500 B (500 bytes) at leak_hundreds"), std::string::npos) << r.out;
}

TEST_F(CommandsTest, DiffTextAndJson) {
  report::Report grown = testing::ServerReport();
  grown.mutable_sites(0)->set_live_bytes(1500);
  grown.mutable_sites(0)->set_live_allocations(15);
  const std::string base = Write("base.lsr", testing::ServerReport());
  const std::string now = Write("now.lsr", grown);
  CliResult r = RunLeakscope({"diff", base, now});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(r.out,
            "Live bytes  +500 B (+500 bytes) in the program's sites (1 site changed)\n"
            "\n"
            "#1  +500 B (+500 bytes), +5 live allocations (1000 B -> 1.5 KiB)\n"
            "    leak_hundreds  /src/leaky.c:12  (server)\n"
            "\n");
  r = RunLeakscope({"diff", base, now, "--json"});
  EXPECT_EQ(r.exit_status, 0);
  EXPECT_NE(r.out.find("  \"live_bytes_change\": 500,\n  \"sites\": [\n    {\n"
                       "      \"change\": \"changed\",\n      \"live_bytes_change\": 500,\n"
                       "      \"live_allocations_change\": 5,\n"),
            std::string::npos)
      << r.out;
  r = RunLeakscope({"diff", base});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_EQ(r.err, "leakscope diff: needs two report files, BASE and NEW (got 1)\n");
}

std::string Gunzip(const std::string& gz) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

TEST_F(CommandsTest, ExportPprofIsAGzippedProfileWithFourSampleTypes) {
  const std::string path = Write("server.lsr", testing::ServerReport());
  const std::string out = dir_.path() + "/server.pb.gz";
  ASSERT_EQ(RunLeakscope({"export", path, "--format", "pprof", "-o", out}).exit_status, 0);
  perftools::profiles::Profile p;
  ASSERT_TRUE(p.ParseFromString(Gunzip(ReadFile(out))));
  const auto str = [&](int64_t i) { return p.string_table(static_cast<int>(i)); };
  ASSERT_EQ(p.sample_type_size(), 4);
  EXPECT_EQ(str(p.sample_type(0).type()) + "/" + str(p.sample_type(0).unit()), "inuse_space/bytes");
  EXPECT_EQ(str(p.sample_type(1).type()) + "/" + str(p.sample_type(1).unit()),
            "inuse_objects/count");
  EXPECT_EQ(str(p.sample_type(2).type()) + "/" + str(p.sample_type(2).unit()), "alloc_space/bytes");
  EXPECT_EQ(str(p.sample_type(3).type()) + "/" + str(p.sample_type(3).unit()),
            "alloc_objects/count");
  EXPECT_EQ(str(p.default_sample_type()), "inuse_space");
  ASSERT_EQ(p.sample_size(), 3);
  // Site order kept: leak_hundreds, Cache::Insert (inlined into Handler::Run), Handler::Run.
  EXPECT_EQ(p.sample(0).value(0), 1000);
  EXPECT_EQ(p.sample(1).value(0), 1572864);
  EXPECT_EQ(p.sample(1).value(1), 1234);
  EXPECT_EQ(p.sample(1).value(2), 3000000);
  EXPECT_EQ(p.sample(1).value(3), 1400);
  // Cache::Insert is inlined into Handler::Run: one location, two lines.
  ASSERT_EQ(p.sample(1).location_id_size(), 2);
  const auto& loc = p.location(static_cast<int>(p.sample(1).location_id(0)) - 1);
  ASSERT_EQ(loc.line_size(), 2);
  EXPECT_EQ(loc.line(0).line(), 42);
  EXPECT_EQ(loc.line(1).line(), 7);
}

TEST_F(CommandsTest, ExportCollapsedAndJson) {
  const std::string path = Write("server.lsr", testing::ServerReport());
  CliResult r = RunLeakscope({"export", path, "--format", "collapsed", "-o", "-"});
  EXPECT_EQ(r.exit_status, 0);
  // Outermost first; the frame without a name is "??"; sorted by stack text.
  EXPECT_EQ(r.out,
            "??;Handler::Run();Cache::Insert(std::string const&) 1572864\n"
            "leak_hundreds 1000\n");
  const std::string json = dir_.path() + "/r.json";
  ASSERT_EQ(RunLeakscope({"export", path, "--format", "json", "-o", json}).exit_status, 0);
  EXPECT_EQ(ReadFile(json), RunLeakscope({"report", path, "--json"}).out);
  r = RunLeakscope({"export", path, "--format", "svg", "-o", "-"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_EQ(r.err,
            "leakscope export: option '--format' needs pprof, collapsed or json, got 'svg'\n");
  r = RunLeakscope({"export", path, "--format", "pprof"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_EQ(r.err, "leakscope export: no output file given (-o FILE, or -o - for stdout)\n");
}

// A checksum-valid report whose contents point nowhere: out-of-range frame
// and site indexes, a suspect with NaN growth, an empty stack. Every command
// runs to completion on it (under ASan/UBSan in the sanitizer build).
TEST_F(CommandsTest, ReportPointingNowhereNeverCrashesAnyCommand) {
  report::Report r = testing::ServerReport();
  r.mutable_sites(0)->add_frames(4000000000u);
  report::Site* empty = r.add_sites();
  empty->set_live_bytes(8);
  empty->set_live_allocations(1);
  report::GrowthSuspect* g = r.add_growth_suspects();
  g->set_site(77);
  g = r.add_growth_suspects();
  g->set_site(1);
  g->set_bytes_per_hour(std::nan(""));
  g->set_confidence(-3);
  r.add_timeline()->set_time_ns(5);
  const std::string path = Write("hostile.lsr", r);
  const std::string out = dir_.path() + "/out";
  const std::vector<std::vector<std::string>> commands = {
      {"report", path, "--show-internals", "--by", "function"},
      {"report", path, "--json", "--by", "file"},
      {"diff", path, path, "--json"},
      {"export", path, "--format", "pprof", "-o", out},
      {"export", path, "--format", "collapsed", "-o", out},
      {"html", path, "-o", out}};
  for (const auto& args : commands) {
    const CliResult c = RunLeakscope(args);
    EXPECT_EQ(c.exit_status, 0) << args[0] << ": " << c.err;
    EXPECT_EQ(c.err, "") << args[0];
  }
  // 1,573,864 + 8 bytes leaked.
  EXPECT_EQ(RunLeakscope({"check", path, "--max-leaked", "1573871"}).exit_status, 1);
  EXPECT_EQ(RunLeakscope({"check", path, "--max-leaked", "1573872"}).exit_status, 0);
}

TEST_F(CommandsTest, NewCommandsTurnAwayWhatIsNotAReport) {
  const std::string junk = dir_.path() + "/junk.lsr";
  WriteFile(junk, "LSKR but not really a report file");
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"check", junk},
                                             {"diff", junk, junk},
                                             {"export", junk, "--format", "json", "-o", "-"},
                                             {"html", junk, "-o", dir_.path() + "/x.html"}}) {
    const CliResult c = RunLeakscope(args);
    EXPECT_EQ(c.exit_status, 2) << args[0];
    EXPECT_EQ(std::count(c.err.begin(), c.err.end(), '\n'), 1) << c.err;
    EXPECT_EQ(c.err.rfind("leakscope " + args[0] + ": " + junk + ": ", 0), 0u) << c.err;
    EXPECT_EQ(c.out, "");
  }
}

TEST_F(CommandsTest, NotUtf8StringsAreReadAndShownSafely) {
  // TinyReport has a path with an invalid UTF-8 byte: carried as bytes.
  const std::string path = Write("tiny.lsr", testing::TinyReport());
  const CliResult r = RunLeakscope({"report", path});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(r.err, "");
}

TEST_F(CommandsTest, UndecodableReportIsOneLine) {
  // A payload whose checksum is right but which is not a Report: field 1
  // with wire type 7, which does not exist.
  const std::string payload = "\x0f";
  std::string file = "LSKR";
  const auto put = [&file](uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) file.push_back(static_cast<char>(v >> (8 * i)));
  };
  put(report::kReportFormatVersion, 4);
  put(payload.size(), 8);
  put(crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(payload.data()), 1), 4);
  put(0, 4);
  const std::string path = dir_.path() + "/undecodable.lsr";
  std::ofstream(path, std::ios::binary) << file + payload;
  const CliResult r = RunLeakscope({"report", path});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_EQ(r.err, "leakscope report: " + path + ": corrupt (cannot decode report)\n");
}

}  // namespace
}  // namespace leakscope::viewer
