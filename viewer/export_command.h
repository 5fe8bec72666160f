// `leakscope export REPORT --format pprof|collapsed|json -o FILE`.
#pragma once

#include <string>
#include <vector>

namespace leakscope::viewer {

int ExportCommand(const std::vector<std::string>& args);

}  // namespace leakscope::viewer
