// Debug files with their compressed sections inflated, kept between runs.
//
// Distributions ship separate debug files (libc6-dbg, -dbgsym packages) with
// zlib-compressed DWARF sections, and libdw inflates every one of them each
// time it opens the file: for libc, 4 MiB to 10 MiB and ~40 ms of every
// report. As perf keeps ~/.debug, leakscope keeps an inflated copy per build
// id, made once with `eu-elfcompress -t none` (elfutils) and checked against
// the module's build id at every use like any other debug file.
//
// Where: $LEAKSCOPE_DEBUG_CACHE, else $XDG_CACHE_HOME/leakscope/debug, else
// ~/.cache/leakscope/debug. LEAKSCOPE_DEBUG_CACHE=off (or an empty value)
// turns it off. Files that are not compressed are never copied.
#pragma once

#include <string>

namespace leakscope::collector {

// The cache directory, or "" when the cache is off.
std::string DebugCacheDir();

// The inflated copy of `debug_file` (the debug file of the module with build
// id `build_id_hex`), made now if there is none yet; "" when the cache is off,
// the file has no compressed section, or the copy cannot be made.
std::string InflatedDebugFile(const std::string& debug_file, const std::string& build_id_hex);

}  // namespace leakscope::collector
