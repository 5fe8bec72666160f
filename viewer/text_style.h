// Terminal styling for the text report: ANSI colour when enabled, plain text
// otherwise, and escaping of control characters so that a hostile path or
// argv cannot drive the reader's terminal.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace leakscope::viewer {

class TextStyle {
 public:
  explicit TextStyle(bool color) : color_(color) {}

  std::string Bold(std::string_view s) const { return Wrap("1", s); }
  std::string Dim(std::string_view s) const { return Wrap("2", s); }
  std::string Warn(std::string_view s) const { return Wrap("1;31", s); }
  std::string Size(std::string_view s) const { return Wrap("33", s); }

 private:
  std::string Wrap(const char* sgr, std::string_view s) const;
  bool color_;
};

// Colour only for a terminal, and never when NO_COLOR is set (no-color.org).
bool ShouldUseColor(int fd);

// Control characters (including ESC) become '?'.
std::string Printable(std::string_view s);

// argv joined by spaces, each argument shell-quoted when it needs to be, so
// the line can be pasted back into a shell.
std::string DisplayCommandLine(const std::vector<std::string>& argv);

}  // namespace leakscope::viewer
