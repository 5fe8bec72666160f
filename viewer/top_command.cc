#include "top_command.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "exit_codes.h"
#include "terminal_session.h"
#include "text_style.h"
#include "text_width.h"
#include "usage.h"

namespace leakscope::viewer {
namespace {

constexpr int kScrapeTimeoutMs = 2000;

void PrintError(const std::string& message) {
  std::fprintf(stderr, "leakscope top: %s\n", message.c_str());
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// One scrape into `top`; what to show instead of the sites if it failed or
// the process is not (or no longer) there.
struct Scrape {
  bool ok = false;
  std::string error;
  size_t processes = 0;
};

Scrape Refresh(const TopArgs& args, LiveTop* top) {
  Scrape s;
  std::string body;
  if (!FetchMetrics(args.host, args.port, kScrapeTimeoutMs, &body, &s.error)) return s;
  const auto processes = ParseLiveMetrics(body);
  s.processes = processes.size();
  const LiveProcess* chosen = nullptr;
  for (const auto& [pid, p] : processes)
    if (args.pid ? pid == args.pid : !chosen || p.live_bytes > chosen->live_bytes) chosen = &p;
  s.ok = true;
  if (chosen)
    top->Add(*chosen, Now());
  else
    s.error = args.pid ? "pid " + std::to_string(args.pid) + " is not traced by this collector"
                       : "no traced process is connected";
  return s;
}

TopFrame Frame(const TopArgs& args, const Scrape& s) {
  TopFrame f;
  f.source = args.host + ":" + args.port;
  f.processes = s.processes;
  f.message = s.error;
  return f;
}

int Once(const TopArgs& args) {
  LiveTop top;
  const Scrape s = Refresh(args, &top);
  if (!s.ok) {
    PrintError(s.error);
    return kExitFailure;
  }
  TopFrame f = Frame(args, s);
  f.width = OutputWidth(STDOUT_FILENO);
  for (const std::string& line : RenderTop(top, args.sort, f)) std::printf("%s\n", line.c_str());
  return kExitOk;
}

int Live(TopArgs args) {
  LiveTop top;
  Scrape s = Refresh(args, &top);
  if (!s.ok) {  // a wrong address: say so before taking the terminal
    PrintError(s.error);
    return kExitFailure;
  }
  TerminalSession term(STDIN_FILENO, STDOUT_FILENO);
  std::string error;
  if (!term.Enter(&error)) {
    PrintError(error);
    return kExitUsage;
  }
  const bool color = ShouldUseColor(STDOUT_FILENO);
  auto next = std::chrono::steady_clock::now() + std::chrono::milliseconds(args.interval_ms);
  for (bool quit = false, redraw = true; !quit;) {
    if (std::chrono::steady_clock::now() >= next) {
      s = Refresh(args, &top);
      next += std::chrono::milliseconds(args.interval_ms);
      redraw = true;
    }
    if (redraw) {
      TopFrame f = Frame(args, s);
      f.color = color;
      term.Size(&f.width, &f.height);
      term.Draw(FrameText(RenderTop(top, args.sort, f)));
      redraw = false;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        next - std::chrono::steady_clock::now());
    const char key =
        term.Wait(left.count() > 0 ? static_cast<int>(left.count()) : 0, &quit, &redraw);
    if (key == 'q' || key == 'Q') quit = true;
    if (SortForKey(key, &args.sort)) redraw = true;
  }
  return kExitOk;  // ~TerminalSession puts the terminal back
}

bool TakeSort(const std::vector<std::string>& args, size_t* i, TopSort* sort, std::string* error) {
  std::string value;
  if (!TakeOptionValue(args, i, "--sort", &value, error)) return false;
  if (value == "bytes" || value == "growth" || value == "count") {
    SortForKey(value[0], sort);
  } else if (error->empty()) {
    *error = "--sort takes bytes, growth or count, not '" + value + "'";
  }
  return true;
}

}  // namespace

ParseOutcome ParseTopArgs(const std::vector<std::string>& args, TopArgs* out, std::string* error) {
  bool have_address = false;
  for (size_t i = 0; i < args.size() && error->empty();) {
    const std::string& arg = args[i];
    uint64_t number = 0;
    if (IsHelpFlag(arg)) return ParseOutcome::kHelp;
    if (TakeNumberOption(args, &i, "--pid", 1, &number, error)) {
      if (number > UINT32_MAX) *error = "--pid " + std::to_string(number) + ": not a pid";
      out->pid = static_cast<uint32_t>(number);
    } else if (TakeNumberOption(args, &i, "--interval", 1, &number, error)) {
      if (number > 3600) *error = "--interval: at most 3600 seconds";
      out->interval_ms = number * 1000;
    } else if (TakeSort(args, &i, &out->sort, error)) {
    } else if (arg == "--once") {
      out->once = true;
      ++i;
    } else if (arg.size() > 1 && arg[0] == '-') {
      *error = "unknown option '" + arg + "' (see 'leakscope top --help')";
    } else if (have_address) {
      *error = "one collector address only ('" + arg + "' is a second)";
    } else if (!ParseMetricsAddress(arg, &out->host, &out->port)) {
      *error = "'" + arg + "' is not HOST:PORT or http://HOST:PORT/metrics";
    } else {
      have_address = true;
      ++i;
    }
  }
  if (error->empty() && !have_address)
    *error = "which collector? give its metrics address (leakscoped --metrics, run --metrics)";
  return error->empty() ? ParseOutcome::kOk : ParseOutcome::kError;
}

int TopCommand(const std::vector<std::string>& args) {
  TopArgs parsed;
  std::string error;
  switch (ParseTopArgs(args, &parsed, &error)) {
    case ParseOutcome::kHelp:
      std::fputs(kTopUsage, stdout);
      return kExitOk;
    case ParseOutcome::kError:
      PrintError(error);
      return kExitUsage;
    case ParseOutcome::kOk:
      break;
  }
  return parsed.once ? Once(parsed) : Live(parsed);
}

}  // namespace leakscope::viewer
