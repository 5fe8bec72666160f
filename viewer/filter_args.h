// Options that choose which sites count, shared by `report`, `check`,
// `export` and `html`: --by, --include, --exclude, --suppressions.
#pragma once

#include <string>
#include <vector>

#include "site_table.h"

namespace leakscope::viewer {

// Matches one of the filter options at args[*i] and applies it to *filter
// (loading a suppressions file at once, so a bad one is reported as a usage
// error). Returns false if args[*i] is not one of them; on a bad value sets
// *error.
bool TakeFilterOption(const std::vector<std::string>& args, size_t* i, SiteFilter* filter,
                      std::string* error);

}  // namespace leakscope::viewer
