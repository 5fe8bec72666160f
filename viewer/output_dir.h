// The folder `leakscope run -o DIR` writes reports into: made when it does not
// exist yet (the README's first example names a new one), so that a new user
// is not stopped by a missing folder.
#pragma once

#include <string>

namespace leakscope::viewer {

// Makes sure `dir` is a directory we can write into. Missing directories
// (the folder and any missing parents, like `mkdir -p`) are created with mode
// 0700: reports name the program's code and data, and are not for other
// users. An existing folder is used as it is. False + *error (one line)
// otherwise.
bool EnsureOutputDir(const std::string& dir, std::string* error);

}  // namespace leakscope::viewer
