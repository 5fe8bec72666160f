// Readable stacks in the text report: rows name the program's call site,
// not std::vector's; template arguments are shortened unless --full-names;
// lines fit the width asked for.
#include <gtest/gtest.h>

#include "sample_reports.h"
#include "text_report.h"
#include "text_width.h"

namespace leakscope::viewer {
namespace {

// ServerReport with the big site allocating through std::vector::push_back
// (inlined, as g++ -O2 leaves it) into a class template's method.
report::Report TemplateReport() {
  report::Report r = testing::ServerReport();
  report::Frame* push = r.mutable_frames(0);
  push->set_function("std::vector<int, std::allocator<int> >::push_back(int const&)");
  push->set_file("/usr/include/c++/12/bits/stl_vector.h");
  push->set_line(1287);
  r.mutable_frames(1)->set_function(
      "Handler<std::map<int, std::vector<int, std::allocator<int> >, std::less<int>, "
      "std::allocator<std::pair<int const, std::vector<int, std::allocator<int> > > > > "
      ">::Run(std::vector<int, std::allocator<int> > const&)");
  return r;
}

TEST(ReadableStacks, RowsNameTheCallSiteWithTemplateArgumentsShortened) {
  const std::string text = RenderTextReport(TemplateReport(), TextOptions{});
  const std::string sites = text.substr(text.find("Surviving"));
  EXPECT_EQ(
      sites,
      "Surviving allocations by call site (2 of 2 sites):\n"
      "\n"
      "#1  0e080282  1.5 MiB live (1,572,864 bytes) in 1,234 allocations; 2.9 MiB allocated "
      "here in 1,400 calls\n"
      "    std::vector<...>::push_back(int const&)  /usr/include/c++/12/bits/stl_vector.h:1287"
      "  (server)  [inlined]\n"
      "    Handler<...>::Run(std::vector<...> const&)  /src/handler.cc:7  (server)\n"
      "    ??  (libc.so.6)\n"
      "\n"
      "#2  46b77f52  1000 B live (1,000 bytes) in 10 allocations; 1000 B allocated here in 10 "
      "calls\n"
      "    leak_hundreds  /src/leaky.c:12  (server)\n"
      "\n"
      "Most allocations (3 of 3 sites):\n"
      "  #1  0e080282  1,400 calls, 2.9 MiB  Handler<...>::Run(std::vector<...> const&)  "
      "/src/handler.cc:7  (server)\n"
      "  #2  46b77f52  10 calls, 1000 B  leak_hundreds  /src/leaky.c:12  (server)\n"
      "  #3  0bb18467  4 calls, 4.0 KiB  Handler<...>::Run(std::vector<...> const&)  "
      "/src/handler.cc:7  (server)\n");
}

TEST(ReadableStacks, FullNamesShowsTemplateArgumentsWhole) {
  TextOptions options;
  options.full_names = true;
  const std::string text = RenderTextReport(TemplateReport(), options);
  EXPECT_NE(text.find("\n    std::vector<int, std::allocator<int> >::push_back(int const&)  "
                      "/usr/include/c++/12/bits/stl_vector.h:1287  (server)  [inlined]\n"
                      "    Handler<std::map<int, std::vector<int, std::allocator<int> >, "
                      "std::less<int>, std::allocator<std::pair<int const, std::vector<int, "
                      "std::allocator<int> > > > > >::Run(std::vector<int, std::allocator<int> > "
                      "const&)  /src/handler.cc:7  (server)\n"),
            std::string::npos)
      << text;
}

TEST(ReadableStacks, LinesFitTheWidth) {
  TextOptions options;
  options.width = 60;
  const std::string text = RenderTextReport(TemplateReport(), options);
  size_t start = 0;
  for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
    EXPECT_LE(VisibleWidth(text.substr(start, end - start)), 60u)
        << text.substr(start, end - start);
  const std::string sites = text.substr(text.find("Surviving"));
  // The frame gives up its directories and module first, then its
  // parameters, then the middle of its name; a one-line row its place before
  // its name; any other line is cut.
  EXPECT_EQ(sites,
            "Surviving allocations by call site (2 of 2 sites):\n"
            "\n"
            "#1  0e080282  1.5 MiB live (1,572,864 bytes) in 1,234 all...\n"
            "    std::ve...::push_back(...)  stl_vector.h:1287  [inlined]\n"
            "    Handler<...>::Run(std::vector<...> const&)  handler.cc:7\n"
            "    ??  (libc.so.6)\n"
            "\n"
            "#2  46b77f52  1000 B live (1,000 bytes) in 10 allocations...\n"
            "    leak_hundreds  /src/leaky.c:12  (server)\n"
            "\n"
            "Most allocations (3 of 3 sites):\n"
            "  #1  0e080282  1,400 calls, 2.9 MiB  Handler<...>::Run(...)\n"
            "  #2  46b77f52  10 calls, 1000 B  leak_hundreds  leaky.c:12\n"
            "  #3  0bb18467  4 calls, 4.0 KiB  Handler<...>::Run(...)\n");
}

TEST(ReadableStacks, FitLineCountsColumnsNotBytesOrColours) {
  EXPECT_EQ(VisibleWidth("\033[1m#1\033[0m  caf\xc3\xa9"), 8u);
  EXPECT_EQ(FitLine("abcdefghij", 10), "abcdefghij");
  EXPECT_EQ(FitLine("abcdefghijk", 10), "abcdefg...");
  EXPECT_EQ(FitLine("\033[1mabcdefghijk\033[0m", 10), "\033[1mabcdefg...\033[0m");
  EXPECT_EQ(FitLine("caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9", 10), "caf\xc3\xa9 ca...");
  EXPECT_EQ(FitLine("abcdefghijk", 0), "abcdefghijk");
  EXPECT_EQ(FitLines("abcdefghijk\nab\n", 10), "abcdefg...\nab\n");
}

}  // namespace
}  // namespace leakscope::viewer
