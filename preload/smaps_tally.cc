#include <cstdlib>
#include <cstring>

#include "memory_figures.h"

namespace leakscope::preload {
namespace {

constexpr uint64_t kMaxGuardBytes = 1 << 20;

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// "Rss:   1234 kB" -> bytes, if the line starts with `key`.
bool KeyBytes(const char* line, size_t n, const char* key, uint64_t* bytes) {
  const size_t k = strlen(key);
  if (n <= k || memcmp(line, key, k) != 0) return false;
  *bytes = strtoull(line + k, nullptr, 10) * 1024;
  return true;
}

// The pathname column of a header line ("" for an anonymous mapping): after
// the fifth field.
const char* PathOf(const char* line) {
  const char* p = line;
  for (int field = 0; field < 5; ++field) {
    while (*p && *p != ' ') ++p;
    while (*p == ' ') ++p;
  }
  return p;
}

}  // namespace

void SmapsTally::Feed(const char* data, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (data[i] == '\n') {
      line_[line_len_] = 0;
      Line(line_, line_len_);
      line_len_ = 0;
    } else if (line_len_ + 1 < sizeof line_) {
      line_[line_len_++] = data[i];
    }
  }
}

void SmapsTally::Finish() {
  if (line_len_) {
    line_[line_len_] = 0;
    Line(line_, line_len_);
    line_len_ = 0;
  }
  EndMapping();
  kind_ = Kind::kNone;
}

void SmapsTally::Line(const char* line, size_t n) {
  if (n && IsHexDigit(line[0])) return Header(line, n);
  uint64_t bytes;
  if (KeyBytes(line, n, "Rss:", &bytes))
    rss_ = bytes;
  else if (KeyBytes(line, n, "Anonymous:", &bytes))
    anon_ = bytes;
}

void SmapsTally::Header(const char* line, size_t) {
  EndMapping();
  char* rest;
  start_ = strtoull(line, &rest, 16);
  end_ = *rest == '-' ? strtoull(rest + 1, &rest, 16) : start_;
  while (*rest == ' ') ++rest;
  const bool inaccessible = strncmp(rest, "---", 3) == 0;
  writable_ = rest[0] == 'r' && rest[1] == 'w';
  rss_ = anon_ = 0;
  const char* path = PathOf(line);
  if (strcmp(path, "[stack]") == 0)
    kind_ = Kind::kStack;
  else if (*path == 0 || strncmp(path, "[heap]", 6) == 0 || strncmp(path, "[anon", 5) == 0 ||
           strcmp(path, "/dev/zero (deleted)") == 0 || strncmp(path, "/SYSV", 5) == 0)
    kind_ = (*path == 0 && inaccessible) ? Kind::kGuard : Kind::kAnonymous;
  else
    kind_ = Kind::kFile;
  // A thread's stack: read-write, anonymous, right above its guard.
  if (kind_ == Kind::kAnonymous && *path == 0 && writable_ && guard_end_ == start_)
    kind_ = Kind::kStack, ++out_->thread_stacks;
}

void SmapsTally::EndMapping() {
  guard_end_ = 0;
  switch (kind_) {
    case Kind::kNone:
      return;
    case Kind::kGuard:
      if (end_ - start_ <= kMaxGuardBytes) guard_end_ = end_;
      out_->anonymous += rss_;  // nothing resident, normally
      break;
    case Kind::kStack:
      out_->stack += rss_;
      break;
    case Kind::kAnonymous:
      out_->anonymous += rss_;
      break;
    case Kind::kFile:
      out_->anonymous += anon_;
      out_->file += rss_ > anon_ ? rss_ - anon_ : 0;
      break;
  }
  out_->rss += rss_;
  kind_ = Kind::kNone;
}

}  // namespace leakscope::preload
