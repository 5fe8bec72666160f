// Helpers shared by the subcommands' argument parsers. Parsers return a
// Parsed value instead of exiting so they can be unit-tested.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace leakscope::viewer {

enum class ParseOutcome { kOk, kHelp, kError };

// Strict decimal: digits only, no sign, no overflow.
bool ParseUint(const std::string& text, uint64_t* value);

// Matches option `name` at args[*i], as "--name VALUE" or "--name=VALUE".
// Returns false if args[*i] is another option. On a match, sets *value and
// advances *i past the value; a missing value sets *error.
bool TakeOptionValue(const std::vector<std::string>& args, size_t* i, const std::string& name,
                     std::string* value, std::string* error);

// Matches option `name` and parses its value as a number >= min_value.
bool TakeNumberOption(const std::vector<std::string>& args, size_t* i, const std::string& name,
                      uint64_t min_value, uint64_t* value, std::string* error);

// Matches option `name` and parses its value as a size in bytes >= min_value,
// in the project's one syntax (proto/byte_size.h: "4096", "512K", "64M").
bool TakeSizeOption(const std::vector<std::string>& args, size_t* i, const std::string& name,
                    uint64_t min_value, uint64_t* value, std::string* error);

bool IsHelpFlag(const std::string& arg);

// A word that is not an option names the command's one report file; a second
// one is an error. Advances *i past it.
void TakeReportFile(const std::string& arg, size_t* i, bool* have_file, std::string* file,
                    std::string* error);

}  // namespace leakscope::viewer
