// --include/--exclude regular expressions (ECMAScript syntax). <regex> stays
// inside frame_regex.cc: GCC 12 warns falsely in its headers under
// -fsanitize (GCC PR 105562), and -Werror would turn that into a build
// failure everywhere site_table.h is included.
#pragma once

#include <memory>
#include <string>

namespace leakscope::viewer {

class FrameRegex {
 public:
  // false and a one-line *error for an invalid pattern.
  static bool Compile(const std::string& pattern, std::shared_ptr<const FrameRegex>* out,
                      std::string* error);
  ~FrameRegex();

  // Whether the expression matches anywhere in `text`.
  bool Search(const std::string& text) const;

 private:
  struct Impl;
  explicit FrameRegex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace leakscope::viewer
