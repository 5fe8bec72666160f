// A report as a pprof heap profile (proto/pprof/profile.proto), gzipped, so
// `go tool pprof`, speedscope, Pyroscope and Grafana can read it.
#pragma once

#include <string>

#include "report.pb.h"

namespace leakscope::viewer {

// Sample types, in this order: inuse_space/bytes, inuse_objects/count,
// alloc_space/bytes, alloc_objects/count; inuse_space is the default. One
// sample per site. Inlined frames become extra lines of their caller's
// location, as pprof models them.
std::string ProfileBytes(const report::Report& report);

// ProfileBytes, gzip-compressed (what pprof expects on disk).
bool GzipProfile(const report::Report& report, std::string* out, std::string* error);

}  // namespace leakscope::viewer
