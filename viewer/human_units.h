// Numbers as a tired reader wants them: "1.5 MiB", "1,234,567".
#pragma once

#include <cstdint>
#include <string>

namespace leakscope::viewer {

// Bytes in binary units with one decimal: "999 B", "1.5 KiB", "2.0 MiB", "3.1 GiB".
std::string HumanBytes(uint64_t bytes);

// Thousands separators: 1234567 -> "1,234,567".
std::string WithThousands(uint64_t n);

// "1 allocation" / "2 allocations", with thousands separators.
std::string CountOf(uint64_t n, const std::string& singular, const std::string& plural);

}  // namespace leakscope::viewer
