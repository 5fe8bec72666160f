#include "template_match.h"

#include <vector>

namespace leakscope::viewer {
namespace {

std::vector<std::string_view> SplitOnStars(std::string_view pattern) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t star = pattern.find('*'); star != std::string_view::npos;
       star = pattern.find('*', start)) {
    parts.push_back(pattern.substr(start, star - start));
    start = star + 1;
  }
  parts.push_back(pattern.substr(start));
  return parts;
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

bool TemplateMatch(std::string_view pattern, std::string_view text) {
  if (text.empty()) return false;
  const bool anchor_start = !pattern.empty() && pattern.front() == '^';
  if (anchor_start) pattern.remove_prefix(1);
  const bool anchor_end = !pattern.empty() && pattern.back() == '$';
  if (anchor_end) pattern.remove_suffix(1);
  const std::vector<std::string_view> parts = SplitOnStars(pattern);
  size_t pos = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string_view part = parts[i];
    const bool first = i == 0, last = i + 1 == parts.size();
    if (first && anchor_start) {
      if (text.substr(0, part.size()) != part) return false;
      pos = part.size();
    } else if (last && anchor_end) {
      // Leftmost matches so far leave the most room for the anchored tail.
      return text.size() - pos >= part.size() && EndsWith(text, part);
    } else if (!part.empty()) {
      const size_t found = text.find(part, pos);
      if (found == std::string_view::npos) return false;
      pos = found + part.size();
    }
  }
  return !anchor_end || pos == text.size();
}

}  // namespace leakscope::viewer
