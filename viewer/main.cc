// leakscope: dispatches to the subcommands.
#include <google/protobuf/stubs/logging.h>

#include <cstdio>
#include <string>
#include <vector>

#include "check_command.h"
#include "diff_command.h"
#include "exit_codes.h"
#include "export_command.h"
#include "html_report.h"
#include "report_command.h"
#include "run_command.h"
#include "snapshot_command.h"
#include "top_command.h"
#include "usage.h"

using namespace leakscope::viewer;

int main(int argc, char** argv) {
  // libprotobuf logs its own line (e.g. invalid UTF-8 while parsing) before
  // ReadReportFile gives its one-line reason: ours is the only one shown.
  google::protobuf::SetLogHandler(nullptr);
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fputs(kMainUsage, stderr);
    return kExitUsage;
  }
  const std::string& command = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(kMainUsage, stdout);
    return kExitOk;
  }
  if (command == "--version") {
    std::fputs(kVersionText, stdout);
    return kExitOk;
  }
  if (command == "run") return RunCommand(rest);
  if (command == "report") return ReportCommand(rest);
  if (command == "check") return CheckCommand(rest);
  if (command == "diff") return DiffCommand(rest);
  if (command == "export") return ExportCommand(rest);
  if (command == "html") return HtmlCommand(rest);
  if (command == "snapshot") return SnapshotCommand(rest);
  if (command == "top") return TopCommand(rest);
  std::fprintf(stderr, "leakscope: unknown command '%s' (see 'leakscope --help')\n",
               command.c_str());
  return kExitUsage;
}
