// Where `leakscope run` finds libleakscope.so, in order:
//   1. $LEAKSCOPE_PRELOAD, if set (an explicit choice: no fallback if it is wrong);
//   2. <dir of this executable>/../lib/libleakscope.so (build tree and installs);
//   3. the install location configured by CMake (LEAKSCOPE_INSTALLED_SHIM).
#pragma once

#include <string>

namespace leakscope::viewer {

struct ShimSearch {
  const char* env_value = nullptr;  // $LEAKSCOPE_PRELOAD, or null when unset
  std::string self_exe;             // resolved /proc/self/exe
  std::string installed;            // configured install path
};

// The search for this process: environment, /proc/self/exe, build configuration.
ShimSearch CurrentShimSearch();

// Sets *path to the shim, or *error to a one-line reason.
bool LocateShim(const ShimSearch& search, std::string* path, std::string* error);

}  // namespace leakscope::viewer
