// A report as a pprof heap profile (proto/pprof/profile.proto), so `go tool
// pprof`, Parca, Pyroscope, Grafana Alloy and speedscope read it. One builder
// for both places that write it: `leakscope export --format pprof` and
// leakscoped's /debug/pprof/heap.
#pragma once

#include <string>

#include "report.pb.h"

namespace leakscope::pprof {

// Sample types, in this order: inuse_space/bytes, inuse_objects/count,
// alloc_space/bytes, alloc_objects/count; inuse_space is the default. One
// sample per site. Inlined frames become extra lines of their caller's
// location, as pprof models them. One mapping per module the frames name,
// with its build id (hex) when the report has it; the mappings say they
// carry functions, files, lines and inlined frames, so pprof symbolizes
// nothing itself. Addresses are module offsets placed in each mapping's own
// synthetic range (mapping id i, from 1: [i << 40, (i + 1) << 40)), not
// runtime ones.
std::string ProfileBytes(const report::Report& report);

// ProfileBytes, gzip-compressed (what pprof expects on disk and Go's
// /debug/pprof/heap serves).
bool GzipProfile(const report::Report& report, std::string* out, std::string* error);

}  // namespace leakscope::pprof
