// LeakSanitizer's suppression pattern language, so that a suppressions file
// written for LSan works here unchanged: a pattern matches anywhere in the
// text, '*' matches any run of characters, a leading '^' anchors at the start
// and a trailing '$' at the end.
#pragma once

#include <string_view>

namespace leakscope::viewer {

// An empty text never matches (as in LSan: an unknown function is not "").
bool TemplateMatch(std::string_view pattern, std::string_view text);

}  // namespace leakscope::viewer
