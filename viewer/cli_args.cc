#include "cli_args.h"

#include "byte_size.h"

namespace leakscope::viewer {

bool ParseUint(const std::string& text, uint64_t* value) {
  if (text.empty() || text.size() > 20) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) return false;
    v = v * 10 + digit;
  }
  *value = v;
  return true;
}

bool TakeOptionValue(const std::vector<std::string>& args, size_t* i, const std::string& name,
                     std::string* value, std::string* error) {
  const std::string& arg = args[*i];
  if (arg.compare(0, name.size() + 1, name + "=") == 0) {
    *value = arg.substr(name.size() + 1);
    ++*i;
    return true;
  }
  if (arg != name) return false;
  if (*i + 1 >= args.size()) {
    *error = "option '" + name + "' needs a value";
    return true;
  }
  *value = args[*i + 1];
  *i += 2;
  return true;
}

bool TakeNumberOption(const std::vector<std::string>& args, size_t* i, const std::string& name,
                      uint64_t min_value, uint64_t* value, std::string* error) {
  std::string text;
  if (!TakeOptionValue(args, i, name, &text, error)) return false;
  if (!error->empty()) return true;
  if (!ParseUint(text, value) || *value < min_value) {
    *error = "option '" + name + "' needs a whole number >= " + std::to_string(min_value) +
             ", got '" + text + "'";
  }
  return true;
}

bool TakeSizeOption(const std::vector<std::string>& args, size_t* i, const std::string& name,
                    uint64_t min_value, uint64_t* value, std::string* error) {
  std::string text;
  if (!TakeOptionValue(args, i, name, &text, error)) return false;
  if (!error->empty()) return true;
  if (!ParseByteSize(text, value) || *value < min_value) {
    *error = "option '" + name + "' needs a size in bytes" +
             (min_value > 0 ? " >= " + std::to_string(min_value) : std::string()) + " (e.g. " +
             kByteSizeExamples + "), got '" + text + "'";
  }
  return true;
}

bool IsHelpFlag(const std::string& arg) {
  return arg == "--help" || arg == "-h";
}

void TakeReportFile(const std::string& arg, size_t* i, bool* have_file, std::string* file,
                    std::string* error) {
  if (*have_file) {
    *error = "one report file at a time (got '" + *file + "' and '" + arg + "')";
    return;
  }
  *file = arg;
  *have_file = true;
  ++*i;
}

}  // namespace leakscope::viewer
