#include "filter_args.h"

#include "cli_args.h"

namespace leakscope::viewer {

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
