// A small streaming JSON writer: pretty-printed (2-space indent), valid for
// any input string (control characters escaped, invalid UTF-8 replaced by
// U+FFFD), integers written as integers. Enough for our reports; no parser.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace leakscope::viewer {

// `s` as a quoted JSON string literal.
std::string JsonQuote(std::string_view s);

class JsonWriter {
 public:
  // Appends to *out, which must outlive the writer.
  explicit JsonWriter(std::string* out) : out_(out) {}

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }

  // Inside an object: the next value's name.
  void Key(std::string_view name);

  void String(std::string_view value);
  void Uint(uint64_t value);
  void Int(int64_t value);
  void Bool(bool value);
  // Shortest round-trip form ("0.25", "1e+30"); JSON has no NaN or infinity: null.
  void Double(double value);

  // Shorthands for a key followed by its value.
  void Field(std::string_view name, std::string_view value);
  void Field(std::string_view name, const char* value) { Field(name, std::string_view(value)); }
  void Field(std::string_view name, uint64_t value);
  void Field(std::string_view name, uint32_t value) { Field(name, uint64_t{value}); }
  void Field(std::string_view name, int32_t value);
  void Field(std::string_view name, bool value);
  void Field(std::string_view name, double value);

 private:
  void Open(char bracket);
  void Close(char bracket);
  // Separator and indentation before a value or key at the current depth.
  void BeforeValue();
  void NewLine();

  std::string* out_;
  std::vector<size_t> counts_;  // items written so far, per open container
  bool after_key_ = false;
};

}  // namespace leakscope::viewer
