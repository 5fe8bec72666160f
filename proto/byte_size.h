// The one syntax for a size in bytes, read the same way by every flag and
// variable that takes one (`leakscope run --sample-interval`, `check
// --max-*`, leakscoped's --dump-above and --max-frame-bytes,
// LEAKSCOPE_SAMPLE_INTERVAL in the shim, LEAKSCOPE_GTEST_BUDGET): decimal
// digits, then optionally K, M, G or T (binary: 1024, 1024^2, ...), either
// case, optionally followed by "iB". "4096", "512K", "64M", "2GiB".
//
// Header-only and allocation-free: the shim (preload/config.cc) reads its
// variables before the real allocator is known and links none of the
// viewer's code.
#pragma once

#include <cstdint>
#include <string_view>

namespace leakscope {

// For messages: what a size looks like.
inline constexpr char kByteSizeExamples[] = "4096, 512K, 64M, 2G";

// False (and *bytes untouched) for anything else: empty, a sign, spaces,
// an unknown suffix, more than fits in 64 bits.
constexpr bool ParseByteSize(std::string_view text, uint64_t* bytes) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return false;
  std::string_view suffix(text.data() + digits, text.size() - digits);  // no throwing substr
  int shift = 0;
  if (!suffix.empty()) {
    const char unit = suffix[0] >= 'a' ? static_cast<char>(suffix[0] - 'a' + 'A') : suffix[0];
    const size_t index = std::string_view("KMGT").find(unit);
    if (index == std::string_view::npos) return false;
    shift = 10 * static_cast<int>(index + 1);
    suffix.remove_prefix(1);
    if (!suffix.empty() && suffix != "iB") return false;
  }
  uint64_t n = 0;
  for (size_t i = 0; i < digits; ++i) {
    const uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (n > (UINT64_MAX - digit) / 10) return false;
    n = n * 10 + digit;
  }
  if (n > (UINT64_MAX >> shift)) return false;
  *bytes = n << shift;
  return true;
}

}  // namespace leakscope
