#include "frame_regex.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC PR 105562, see the header
#include <regex>
#pragma GCC diagnostic pop

namespace leakscope::viewer {

struct FrameRegex::Impl {
  std::regex re;
};

FrameRegex::FrameRegex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FrameRegex::~FrameRegex() = default;

bool FrameRegex::Compile(const std::string& pattern, std::shared_ptr<const FrameRegex>* out,
                         std::string* error) {
  try {
    auto impl = std::make_unique<Impl>();
    impl->re = std::regex(pattern, std::regex::ECMAScript);
    out->reset(new FrameRegex(std::move(impl)));
  } catch (const std::regex_error& e) {
    *error = "invalid regular expression '" + pattern + "': " + e.what();
    return false;
  }
  return true;
}

bool FrameRegex::Search(const std::string& text) const {
  return std::regex_search(text, impl_->re);
}

}  // namespace leakscope::viewer
