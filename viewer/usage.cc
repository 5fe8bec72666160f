#include "usage.h"

#ifndef LEAKSCOPE_VERSION
#error "LEAKSCOPE_VERSION must be defined by the build"
#endif

namespace leakscope::viewer {

const char kMainUsage[] =
    "usage: leakscope <command> [options]\n"
    "\n"
    "Find memory leaks in a running program: every allocation is recorded with its\n"
    "stack, and what is still allocated when the program ends is reported by call site.\n"
    "\n"
    "commands:\n"
    "  run [options] -- CMD [ARGS...]   run CMD under leakscope, write its report (.lsr)\n"
    "  report FILE [--top N] [--json]  show a report\n"
    "\n"
    "  leakscope <command> --help      options of a command\n"
    "  leakscope --version             version\n";

const char kRunUsage[] =
    "usage: leakscope run [options] -- CMD [ARGS...]\n"
    "\n"
    "Runs CMD with leakscope's allocation tracer preloaded, writes a report per traced\n"
    "process to DIR/<exe>.<pid>.lsr and prints the call sites holding the most memory at\n"
    "the end (to stderr, so CMD's own output stays clean). Exits with CMD's exit status,\n"
    "or 128+N if CMD was killed by signal N. SIGINT and SIGTERM are passed on to CMD.\n"
    "\n"
    "options:\n"
    "  -o, --output DIR          directory for reports (default: current directory)\n"
    "  --sample-interval BYTES   record one allocation per BYTES allocated on average\n"
    "                            (default: every allocation)\n"
    "  --top N                   call sites to print (default: 10)\n"
    "  --lossy                   drop events when a thread's buffer is full instead of\n"
    "                            making the thread wait (faster, figures may be incomplete)\n"
    "  --no-follow               do not trace programs that CMD executes\n"
    "\n"
    "environment:\n"
    "  LEAKSCOPE_PRELOAD         path of libleakscope.so, if not installed next to leakscope\n"
    "  NO_COLOR                  no colour even on a terminal\n";

const char kReportUsage[] =
    "usage: leakscope report FILE [--top N] [--json]\n"
    "\n"
    "Shows a report written by 'leakscope run': how the process ended, how much memory\n"
    "it held, and the call sites of the allocations still live at the end.\n"
    "\n"
    "options:\n"
    "  --top N    call sites to show (default: 20 in text, all in JSON)\n"
    "  --json     JSON instead of text; sites sorted by live bytes\n";

const char kVersionText[] = "leakscope " LEAKSCOPE_VERSION "\n";

}  // namespace leakscope::viewer
