// LeakSanitizer-compatible patterns and suppression files, and the built-in
// runtime-internals rules.
#include "suppressions.h"

#include <gtest/gtest.h>

#include "template_match.h"

namespace leakscope::viewer {
namespace {

TEST(TemplateMatch, SubstringWildcardsAndAnchorsAsInLsan) {
  EXPECT_TRUE(TemplateMatch("Render", "cache::Render(int)"));  // anywhere
  EXPECT_TRUE(TemplateMatch("cache*Render", "cache::Cache::Render(int)"));
  EXPECT_FALSE(TemplateMatch("Render*cache", "cache::Render(int)"));
  EXPECT_TRUE(TemplateMatch("^cache::", "cache::Render(int)"));
  EXPECT_FALSE(TemplateMatch("^Render", "cache::Render(int)"));
  EXPECT_TRUE(TemplateMatch("(int)$", "cache::Render(int)"));
  EXPECT_FALSE(TemplateMatch("Render$", "cache::Render(int)"));
  EXPECT_TRUE(TemplateMatch("^cache*int)$", "cache::Render(int)"));
  EXPECT_TRUE(TemplateMatch("*", "x"));
  EXPECT_FALSE(TemplateMatch("*", ""));  // an unknown name matches nothing
  EXPECT_TRUE(TemplateMatch("a*a$", "aXa"));
  EXPECT_FALSE(TemplateMatch("ab*ba$", "aba"));  // the parts may not overlap
}

report::Report OneSite(const char* function, const char* file, const char* module) {
  report::Report r;
  report::Frame* f = r.add_frames();
  f->set_function(function);
  f->set_file(file);
  f->set_module(module);
  r.add_frames()->set_function("main");
  report::Site* s = r.add_sites();
  s->add_frames(0);
  s->add_frames(1);
  return r;
}

TEST(Suppressions, MatchFunctionFileOrModuleOfAnyFrame) {
  Suppressions s;
  std::string error;
  ASSERT_TRUE(
      s.Parse("# comment\n\n  leak:Render  \nleak:^/vendor/\nleak:libfoo.so\n", "t.supp", &error))
      << error;
  const auto matched = [&](const report::Report& r) {
    const std::string* p = s.Match(r, r.sites(0));
    return p == nullptr ? std::string("-") : *p;
  };
  EXPECT_EQ(matched(OneSite("Cache::Render(int)", "/src/c.cc", "/bin/app")), "Render");
  EXPECT_EQ(matched(OneSite("f", "/vendor/x.cc", "/bin/app")), "^/vendor/");
  EXPECT_EQ(matched(OneSite("f", "/src/x.cc", "/usr/lib/libfoo.so.1")), "libfoo.so");
  EXPECT_EQ(matched(OneSite("f", "/src/x.cc", "/bin/app")), "-");
  const std::vector<bool> frames = s.MatchFrames(OneSite("Render", "", ""));
  EXPECT_EQ(frames, (std::vector<bool>{true, false}));
}

TEST(Suppressions, BadLinesAreOneLineErrorsWithTheirNumber) {
  Suppressions s;
  std::string error;
  EXPECT_FALSE(s.Parse("leak:ok\nrace:foo\n", "rules.supp", &error));
  EXPECT_EQ(error, "rules.supp:2: expected 'leak:<pattern>', got 'race:foo'");
  EXPECT_FALSE(s.Parse("leak:\n", "rules.supp", &error));
  EXPECT_EQ(error, "rules.supp:1: empty pattern");
  EXPECT_FALSE(s.Load("/nonexistent/x.supp", &error));
  EXPECT_EQ(error, "/nonexistent/x.supp: cannot read suppressions file");
}

// The stacks as the collector reports them (from a real run of
// cache_never_evicts and a threaded example).
TEST(DefaultInternals, RecogniseTheRuntimesOneTimeAllocations) {
  const Suppressions& d = DefaultInternals();
  for (const char* function :
       {"_dl_init", "_IO_file_doallocate", "allocate_dtv", "_dl_allocate_tls", "_dl_open",
        "tzset_internal", "__tzfile_read", "__tzstring", "__tzstring_len"}) {
    const report::Report r = OneSite(function, "", "/lib/x86_64-linux-gnu/libc.so.6");
    EXPECT_NE(d.Match(r, r.sites(0)), nullptr) << function;
  }
  // The program's own functions with similar names are not the runtime's.
  for (const char* function : {"Cache::Render(int)", "plugin_dl_open", "my_tzset_internal_copy",
                               "load_tzfile_read"}) {
    const report::Report program = OneSite(function, "/src/c.cc", "/bin/app");
    EXPECT_EQ(d.Match(program, program.sites(0)), nullptr) << function;
  }
}

}  // namespace
}  // namespace leakscope::viewer
