#include "usage.h"

#ifndef LEAKSCOPE_VERSION
#error "LEAKSCOPE_VERSION must be defined by the build"
#endif

namespace leakscope::viewer {

// Options that choose which sites count (filter_args.cc), in several commands' help.
#define LEAKSCOPE_FILTER_OPTIONS                                                            \
  "  --by stack|function|file|module\n"                                                     \
  "                       group sites by whole stack (default), or by the function,\n"      \
  "                       source file or module of the program's allocating call\n"         \
  "  --include REGEX      only sites with a frame whose function, file or module matches\n" \
  "  --exclude REGEX      leave out sites with such a frame\n"                              \
  "  --suppressions FILE  leave out sites matching LeakSanitizer-style 'leak:PATTERN'\n"    \
  "                       lines (function, file or module; '*' wildcard, '^' '$' anchors)\n"

// The budget options of `check` and `run --check`.
#define LEAKSCOPE_CHECK_OPTIONS                                                               \
  "  --max-leaked SIZE      fail if the program's sites hold more than SIZE in all\n"         \
  "                         (default 0 when no other limit and no baseline is given)\n"       \
  "  --max-site-leaked SIZE fail if any one site holds more than SIZE\n"                      \
  "  --baseline OLD_REPORT  compare with an older report of the same program...\n"            \
  "  --max-growth SIZE      ...and fail if the total or any site grew by more than SIZE\n"    \
  "                         since (default 0)\n"                                              \
  "  --include-shutdown     memory held until shutdown (live when exit began, freed only\n"   \
  "                         by teardown) counts as leaked: --max-leaked and\n"                \
  "                         --max-site-leaked limit leaked + held; with neither, any fails\n" \
  "  --require-complete     fail with exit 3 if the figures are incomplete (events\n"         \
  "                         dropped or lost in signal handlers, frees of blocks never\n"      \
  "                         seen allocated, a killed process's last events) or sampled;\n"    \
  "                         without it these are warning lines. Over budget is still 1\n"     \
  "  SIZE is bytes, or with a K, M, G or T suffix (binary: 64K = 65536).\n"                   \
  "  --full-names           template arguments in full in the site lines\n"                   \
  "  Runtime internals (see 'leakscope report') and suppressed sites never count.\n"

const char kMainUsage[] =
    "usage: leakscope <command> [options]\n"
    "\n"
    "Find memory leaks in a running program: every allocation is recorded with its\n"
    "stack, and what is still allocated when the program ends is reported by call site.\n"
    "\n"
    "commands:\n"
    "  run [options] -- CMD [ARGS...]   run CMD under leakscope, write its report (.lsr)\n"
    "  report FILE [--top N] [--json]  show a report\n"
    "  check FILE [limits]             CI gate: exit 1 if the report leaked over budget\n"
    "  diff BASE NEW [--json]          what changed per call site between two reports\n"
    "  export FILE --format F -o OUT   pprof, collapsed (flame graph) or json\n"
    "  html FILE -o report.html        a self-contained page with a flame graph and tables\n"
    "  snapshot PID                    ask leakscoped for a snapshot of a traced process now\n"
    "  top ADDR:PORT                   live view of a collector's processes (its /metrics)\n"
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
    "  -o, --output DIR          directory for reports (default: current directory;\n"
    "                            created, mode 0700, if it does not exist)\n"
    "  --sample-interval SIZE    record one allocation per SIZE allocated on average\n"
    "                            (bytes, or 64K, 512K, 2M: binary; default: every\n"
    "                            allocation)\n"
    "  --top N                   call sites to print (default: 10)\n"
    "  --lossy                   drop events when a thread's buffer is full instead of\n"
    "                            making the thread wait (faster, figures may be incomplete)\n"
    "  --no-follow               do not trace programs that CMD executes\n"
    "  --metrics ADDR:PORT       serve the collector's Prometheus metrics on\n"
    "                            http://ADDR:PORT/metrics while CMD runs (port 0: any free\n"
    "                            port, printed), for 'leakscope top ADDR:PORT'\n"
    "  --reachability            at exit, stop CMD and find which of its blocks it can still\n"
    "                            reach: definitely/indirectly/possibly lost, still reachable\n"
    "  --no-wait                 return when CMD exits; by default processes it started\n"
    "                            that are still traced (a daemon that went to the\n"
    "                            background, workers) are waited for, so their reports\n"
    "                            are whole (Ctrl-C ends the wait and writes them)\n"
    "  --check                   then gate on CMD's report as 'leakscope check' does, with\n"
    "                            the limit options below: exit 1 if over budget. CMD's own\n"
    "                            failure (non-zero exit, signal) wins over the gate's 1;\n"
    "                            2 if there is no report to gate on, 3 as check's\n"
    "                            --require-complete\n" LEAKSCOPE_CHECK_OPTIONS
    "\n"
    "environment:\n"
    "  LEAKSCOPE_PRELOAD         path of libleakscope.so, if not installed next to leakscope\n"
    "  NO_COLOR                  no colour even on a terminal\n";

const char kReportUsage[] =
    "usage: leakscope report FILE [--top N] [--json] [--show-internals] [--full-names]\n"
    "                        [--wide | --width N] [filter options]\n"
    "\n"
    "Shows a report written by 'leakscope run': how the process ended, how much memory\n"
    "it held, then sections: the call sites of the allocations still live at the end\n"
    "(leaks), growth suspects, peak memory consumers, most allocations, temporary\n"
    "allocations. One-time allocations of the C/C++ runtime (libstdc++'s exception\n"
    "pool, stdio buffers, thread TLS) are shown apart as runtime internals; the rules\n"
    "are in default_internals.supp (installed in share/leakscope).\n"
    "\n"
    "options:\n"
    "  --top N              rows per section (default: 20 in text, all in JSON)\n"
    "  --json               JSON: 'sites' (all, each marked 'internal'), 'leaks',\n"
    "                       'internals', 'growth_suspects', 'peak_consumers',\n"
    "                       'most_allocations', 'temporary_allocations', 'timeline'\n"
    "  --show-internals     list the runtime internals instead of summing them up\n"
    "  --full-names         template arguments in full (default: std::vector<...>)\n"
    "  --wide               lines as long as they are (default: fitted to the terminal,\n"
    "                       or to $COLUMNS when set; not cut in a pipe or a file)\n"
    "  --width N            fit lines to N columns (N >= 40)\n"
    "\n"
    "Each row starts with its site id: the same id names the site in 'report --json'\n"
    "(site_id), 'leakscope check' and leakscoped's /metrics (label "
    "site_id).\n" LEAKSCOPE_FILTER_OPTIONS;

const char kCheckUsage[] =
    "usage: leakscope check REPORT [limits] [filter options]\n"
    "\n"
    "A CI gate: exits 0 if what the program leaked is within budget, 1 (naming each\n"
    "offending call site) if not, 2 if a report cannot be read or an option is wrong,\n"
    "3 if within budget but --require-complete and the figures are incomplete or\n"
    "sampled. Figures that are incomplete or sampled are always named, one line each.\n"
    "\n"
    "limits:\n" LEAKSCOPE_CHECK_OPTIONS
    "\n"
    "filter options:\n" LEAKSCOPE_FILTER_OPTIONS;

const char kDiffUsage[] =
    "usage: leakscope diff BASE NEW [--json] [--top N] [--suppressions FILE]\n"
    "\n"
    "Change in live bytes and allocations per call site from BASE to NEW (two reports or\n"
    "snapshots of the same program), largest growth first. Sites are matched by their\n"
    "frames (function, file, line, module name), not by addresses; sites only in NEW are\n"
    "marked NEW, sites holding nothing any more GONE. Runtime internals are left out.\n"
    "\n"
    "options:\n"
    "  --top N     sites to show (default: 20 in text, all in JSON)\n"
    "  --json      JSON instead of text\n"
    "  --suppressions FILE, --include REGEX, --exclude REGEX  as in 'leakscope report'\n";

const char kExportUsage[] =
    "usage: leakscope export REPORT --format pprof|collapsed|json -o FILE\n"
    "\n"
    "  pprof      gzipped profile.proto (sample types inuse_space, inuse_objects,\n"
    "             alloc_space, alloc_objects) for go tool pprof, speedscope, Pyroscope,\n"
    "             Grafana\n"
    "  collapsed  folded stacks, 'outermost;...;innermost live_bytes' per line, for\n"
    "             flamegraph.pl and speedscope\n"
    "  json       the same as 'leakscope report --json'\n"
    "\n"
    "'-o -' writes to stdout.\n";

const char kHtmlUsage[] =
    "usage: leakscope html REPORT -o report.html [filter options]\n"
    "\n"
    "Writes one self-contained HTML page (no network needed to open it): summary, an\n"
    "interactive flame graph of the surviving bytes (click to zoom, search by name),\n"
    "the timeline when the report has one, and sortable tables of the report's sections.\n"
    "\n"
    "filter options:\n" LEAKSCOPE_FILTER_OPTIONS;

const char kTopUsage[] =
    "usage: leakscope top ADDR:PORT [--pid N] [--sort bytes|growth|count] [--interval SECONDS]\n"
    "                     [--once]\n"
    "\n"
    "A live view of the processes a collector traces, refreshed every second: a process's\n"
    "live heap and RSS, and its largest call sites by live bytes, with their live\n"
    "allocations and growth rate (live bytes per second over the last 10 seconds).\n"
    "ADDR:PORT (or http://ADDR:PORT/metrics) is the collector's Prometheus endpoint:\n"
    "'leakscoped --metrics ADDR:PORT' or 'leakscope run --metrics ADDR:PORT'. The sites\n"
    "are those the collector exports (leakscoped --top-sites, default 10).\n"
    "\n"
    "keys:  b  sort by live bytes   g  by growth   c  by live allocations   q  quit\n"
    "\n"
    "options:\n"
    "  --pid N              the process to show (default: the one with the largest heap)\n"
    "  --sort KEY           bytes (default), growth or count\n"
    "  --interval SECONDS   refresh every SECONDS (default 1)\n"
    "  --once               print one view to stdout and exit (no terminal needed;\n"
    "                       growth needs two looks, so it shows 0)\n";

const char kVersionText[] = "leakscope " LEAKSCOPE_VERSION "\n";

}  // namespace leakscope::viewer
