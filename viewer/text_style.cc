#include "text_style.h"

#include <unistd.h>

#include <cstdlib>

#include "cxx_names.h"

namespace leakscope::viewer {
namespace {

bool IsShellSafe(std::string_view arg) {
  if (arg.empty()) return false;
  for (char c : arg) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      std::string_view("_@%+=:,./-").find(c) != std::string_view::npos;
    if (!safe) return false;
  }
  return true;
}

std::string ShellQuote(std::string_view arg) {
  if (IsShellSafe(arg)) return std::string(arg);
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::string TextStyle::Wrap(const char* sgr, std::string_view s) const {
  if (!color_) return std::string(s);
  return std::string("\033[") + sgr + "m" + std::string(s) + "\033[0m";
}

std::string TextStyle::Name(std::string_view function) const {
  return Printable(full_names_ ? std::string(function) : cxxnames::ShortenTemplates(function));
}

bool ShouldUseColor(int fd) {
  return isatty(fd) == 1 && std::getenv("NO_COLOR") == nullptr;
}

std::string Printable(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) c = '?';
  }
  return out;
}

std::string DisplayCommandLine(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& arg : argv) {
    if (!out.empty()) out += ' ';
    out += ShellQuote(arg);
  }
  return Printable(out);
}

}  // namespace leakscope::viewer
