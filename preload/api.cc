// The in-process API (include/leakscope.h): the symbols the header's weak
// references bind to when the shim is loaded. Questions for the collector go
// through the drain (ExchangeWithCollector), so they follow every event the
// calling thread recorded; the answer is read from the same socket with a
// deadline, so the program never waits long for an absent or stuck collector.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "clock.h"
#include "drain.h"
#include "query_wire.h"
#include "shim.h"

namespace leakscope::preload {
namespace {

// A reply with a report's bytes may be up to 64 MiB more
// (collector/query_handler.h, kMaxReportReplyBytes).
constexpr uint32_t kMaxReplySize = (1 << 20) + (64u << 20);
constexpr int kDefaultTimeoutMs = 5000;

std::atomic<uint32_t> g_next_query_id{1};
pthread_mutex_t g_ask_mu = PTHREAD_MUTEX_INITIALIZER;

bool TimedLock(pthread_mutex_t* mu, int seconds) {
  timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += seconds;
  return pthread_mutex_timedlock(mu, &deadline) == 0;
}

int TimeoutMs() {
  const char* v = getenv("LEAKSCOPE_QUERY_TIMEOUT_MS");  // getenv does not allocate
  if (!v || !*v) return kDefaultTimeoutMs;
  const long ms = strtol(v, nullptr, 10);
  return ms > 0 && ms < 600000 ? int(ms) : kDefaultTimeoutMs;
}

struct Await {
  uint32_t id = 0;
  int timeout_ms = 0;
  ReplyInfo* reply = nullptr;
  ByteBuffer* body = nullptr;
  bool answered = false;
};

// Reads exactly n bytes before the deadline (monotonic ns).
bool ReadExactly(int fd, char* out, size_t n, uint64_t deadline_ns) {
  while (n > 0) {
    const uint64_t now = MonotonicNs();
    if (now >= deadline_ns) return false;
    pollfd p{fd, POLLIN, 0};
    const int wait_ms = int((deadline_ns - now + 999999) / 1000000);
    if (poll(&p, 1, wait_ms) <= 0) continue;  // EINTR or timeout: the loop rechecks
    const ssize_t got = recv(fd, out, n, MSG_DONTWAIT);
    if (got == 0) return false;  // the collector closed the stream
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return false;
    }
    out += got;
    n -= size_t(got);
  }
  return true;
}

// Replies to earlier queries that timed out are skipped by id.
void ReadReply(int fd, Await* a) {
  const uint64_t deadline = MonotonicNs() + uint64_t(a->timeout_ms) * 1000000;
  for (;;) {
    unsigned char len[4];
    if (!ReadExactly(fd, reinterpret_cast<char*>(len), 4, deadline)) return;
    const uint32_t n = len[0] | len[1] << 8 | len[2] << 16 | uint32_t(len[3]) << 24;
    if (n > kMaxReplySize) return;
    a->body->Clear();
    a->body->Resize(n);
    if (a->body->size() != n || !ReadExactly(fd, a->body->data(), n, deadline)) return;
    ReplyInfo r = *a->reply;
    if (leakscope_live* live = r.live) live->site_count = 0;
    if (!DecodeReply(a->body->data(), n, &r) || r.id != a->id) continue;
    *a->reply = r;
    a->answered = true;
    return;
  }
}

int StatusOf(ExchangeResult r, bool answered) {
  if (r == ExchangeResult::kNoCollector) return LEAKSCOPE_NO_COLLECTOR;
  if (r == ExchangeResult::kBusy || !answered) return LEAKSCOPE_TIMEOUT;
  return LEAKSCOPE_OK;
}

// One question and its answer, as the shim: this thread's own allocations
// meanwhile (there should be none) are not the program's. The reply's bytes
// stay in *body (a buffer of Ask's own if null) for the caller.
int Ask(QueryInfo q, ReplyInfo* reply, ByteBuffer* body = nullptr, int timeout_ms = 0) {
  if (!g_shim.recording) return LEAKSCOPE_NOT_ACTIVE;
  ThreadState& t = t_thread;
  const bool was_busy = t.busy;
  t.busy = true;
  q.id = g_next_query_id.fetch_add(1, std::memory_order_relaxed);
  ByteBuffer own_body;
  Await a;
  a.id = q.id;
  a.timeout_ms = timeout_ms > 0 ? timeout_ms : TimeoutMs();
  a.reply = reply;
  a.body = body ? body : &own_body;
  ByteBuffer msg;
  EncodeQuery(q, &msg);
  ExchangeResult r = ExchangeResult::kBusy;
  // One exchange at a time: a reply is read by the thread that asked.
  if (TimedLock(&g_ask_mu, 2)) {
    int fd = -1;
    r = SendQuery(msg, &fd);
    if (r == ExchangeResult::kDone) {
      ReadReply(fd, &a);
      close(fd);
    }
    pthread_mutex_unlock(&g_ask_mu);
  }
  t.busy = was_busy;
  const int status = StatusOf(r, a.answered);
  if (status == LEAKSCOPE_OK && !reply->ok) return LEAKSCOPE_ERROR;
  return status;
}

}  // namespace

// reachability_wait.cc
int AskReachabilityScan(int timeout_ms) {
  QueryInfo q;
  q.kind = QueryKind::kReachability;
  ReplyInfo reply;
  return Ask(q, &reply, nullptr, timeout_ms);
}

}  // namespace leakscope::preload

using namespace leakscope::preload;

extern "C" {

__attribute__((visibility("default"))) int leakscope_shim_active(void) {
  return g_shim.recording ? 1 : 0;
}

__attribute__((visibility("default"))) void leakscope_shim_mark(leakscope_mark_t* out) {
  QueryInfo q;
  q.kind = QueryKind::kMark;
  ReplyInfo reply;
  out->status = Ask(q, &reply);
  out->seq = out->status == LEAKSCOPE_OK ? reply.mark : 0;
}

__attribute__((visibility("default"))) int leakscope_shim_live_since(
    uint64_t seq, const leakscope_live_options* options, leakscope_live* out) {
  QueryInfo q;
  q.kind = QueryKind::kLiveSince;
  q.mark = seq;
  q.max_sites = options && options->max_sites && options->max_sites < LEAKSCOPE_MAX_SITES
                    ? options->max_sites
                    : LEAKSCOPE_MAX_SITES;
  q.allow_functions = options ? options->allow_functions : nullptr;
  q.stop_functions = options ? options->stop_functions : nullptr;
  ReplyInfo reply;
  reply.live = out;
  return out->status = Ask(q, &reply);
}

// The collector never writes where a client says: with a path, it sends the
// report's bytes and this process writes them there, with its own rights.
__attribute__((visibility("default"))) int leakscope_shim_snapshot(const char* path) {
  if (!path || !*path) return leakscope_shim_snapshot_labeled(nullptr, nullptr);
  QueryInfo q;
  q.kind = QueryKind::kSnapshot;
  q.send_report = true;
  ReplyInfo reply;
  ByteBuffer body;
  const int status = Ask(q, &reply, &body);
  if (status != LEAKSCOPE_OK) return status;
  if (!reply.report) return LEAKSCOPE_ERROR;  // an older collector: it sent no bytes
  const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return LEAKSCOPE_ERROR;
  bool ok = true;
  for (size_t done = 0; ok && done < reply.report_size;) {
    const ssize_t n = write(fd, reply.report + done, reply.report_size - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += size_t(n);
  }
  return close(fd) == 0 && ok ? LEAKSCOPE_OK : LEAKSCOPE_ERROR;
}

__attribute__((visibility("default"))) int leakscope_shim_snapshot_labeled(
    const char* label, leakscope_snapshot_info* out) {
  QueryInfo q;
  q.kind = QueryKind::kSnapshot;
  q.label = label;
  ReplyInfo reply;
  reply.snapshot = out;
  const int status = Ask(q, &reply);
  if (out) out->status = status;
  return status;
}

__attribute__((visibility("default"))) void leakscope_shim_pause(void) {
  ++t_thread.paused;
}

__attribute__((visibility("default"))) void leakscope_shim_resume(void) {
  if (t_thread.paused) --t_thread.paused;
}

__attribute__((visibility("default"))) void leakscope_shim_report_alloc(void* ptr, size_t size) {
  RecordExternalAlloc(ptr, size);
}

__attribute__((visibility("default"))) void leakscope_shim_report_free(void* ptr) {
  RecordExternalFree(ptr);
}

}  // extern "C"
