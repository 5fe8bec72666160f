#include "text_width.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>

#include "cli_args.h"

namespace leakscope::viewer {
namespace {

constexpr std::string_view kCut = "...";

bool IsContinuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// Length of the ANSI escape sequence at line[i] ("\033[...m"), 0 if none.
size_t EscapeLength(std::string_view line, size_t i) {
  if (line[i] != '\033' || i + 1 >= line.size() || line[i + 1] != '[') return 0;
  size_t end = i + 2;
  while (end < line.size() && !(line[end] >= 0x40 && line[end] <= 0x7E)) ++end;
  return end < line.size() ? end + 1 - i : line.size() - i;
}

size_t ColumnsFromEnvironment() {
  const char* columns = std::getenv("COLUMNS");
  uint64_t n = 0;
  if (columns == nullptr || !ParseUint(columns, &n) || n == 0 || n > 100000) return 0;
  return static_cast<size_t>(n);
}

}  // namespace

size_t VisibleWidth(std::string_view line) {
  size_t width = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    if (const size_t skip = EscapeLength(line, i)) {
      i += skip - 1;
    } else if (!IsContinuation(line[i])) {
      ++width;
    }
  }
  return width;
}

std::string FitLine(std::string_view line, size_t width) {
  if (width == 0 || VisibleWidth(line) <= width) return std::string(line);
  const size_t keep = width > kCut.size() ? width - kCut.size() : 0;
  std::string out;
  bool colored = false;
  size_t columns = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    if (const size_t skip = EscapeLength(line, i)) {
      out.append(line.substr(i, skip));
      colored = true;
      i += skip - 1;
      continue;
    }
    if (!IsContinuation(line[i]) && columns++ == keep) break;
    out += line[i];
  }
  out.append(kCut.substr(0, width - keep));
  if (colored) out += "\033[0m";
  return out;
}

std::string FitLines(std::string_view text, size_t width) {
  if (width == 0) return std::string(text);
  std::string out;
  out.reserve(text.size());
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    const bool newline = end != std::string_view::npos;
    if (!newline) end = text.size();
    out += FitLine(text.substr(start, end - start), width);
    if (newline) out += '\n';
    start = end + 1;
  }
  return out;
}

size_t OutputWidth(int fd) {
  if (isatty(fd) != 1) return ColumnsFromEnvironment();
  winsize size{};
  if (ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  const size_t columns = ColumnsFromEnvironment();
  return columns != 0 ? columns : 80;
}

bool TakeWidthOption(const std::vector<std::string>& args, size_t* i, WidthArgs* out,
                     std::string* error) {
  const std::string& arg = args[*i];
  if (arg == "--full-names" || arg == "--wide") {
    (arg == "--wide" ? out->wide : out->full_names) = true;
    ++*i;
    return true;
  }
  uint64_t width = 0;
  // Narrower than a rank, a figure and a few letters of a name is no use.
  if (!TakeNumberOption(args, i, "--width", 40, &width, error)) return false;
  out->width = static_cast<size_t>(width);
  return true;
}

size_t WidthFor(const WidthArgs& args, int fd) {
  if (args.wide) return 0;
  return args.width != 0 ? args.width : OutputWidth(fd);
}

}  // namespace leakscope::viewer
