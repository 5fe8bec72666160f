#include "suppressions.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "default_internals_text.h"
#include "report_facts.h"
#include "template_match.h"

namespace leakscope::viewer {
namespace {

std::string Trim(const std::string& s) {
  const size_t begin = s.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t\r") - begin + 1);
}

bool FrameMatches(const std::string& pattern, const report::Frame& f) {
  return TemplateMatch(pattern, f.function()) || TemplateMatch(pattern, f.file()) ||
         TemplateMatch(pattern, f.module());
}

}  // namespace

bool Suppressions::Parse(const std::string& text, const std::string& source, std::string* error) {
  std::istringstream in(text);
  std::string raw;
  for (int number = 1; std::getline(in, raw); ++number) {
    const std::string line = Trim(raw);
    if (line.empty() || line[0] == '#') continue;
    const std::string where = source + ":" + std::to_string(number) + ": ";
    if (line.compare(0, 5, "leak:") != 0) {
      *error = where + "expected 'leak:<pattern>', got '" + line.substr(0, 60) + "'";
      return false;
    }
    const std::string pattern = Trim(line.substr(5));
    if (pattern.empty()) {
      *error = where + "empty pattern";
      return false;
    }
    patterns_.push_back(pattern);
  }
  return true;
}

bool Suppressions::Load(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = path + ": cannot read suppressions file";
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path, error);
}

const std::string* Suppressions::Match(const report::Report& report,
                                       const report::Site& site) const {
  for (const std::string& pattern : patterns_) {
    for (uint32_t index : site.frames()) {
      if (FrameMatches(pattern, FrameAt(report, index))) return &pattern;
    }
  }
  return nullptr;
}

std::vector<bool> Suppressions::MatchFrames(const report::Report& report) const {
  std::vector<bool> matched(static_cast<size_t>(report.frames_size()), false);
  if (patterns_.empty()) return matched;
  for (int i = 0; i < report.frames_size(); ++i) {
    for (const std::string& pattern : patterns_) {
      if (FrameMatches(pattern, report.frames(i))) {
        matched[static_cast<size_t>(i)] = true;
        break;
      }
    }
  }
  return matched;
}

const Suppressions& DefaultInternals() {
  static const Suppressions* const rules = [] {
    auto* s = new Suppressions;
    std::string error;
    // The file is ours and tested (suppressions_test): a parse error is a build bug.
    if (!s->Parse(kDefaultInternalsText, "default_internals.supp", &error)) std::abort();
    return s;
  }();
  return *rules;
}

}  // namespace leakscope::viewer
