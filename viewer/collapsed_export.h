// Folded stacks ("outermost;...;innermost value" per line), the input of
// flamegraph.pl and one of speedscope's formats.
#pragma once

#include <string>

#include "report.pb.h"

namespace leakscope::viewer {

// One line per site holding memory, its value the live bytes. Stacks that
// fold to the same names are summed. ';' and control characters in names
// become '?': they would break the format.
std::string RenderCollapsed(const report::Report& report);

}  // namespace leakscope::viewer
