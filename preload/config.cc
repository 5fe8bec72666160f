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

// A size variable (proto/byte_size.h syntax). One that cannot be read is a
// warning on stderr and the default, never a silently different value. Runs
// at the first allocation: stack buffers and write(2), nothing else.
uint64_t ReadSize(const char* name, uint64_t fallback) {
  const char* text = getenv(name);
  uint64_t value = fallback;
  if (text == nullptr || ParseByteSize(text, &value)) return value;
  char digits[21];
  char* end = digits;
  PutNumber(&end, fallback);
  *end = '\0';
  char shown[65] = {};  // at most 64 characters of the value, on one line
  for (size_t i = 0; i < sizeof shown - 1 && text[i] != '\0'; ++i)
    shown[i] = text[i] == '\n' || text[i] == '\r' ? ' ' : text[i];
  char line[256];
  size_t len = 0;
  const char* const parts[] = {
      "leakscope: ",     name,        "='",  shown, "' is not a size (e.g. ",
      kByteSizeExamples, "); using ", digits};
  for (const char* part : parts) Append(line, sizeof line - 1, &len, part);
  line[len++] = '\n';
  ssize_t ignored = write(STDERR_FILENO, line, len);
  (void)ignored;
  return fallback;
}

}  // namespace

void LoadConfig(Config* c) {
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
  uint64_t kb = ParseU64(getenv("LEAKSCOPE_RING_KB"), 512);
  uint64_t words = 1024;
  while (words * 8 < kb * 1024 && words < (1u << 24)) words *= 2;
  c->ring_words = static_cast<uint32_t>(words);
  const char* cache = getenv("LEAKSCOPE_STACK_CACHE");
  c->stack_cache = !(cache && cache[0] == '0');
  const char* no_follow = getenv("LEAKSCOPE_NO_FOLLOW");
  c->no_follow = no_follow && no_follow[0] == '1';
  const char* fold = getenv("LEAKSCOPE_FOLD");
  c->fold = !(fold && fold[0] == '0');
  c->flush_interval_ms = static_cast<uint32_t>(ParseU64(getenv("LEAKSCOPE_FLUSH_MS"), 10));
  if (c->flush_interval_ms == 0 || c->flush_interval_ms > 100) c->flush_interval_ms = 10;
}

}  // namespace leakscope::preload
