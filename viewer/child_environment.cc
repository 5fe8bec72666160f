#include "child_environment.h"

#include <cstring>

namespace leakscope::viewer {
namespace {

bool HasName(const std::string& entry, const char* name) {
  const size_t n = std::strlen(name);
  return entry.compare(0, n, name) == 0 && entry.size() > n && entry[n] == '=';
}

}  // namespace

std::vector<std::string> BuildChildEnvironment(const char* const* environ,
                                               const TraceSettings& settings) {
  std::vector<std::string> env;
  std::string preload = settings.shim_path;
  bool lossless_given = false, interval_given = false;
  for (const char* const* e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry = *e;
    if (HasName(entry, "LD_PRELOAD")) {
      const std::string existing = entry.substr(std::strlen("LD_PRELOAD="));
      if (!existing.empty()) preload += ":" + existing;
    } else if (HasName(entry, "LEAKSCOPE_SOCKET") ||
               (settings.sample_interval != 0 && HasName(entry, "LEAKSCOPE_SAMPLE_INTERVAL"))) {
      // Replaced below.
    } else {
      lossless_given |= HasName(entry, "LEAKSCOPE_LOSSLESS");
      interval_given |= HasName(entry, "LEAKSCOPE_SAMPLE_INTERVAL");
      env.push_back(entry);
    }
  }
  env.push_back("LD_PRELOAD=" + preload);
  env.push_back("LEAKSCOPE_SOCKET=" + settings.socket_path);
  // run's default is every allocation (the shim's own default samples).
  if (settings.sample_interval != 0) {
    env.push_back("LEAKSCOPE_SAMPLE_INTERVAL=" + std::to_string(settings.sample_interval));
  } else if (!interval_given) {
    env.push_back("LEAKSCOPE_SAMPLE_INTERVAL=1");
  }
  if (settings.lossless && !lossless_given) env.push_back("LEAKSCOPE_LOSSLESS=1");
  if (settings.no_follow) env.push_back("LEAKSCOPE_NO_FOLLOW=1");
  if (settings.reachability) env.push_back("LEAKSCOPE_REACHABILITY=1");
  return env;
}

}  // namespace leakscope::viewer
