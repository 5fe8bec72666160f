// `leakscope top ADDR:PORT [--pid N] [--sort bytes|growth|count]
// [--interval SECONDS] [--once]`: a live view of a collector's processes,
// read from its /metrics (viewer/live_metrics.h says why that endpoint).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli_args.h"
#include "live_top.h"

namespace leakscope::viewer {

struct TopArgs {
  std::string host, port;
  uint32_t pid = 0;  // 0: the process with the largest live heap
  TopSort sort = TopSort::kLiveBytes;
  uint64_t interval_ms = 1000;
  bool once = false;  // one plain view on stdout, no terminal needed
};

ParseOutcome ParseTopArgs(const std::vector<std::string>& args, TopArgs* out, std::string* error);

// 0 after q or a signal, 1 if the first scrape fails, 2 for bad arguments.
int TopCommand(const std::vector<std::string>& args);

}  // namespace leakscope::viewer
