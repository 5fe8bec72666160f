#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstring>

#include "../proto/byte_size.h"

namespace leakscope::preload {
namespace {

// strtoull without errno games: digits only, else `fallback`.
uint64_t ParseU64(const char* s, uint64_t fallback) {
  if (!s || !*s) return fallback;
  uint64_t v = 0;
  for (; *s; ++s) {
    if (*s < '0' || *s > '9') return fallback;
    v = v * 10 + uint64_t(*s - '0');
  }
  return v;
}

// Appends the decimal digits of `v` at *p.
void PutNumber(char** p, size_t v) {
  char digits[20];
  int n = 0;
  do digits[n++] = char('0' + v % 10);
  while ((v /= 10) != 0);
  while (n > 0) *(*p)++ = digits[--n];
}

// One line on stderr, with write(2): nothing here may allocate.
void WarnSocketTooLong(size_t length, size_t max) {
  char line[160];
  char* p = line;
  const auto put = [&p](const char* s) {
    while (*s) *p++ = *s++;
  };
  put("leakscope: LEAKSCOPE_SOCKET is ");
  PutNumber(&p, length);
  put(" bytes, longer than a Unix socket path allows (");
  PutNumber(&p, max);
  put("): not tracing\n");
  if (write(2, line, size_t(p - line)) < 0) {
    // Nowhere else to say it.
  }
}

// Appends `text` to buf[*len..size), truncating; no allocation.
void Append(char* buf, size_t size, size_t* len, const char* text) {
  while (*text != '\0' && *len < size) buf[(*len)++] = *text++;
}

// One line on stderr: `name`='`text`' is not `what`; using `fallback`.
// At most 64 characters of the value, on one line. Runs at the first
// allocation: stack buffers and write(2), nothing else.
void WarnUnreadable(const char* name, const char* text, const char* what, uint64_t fallback) {
  char digits[21];
  char* end = digits;
  PutNumber(&end, fallback);
  *end = '\0';
  char shown[65] = {};
  for (size_t i = 0; i < sizeof shown - 1 && text[i] != '\0'; ++i)
    shown[i] = text[i] == '\n' || text[i] == '\r' ? ' ' : text[i];
  char line[256];
  size_t len = 0;
  const char* const parts[] = {"leakscope: ", name, "='",       shown,
                               "' is not ",   what, "; using ", digits};
  for (const char* part : parts) Append(line, sizeof line - 1, &len, part);
  line[len++] = '\n';
  ssize_t ignored = write(STDERR_FILENO, line, len);
  (void)ignored;
}

void WarnLabelsTooLong(size_t length, size_t max) {
  char line[128], n[21], m[21];
  char *pn = n, *pm = m;
  PutNumber(&pn, length);
  PutNumber(&pm, max);
  *pn = *pm = '\0';
  size_t len = 0;
  for (const char* part :
       {"leakscope: LEAKSCOPE_LABELS is ", static_cast<const char*>(n), " bytes, more than ",
        static_cast<const char*>(m), ": labels not sent\n"})
    Append(line, sizeof line, &len, part);
  ssize_t ignored = write(STDERR_FILENO, line, len);
  (void)ignored;
}

// A size variable (proto/byte_size.h syntax). One that cannot be read is a
// warning on stderr and the default, never a silently different value.
uint64_t ReadSize(const char* name, uint64_t fallback) {
  const char* text = getenv(name);
  uint64_t value = fallback;
  if (text == nullptr || ParseByteSize(text, &value)) return value;
  char what[64] = {};
  size_t len = 0;
  const char* const parts[] = {"a size (e.g. ", kByteSizeExamples, ")"};
  for (const char* part : parts) Append(what, sizeof what - 1, &len, part);
  WarnUnreadable(name, text, what, fallback);
  return fallback;
}

// Bytes per thread ring. LEAKSCOPE_RING_SIZE is a size like every other;
// LEAKSCOPE_RING_KB, its older name, keeps meaning a number of KiB (so
// "512" is not silently 512 bytes) and yields to LEAKSCOPE_RING_SIZE.
uint64_t ReadRingBytes() {
  const char* kb_text = getenv("LEAKSCOPE_RING_KB");
  if (getenv("LEAKSCOPE_RING_SIZE") != nullptr || kb_text == nullptr) {
    if (kb_text != nullptr) {
      static const char kIgnored[] =
          "leakscope: LEAKSCOPE_RING_KB ignored: LEAKSCOPE_RING_SIZE is set\n";
      ssize_t ignored = write(STDERR_FILENO, kIgnored, sizeof kIgnored - 1);
      (void)ignored;
    }
    return ReadSize("LEAKSCOPE_RING_SIZE", kDefaultRingBytes);
  }
  bool digits = *kb_text != '\0';
  for (const char* p = kb_text; *p != '\0'; ++p) digits = digits && *p >= '0' && *p <= '9';
  uint64_t kb = 0;
  if (!digits || !ParseByteSize(kb_text, &kb) || kb > (UINT64_MAX >> 10)) {
    WarnUnreadable("LEAKSCOPE_RING_KB", kb_text,
                   "a number of KiB (LEAKSCOPE_RING_SIZE takes 512K, 4M)", kDefaultRingBytes >> 10);
    return kDefaultRingBytes;
  }
  return kb << 10;
}

// The drain period in ms, 1 to 100 as documented. A longer one is the
// longest (the user asked for few passes), anything unreadable the default;
// both say so, never a silently different number.
uint32_t ReadFlushMs() {
  constexpr uint64_t kDefault = 10, kLongest = 100;
  const char* text = getenv("LEAKSCOPE_FLUSH_MS");
  if (text == nullptr) return kDefault;
  const uint64_t ms = ParseU64(text, 0);
  if (ms >= 1 && ms <= kLongest) return static_cast<uint32_t>(ms);
  const uint64_t used = ms > kLongest ? kLongest : kDefault;
  WarnUnreadable("LEAKSCOPE_FLUSH_MS", text, "a number of milliseconds from 1 to 100", used);
  return static_cast<uint32_t>(used);
}

}  // namespace

void LoadConfig(Config* c) {
  if (const char* labels = getenv("LEAKSCOPE_LABELS")) {
    if (std::strlen(labels) < sizeof c->labels)
      std::memcpy(c->labels, labels, std::strlen(labels) + 1);
    else  // cut, a label would change its value
      WarnLabelsTooLong(std::strlen(labels), sizeof c->labels - 1);
  }
  if (const char* s = getenv("LEAKSCOPE_SOCKET")) {
    if (std::strlen(s) < sizeof c->socket_path) {
      std::memcpy(c->socket_path, s, std::strlen(s) + 1);
    } else {
      // Cut, it would name another socket: a collector the user never chose.
      WarnSocketTooLong(std::strlen(s), sizeof c->socket_path - 1);
    }
  }
  c->sample_interval = ReadSize("LEAKSCOPE_SAMPLE_INTERVAL", kDefaultSampleInterval);
  if (c->sample_interval == 0) c->sample_interval = 1;
  c->seed = ParseU64(getenv("LEAKSCOPE_SEED"), 0);
  const char* lossless = getenv("LEAKSCOPE_LOSSLESS");
  c->lossless = lossless && lossless[0] == '1';
  const char* alloc = getenv("LEAKSCOPE_ALLOCATOR");
  c->use_mimalloc = alloc && std::strcmp(alloc, "mimalloc") == 0;
  c->ring_words = RingWords(ReadRingBytes());
  const char* cache = getenv("LEAKSCOPE_STACK_CACHE");
  c->stack_cache = !(cache && cache[0] == '0');
  const char* no_follow = getenv("LEAKSCOPE_NO_FOLLOW");
  c->no_follow = no_follow && no_follow[0] == '1';
  const char* reach = getenv("LEAKSCOPE_REACHABILITY");
  c->reachability = reach && reach[0] == '1';
  const char* fold = getenv("LEAKSCOPE_FOLD");
  c->fold = !(fold && fold[0] == '0');
  c->flush_interval_ms = ReadFlushMs();
}

}  // namespace leakscope::preload
