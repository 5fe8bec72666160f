#include "filter_args.h"

#include "cli_args.h"

namespace leakscope::viewer {

const char kFilterOptionsUsage[] =
    "  --by stack|function|file|module\n"
    "                      group sites by their whole stack (default) or by the\n"
    "                      function, source file or module that called the allocator\n"
    "  --include REGEX     only sites with a frame whose function, file or module matches\n"
    "  --exclude REGEX     leave out sites with such a frame\n"
    "  --suppressions FILE leave out sites matching LeakSanitizer-style 'leak:<pattern>'\n"
    "                      lines (pattern against function, file or module; '*' wildcard)\n";

bool TakeFilterOption(const std::vector<std::string>& args, size_t* i, SiteFilter* filter,
                      std::string* error) {
  std::string value;
  if (TakeOptionValue(args, i, "--by", &value, error)) {
    if (error->empty() && !ParseGroupBy(value, &filter->by))
      *error = "option '--by' needs stack, function, file or module, got '" + value + "'";
  } else if (TakeOptionValue(args, i, "--include", &value, error)) {
    if (error->empty()) CompileFrameRegex(value, &filter->include, error);
  } else if (TakeOptionValue(args, i, "--exclude", &value, error)) {
    if (error->empty()) CompileFrameRegex(value, &filter->exclude, error);
  } else if (TakeOptionValue(args, i, "--suppressions", &value, error)) {
    if (error->empty()) filter->suppressions.Load(value, error);
  } else {
    return false;
  }
  return true;
}

}  // namespace leakscope::viewer
