// How wide the text report may be: lines are fitted to the terminal (frames
// shortened sensibly first, see text_frames.cc; anything still too long cut
// with "..."), so a row never wraps into the next one.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace leakscope::viewer {

// Columns a line takes on a terminal: ANSI colour sequences take none, a
// UTF-8 character one.
size_t VisibleWidth(std::string_view line);

// `line` cut to at most `width` columns, ending in "..." when cut (and a
// colour reset when it held colour). width 0: no limit.
std::string FitLine(std::string_view line, size_t width);

// Every line of `text` fitted (FitLine).
std::string FitLines(std::string_view text, size_t width);

// The width to fit output on `fd` to, 0 for no limit: on a terminal its
// width (TIOCGWINSZ, else $COLUMNS, else 80); elsewhere (a pipe, a file, a
// CI log) $COLUMNS if set, else no limit: a script or a log gets whole lines.
size_t OutputWidth(int fd);

// --full-names, --wide and --width N for the text outputs (report, check,
// diff). Returns true if args[*i] was one of them (and advances *i).
struct WidthArgs {
  bool full_names = false;  // template arguments in full
  bool wide = false;        // no width limit
  size_t width = 0;         // --width N; 0: from the output (OutputWidth)
};
bool TakeWidthOption(const std::vector<std::string>& args, size_t* i, WidthArgs* out,
                     std::string* error);

// The width the options ask for on `fd`.
size_t WidthFor(const WidthArgs& args, int fd);

}  // namespace leakscope::viewer
