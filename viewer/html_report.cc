#include "html_report.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "cli_args.h"
#include "exit_codes.h"
#include "filter_args.h"
#include "html_assets.h"
#include "report_facts.h"
#include "report_loading.h"
#include "text_style.h"
#include "usage.h"

namespace leakscope::viewer {
namespace {

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

const char kBody[] = R"(<h1>leakscope: %TITLE%</h1>
<table class="summary" id="summary"></table>
<h2>Definitely lost (nothing points to them; indirectly lost: only lost blocks do)</h2>
<div id="lost"></div>
<h2>Surviving bytes by stack</h2>
<div id="flame-controls"><input id="flame-search" type="search" placeholder="search functions">
<button id="flame-reset">reset zoom</button> click a frame to zoom into it</div>
<div id="flame"></div>
<div id="flame-details"></div>
<h2>Timeline</h2>
<div id="timeline"></div>
<h2>Growth suspects</h2>
<div id="growth"></div>
<h2>Surviving allocations by call site (leaks)</h2>
<div id="leaks"></div>
<h2>Held until shutdown (live when exit began, freed only during teardown)</h2>
<div id="shutdown"></div>
<h2>Peak memory consumers</h2>
<div id="peak"></div>
<h2>Most allocations</h2>
<div id="allocations"></div>
<h2>Temporary allocations</h2>
<div id="temporary"></div>
<h2>Runtime internals (not counted as leaks)</h2>
<div id="internals"></div>
)";

struct HtmlArgs {
  std::string file, output;
  SiteFilter filter;
};

ParseOutcome ParseHtmlArgs(const std::vector<std::string>& args, HtmlArgs* out,
                           std::string* error) {
  bool have_file = false;
  for (size_t i = 0; i < args.size() && error->empty();) {
    const std::string& arg = args[i];
    if (IsHelpFlag(arg)) return ParseOutcome::kHelp;
    if (TakeOptionValue(args, &i, "-o", &out->output, error) ||
        TakeOptionValue(args, &i, "--output", &out->output, error) ||
        TakeFilterOption(args, &i, &out->filter, error)) {
    } else if (arg.size() > 1 && arg[0] == '-') {
      *error = "unknown option '" + arg + "' (see 'leakscope html --help')";
    } else {
      TakeReportFile(arg, &i, &have_file, &out->file, error);
    }
  }
  if (error->empty() && !have_file) *error = "no report file given";
  if (error->empty() && out->output.empty()) *error = "no output file given (-o FILE)";
  return error->empty() ? ParseOutcome::kOk : ParseOutcome::kError;
}

}  // namespace

std::string RenderHtmlReport(const report::Report& report, const SiteFilter& filter) {
  std::string body = kBody;
  const std::string title = Escape(Printable(Basename(report.process().exe())) + " (pid " +
                                   std::to_string(report.process().pid()) + ")");
  body.replace(body.find("%TITLE%"), 7, title);
  std::string page = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" +
                     title + "</title>\n";
  page +=
      std::string("<style>\n") + kFlameGraphCss + "\n" + kPageCss + "</style>\n</head>\n<body>\n";
  page += body;
  page += std::string("<script>\n") + kD3Js + "\n</script>\n";
  page += std::string("<script>\n") + kFlameGraphJs + "\n</script>\n";
  page += "<script>\nwindow.LEAKSCOPE = " + HtmlPageData(report, filter) + ";\n</script>\n";
  page += std::string("<script>\n") + kPageJs + "\n</script>\n</body></html>\n";
  return page;
}

int HtmlCommand(const std::vector<std::string>& args) {
  HtmlArgs parsed;
  report::Report report;
  const int early =
      ParseArgsAndLoadReport("html", kHtmlUsage, args, ParseHtmlArgs, &parsed, &report);
  if (early >= 0) return early;
  std::string error;
  const std::string page = RenderHtmlReport(report, parsed.filter);
  std::FILE* f = std::fopen(parsed.output.c_str(), "wb");
  const bool ok = f != nullptr && std::fwrite(page.data(), 1, page.size(), f) == page.size();
  if (f == nullptr || std::fclose(f) != 0 || !ok) {
    std::fprintf(stderr, "leakscope html: %s: cannot write: %s\n", parsed.output.c_str(),
                 std::strerror(errno));
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace leakscope::viewer
