// Terminal styling for the text report: ANSI colour when enabled, plain text
// otherwise, and escaping of control characters so that a hostile path or
// argv cannot drive the reader's terminal.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace leakscope::viewer {

class TextStyle {
 public:
  // full_names: template arguments in full (--full-names); width: columns a
  // line may take, 0 for no limit (text_width.h).
  explicit TextStyle(bool color, bool full_names = false, size_t width = 0)
      : color_(color), full_names_(full_names), width_(width) {}

  std::string Bold(std::string_view s) const { return Wrap("1", s); }
  std::string Dim(std::string_view s) const { return Wrap("2", s); }
  std::string Warn(std::string_view s) const { return Wrap("1;31", s); }
  std::string Size(std::string_view s) const { return Wrap("33", s); }

  // A function's name as shown: printable, template arguments shortened
  // ("std::vector<...>::push_back(int const&)") unless full names were asked for.
  std::string Name(std::string_view function) const;
  size_t width() const { return width_; }

 private:
  std::string Wrap(const char* sgr, std::string_view s) const;
  bool color_;
  bool full_names_;
  size_t width_;
};

// Colour only for a terminal, and never when NO_COLOR is set (no-color.org).
bool ShouldUseColor(int fd);

// Control characters (including ESC) become '?'.
std::string Printable(std::string_view s);

// argv joined by spaces, each argument shell-quoted when it needs to be, so
// the line can be pasted back into a shell.
std::string DisplayCommandLine(const std::vector<std::string>& argv);

}  // namespace leakscope::viewer
