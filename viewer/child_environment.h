// The environment of the traced command: ours, plus what the shim needs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace leakscope::viewer {

struct TraceSettings {
  std::string shim_path;
  std::string socket_path;
  uint64_t sample_interval = 0;  // 0: not given, the shim's default applies
  // LEAKSCOPE_LOSSLESS=1 unless the environment already says otherwise:
  // `run` is for tests and investigations, where a dropped event is a wrong
  // answer; a full ring then slows the program instead.
  bool lossless = false;
  bool no_follow = false;     // LEAKSCOPE_NO_FOLLOW=1: programs it execs are not traced
  bool reachability = false;  // LEAKSCOPE_REACHABILITY=1: held at exit for a scan
};

// `environ` is a null-terminated array as in environ(7). LD_PRELOAD gets the
// shim prepended (the program's own preloads still load, after ours);
// LEAKSCOPE_SOCKET and, when given, LEAKSCOPE_SAMPLE_INTERVAL are set,
// replacing inherited values.
std::vector<std::string> BuildChildEnvironment(const char* const* environ,
                                               const TraceSettings& settings);

}  // namespace leakscope::viewer
