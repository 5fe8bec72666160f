// The drain thread. Every flush interval (10 ms by default), or sooner when a
// ring passes half full, one pass:
//   1. reads a timestamp watermark W, then takes from every ring the records
//      older than W (see docs/ARCHITECTURE.md for why that keeps a free of an
//      address ahead of its reuse on another thread);
//   2. merges them by timestamp across rings (a small binary heap of cursors);
//   3. interns each stack (StackTable), encoding a stack the first time only;
//   4. collects events in batches of 16 Ki, folds in each the allocations
//      freed within it (TransientFolder, every-allocation mode);
//   5. appends the rest as packed columns, cuts a message at 64 Ki events,
//      compresses it with LZ4 and writes the frame to the collector.
// One mutex serializes passes between this thread, the exit flush and fork;
// producers never take it.
#include "drain.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "../proto/drain_progress.h"
#include "clock.h"
#include "collector_connection.h"
#include "event_record.h"
#include "loader_probe.h"
#include "memory_figures.h"
#include "module_map.h"
#include "owned_fd.h"
#include "reachability_wait.h"
#include "sandbox.h"
#include "shim.h"
#include "stack_table.h"
#include "transient_folder.h"
#include "wire_writer.h"

namespace leakscope::preload {
namespace {

constexpr size_t kMaxEventsPerMessage = 64 * 1024;
// wire.MapEvents go straight into the message (~20 bytes each, a stack the
// first time): a message is sent once it holds this many.
constexpr size_t kMaxMapEventsPerMessage = 16 * 1024;
constexpr uint64_t kStatsIntervalNs = 100 * 1000 * 1000;
// mallinfo2() takes every arena's lock in turn (316 us with 257 arenas), and
// smaps makes the kernel walk every mapping under the process's mmap lock
// (46 ms with 10,000 mappings): at most once a second, and at most 1% of the
// time (docs/ARCHITECTURE.md).
constexpr uint64_t kMemoryIntervalNs = 1000 * 1000 * 1000;
constexpr uint64_t kMemoryCostShare = 100;
// A pass that took this many events goes straight on to the next one: the
// program is producing faster than a wake-up per half ring can follow.
constexpr uint64_t kBusyPassEvents = 8 * 1024;
// How long an exit path waits for the drain thread to read the module map
// for it, and the last message for a refresh holding the pending modules.
constexpr int kExitModulesWaitMs = 200;
constexpr int kLastModulesWaitMs = 50;

struct Cursor {
  ThreadRing* ring;
  uint64_t pos, end, ts;
  uint64_t prev_ts;  // of the record before pos (a packed record's delta is from it)
};

// Cache-line aligned, so that its size is too: the drain thread writes its
// fields all the time, and nothing the program's threads read may share a
// line with them (g_drain did, after the static storage below, and every
// WakeDrain() missed the cache).
struct alignas(64) Drain {
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  std::atomic<uint32_t> wake{0};  // futex word
  std::atomic<bool> sleeping{false};
  std::atomic<bool> running{false};
  std::atomic<bool> stop{false};
  std::atomic<bool> finished{false};
  CollectorConnection conn;
  // /proc/self/stat, opened once and read with pread (each read is fresh):
  // no open every 100 ms, and still readable once the program is in seccomp
  // mode. Reopened if the program closed it, unless it is in seccomp mode.
  OwnedFd proc_stat;
  OwnedFd smaps;  // /proc/self/smaps, the same way
  MemoryFigures memory;
  bool memory_pending = false;  // taken, not sent yet
  bool memory_at_end = false;   // the final pass may take them (not a signal path)
  uint64_t last_memory_ns = 0;
  uint64_t memory_interval_ns = kMemoryIntervalNs;  // longer when reading them took long
  StackTable stacks;
  TransientFolder batch;
  bool fold = false;  // every allocation, losslessly: see TransientFolder
  EventColumns columns;
  size_t map_events = 0;  // wire.MapEvents in msg
  ByteBuffer msg, frame, cmdline;
  // One cursor per ring with records to take, however many threads the
  // program runs (GrowCursors): a ring left out of a pass would let a later
  // event of one thread overtake an earlier one of another.
  Cursor* cursors = nullptr;  // a heap ordered by next timestamp
  size_t ncursors = 0;
  Cursor* done = nullptr;  // rings finished in this pass (their positions to release)
  size_t ndone = 0;
  size_t cursor_capacity = 0;  // of each of the two arrays
  char exe[4096] = {};
  HelloInfo hello;
  bool hello_sent = false;
  uint64_t start_mono_ns = 0;
  uint64_t last_stats_ns = 0;
  uint64_t rss_bytes = 0;
  bool has_exit_status = false;
  int exit_status = 0;
  const char* how = "destructor";
  uint64_t forks = 0;        // fork markers sent on this process's streams
  bool exit_marked = false;  // the ExitMarker went out (under `mu`)
  uint64_t pass_events = 0;  // records the last pass took
  // Threads waiting for `mu` (exit, exec, fork, a query): the drain thread
  // then sleeps between passes even when busy, or it could take the lock
  // back each time before they run.
  std::atomic<int> lock_waiters{0};
  // Module map refreshes asked for by exit paths and done by the drain
  // thread (module_map.h: only it reads the loader's list), counted.
  std::atomic<uint32_t> modules_asked{0}, modules_read{0};
  pid_t drain_tid = 0;
};

alignas(64) Drain* g_drain;  // never destroyed: exit() may run while it is in use

// proto/drain_progress.h, at the address the hello gives: the collector
// reads it while the program's threads are stopped for a scan. Static, so it
// outlives every stream; the layout is DrainProgressWords's.
struct alignas(64) DrainProgress {
  uint64_t magic = wire::kDrainProgressMagic;
  std::atomic<uint64_t> drain_tid{0};
  std::atomic<uint64_t> passes_begun{0};
  std::atomic<uint64_t> passes_done{0};
};
static_assert(sizeof(std::atomic<uint64_t>) == 8 &&
              offsetof(DrainProgress, passes_done) ==
                  offsetof(wire::DrainProgressWords, passes_done));
DrainProgress g_progress;

// The fork in progress on this thread (two threads may fork at once): whether
// its prepare handler got the drain lock, and the marker it sent (0: none,
// the child inherits nothing). The child's only thread is the forking one.
__thread bool t_fork_locked __attribute__((tls_model("initial-exec")));
__thread uint64_t t_fork_marker __attribute__((tls_model("initial-exec")));
// Whether its prepare handler holds the module map's lock (ModuleMap::LockForFork).
__thread bool t_fork_modules_locked __attribute__((tls_model("initial-exec")));
// Whether the loader was suspect before this fork (the parent is itself a
// child whose probe has not returned): the parent handler puts it back.
__thread bool t_fork_loader_was_suspect __attribute__((tls_model("initial-exec")));
__thread bool t_drain_thread __attribute__((tls_model("initial-exec")));

// A short busy wait that lets the sibling hyperthread (or the hypervisor) in.
inline void CpuRelax() {
#if defined(__x86_64__)
  for (int i = 0; i < 32; ++i) _mm_pause();
#else
  sched_yield();
#endif
}

long Futex(std::atomic<uint32_t>* word, int op, uint32_t val, const timespec* timeout) {
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), op, val, timeout, nullptr, 0);
}

// /proc/self/stat into buf (NUL-terminated); false if it cannot be read.
bool ReadProcStat(Drain* d, char* buf, size_t size) {
  if (!d->proc_stat.Verify()) {
    if (Sandboxed()) return false;
    if (!d->proc_stat.Adopt(open("/proc/self/stat", O_RDONLY | O_CLOEXEC))) return false;
  }
  const ssize_t n = pread(d->proc_stat.get(), buf, size - 1, 0);
  if (n <= 0) return false;
  buf[n] = 0;
  return true;
}

// Field `field` (1-based, as in proc(5)) of a /proc/self/stat line, or null.
const char* StatField(const char* line, int field) {
  const char* p = strrchr(line, ')');  // the command name (field 2) may hold spaces
  if (!p || p[1] != ' ') return nullptr;
  ++p;  // at the space before field 3
  for (int at = 2; at < field; ++at) {
    if (*p != ' ') return nullptr;
    ++p;
    if (at + 1 == field) return p;
    while (*p && *p != ' ') ++p;
  }
  return nullptr;
}

uint64_t ReadRss(Drain* d) {
  char buf[1024];
  if (!ReadProcStat(d, buf, sizeof buf)) return d->rss_bytes;  // the last known
  const char* rss = StatField(buf, 24);                        // resident pages
  if (!rss) return d->rss_bytes;
  return uint64_t(strtoull(rss, nullptr, 10)) * uint64_t(sysconf(_SC_PAGESIZE));
}

// The memory figures, on the drain thread every kMemoryIntervalNs, and in
// the final pass of a normal exit (never a signal path: see memory_figures.h).
void MaybeTakeMemory(Drain* d, uint64_t now, bool final) {
  const bool due =
      t_drain_thread ? now - d->last_memory_ns >= d->memory_interval_ns : final && d->memory_at_end;
  if (!due) return;
  d->last_memory_ns = now;
  const uint64_t began = MonotonicNs();
  MemoryFigures m;
  ReadAllocatorFigures(g_shim.config.use_mimalloc && MimallocLoaded(), &m);
  if (!d->smaps.Verify() && !Sandboxed())
    d->smaps.Adopt(open("/proc/self/smaps", O_RDONLY | O_CLOEXEC));
  if (d->smaps.valid()) ReadSmapsFigures(d->smaps.get(), &m);
  d->memory = m;
  d->memory_pending = true;
  d->memory_interval_ns = std::max(kMemoryIntervalNs, (MonotonicNs() - began) * kMemoryCostShare);
}

void ReadCmdline(ByteBuffer* out) {
  out->Clear();
  int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out->PutBytes(buf, size_t(n));
  close(fd);
}

void FillHello(Drain* d, bool forked) {
  // A child forked in seccomp mode keeps its parent's: no readlink, no open.
  if (!forked || !Sandboxed()) {
    ssize_t n = readlink("/proc/self/exe", d->exe, sizeof d->exe - 1);
    d->exe[n > 0 ? n : 0] = 0;
    Modules().SetMainProgram(d->exe);
    ReadCmdline(&d->cmdline);
  }
  d->hello.pid = uint32_t(getpid());
  d->hello.ppid = uint32_t(getppid());
  d->hello.exe = d->exe;
  d->hello.cmdline = d->cmdline.data();
  d->hello.cmdline_size = d->cmdline.size();
  d->hello.sampling_interval_bytes = g_shim.config.sample_interval;
  d->hello.flush_interval_ms = g_shim.config.flush_interval_ms;
  d->hello.labels = g_shim.config.labels;
  d->hello.drain_progress_address = reinterpret_cast<uintptr_t>(&g_progress);
  d->hello.forked = forked;
  d->hello.start_time_unix_ns = RealtimeNs();
  if (forked) d->hello.fork_time_unix_ns = d->hello.start_time_unix_ns;
  d->start_mono_ns = MonotonicNs();
}

uint64_t SinceStart(const Drain* d) {
  return MonotonicNs() - d->start_mono_ns;
}

void CountLost(uint64_t n) {
  g_shim.dropped_events.fetch_add(n, std::memory_order_relaxed);
}

// Sends the message built so far (with events, stats, goodbye) as one frame.
void SendMessage(Drain* d, bool with_stats, const char* goodbye) {
  const uint64_t events = d->columns.count() + d->map_events;
  d->map_events = 0;
  if (!d->conn.connected()) {
    CountLost(events);
    d->columns.EncodeAndClear(0, &d->msg);
    d->msg.Clear();
    return;
  }
  // The last message waits a little for a refresh of the drain thread's.
  Modules().TakePending(&d->msg, goodbye ? kLastModulesWaitMs : 0);
  if (events) d->columns.EncodeAndClear(SinceStart(d), &d->msg);
  if (with_stats) {
    StatsInfo s;
    s.dropped_events = g_shim.dropped_events.load(std::memory_order_relaxed);
    s.rss_bytes = d->rss_bytes;
    s.reentrant_events = g_shim.reentrant_events.load(std::memory_order_relaxed);
    s.threads_seen = g_shim.threads_seen.load(std::memory_order_relaxed);
    s.time_ns = SinceStart(d);
    s.memory = d->memory_pending ? &d->memory : nullptr;
    d->memory_pending = false;
    EncodeStats(s, &d->msg);
  }
  if (goodbye) EncodeGoodbye(d->has_exit_status, d->exit_status, goodbye, &d->msg);
  if (d->msg.failed()) {
    // Out of memory while encoding (a process at its memory limit): a frame
    // with a field cut short would end the whole stream at the collector.
    // Drop this one; stacks and modules it carried are sent again.
    CountLost(events);
    d->stacks.Clear();
    Modules().Resend();
    d->msg.Clear();
    return;
  }
  if (d->msg.empty()) return;
  d->frame.Clear();
  if (!EncodeFrame(d->msg, &d->frame) || !d->conn.Send(d->frame.data(), d->frame.size())) {
    CountLost(events);
    d->stacks.Clear();  // what they referred to never arrived
  }
  d->msg.Clear();
}

void OnConnected(Drain* d) {
  // A forked child's first stream keeps the parent's stack ids: the collector
  // seeds it with the parent's stacks as of the fork marker. Any later stream
  // starts afresh and claims nothing.
  if (!d->hello.fork_id) d->stacks.Clear();
  AllowCollectorToTrace(d->conn.fd());
  Modules().Resend();
  d->frame.Clear();
  EncodeStreamHeader(&d->frame);
  d->conn.Send(d->frame.data(), d->frame.size());
  d->hello.fork_markers_sent = d->forks;
  EncodeHello(d->hello, &d->msg);
  d->hello.fork_id = 0;
  d->hello_sent = true;
  SendMessage(d, true, nullptr);
}

// --- merge by timestamp -----------------------------------------------------
bool Before(const Cursor& a, const Cursor& b) {
  return a.ts < b.ts;
}

void SiftDown(Cursor* h, size_t n, size_t i) {
  for (;;) {
    size_t m = i, l = 2 * i + 1, r = l + 1;
    if (l < n && Before(h[l], h[m])) m = l;
    if (r < n && Before(h[r], h[m])) m = r;
    if (m == i) return;
    Cursor t = h[i];
    h[i] = h[m];
    h[m] = t;
    i = m;
  }
}

void Release(const Cursor& c) {
  c.ring->drain_last_time = c.prev_ts;
  c.ring->ring.ReleaseTo(c.pos);
}

void ReleaseConsumed(Drain* d) {
  for (size_t i = 0; i < d->ncursors; ++i) Release(d->cursors[i]);
  for (size_t i = 0; i < d->ndone; ++i) Release(d->done[i]);
}

// The id of a stack, its frames into the message the first time.
uint32_t Intern(Drain* d, const uint64_t* pcs, uint32_t frames) {
  if (!d->conn.connected()) return 0;
  bool is_new = false;
  const uint32_t id = d->stacks.Intern(pcs, frames, &is_new);
  if (is_new) EncodeStack(id, pcs, frames, &d->msg);
  return id;
}

// The stack id of an allocation record of `ring`: from its frames, or from
// the ring's mirror of the stack cache entry it refers to (event_record.h).
uint32_t StackOf(Drain* d, ThreadRing* ring, const uint64_t* rec, uint32_t ref) {
  const uint64_t header = rec[0];
  const uint32_t entry = StackCache::RefEntry(ref);
  if (HeaderKind(header) == EventKind::kAlloc) {
    const uint32_t frames = std::min<uint32_t>(HeaderFrames(header), kMaxFrames);
    const uint64_t* pcs = rec + kRecordHeaderWords;
    const uint32_t id = Intern(d, pcs, frames);
    if (ref && entry < StackCache::kEntries) {
      ThreadRing::MirrorEntry& m = ring->mirror[entry];
      m.ref = ref;
      m.frames = frames;
      std::memcpy(m.pcs, pcs, frames * sizeof(uint64_t));
      m.id = id;
      m.id_epoch = d->stacks.epoch();
    }
    return id;
  }
  // The record that stored this entry came earlier in the same ring.
  if (entry >= StackCache::kEntries || ring->mirror[entry].ref != ref) return 0;
  ThreadRing::MirrorEntry& m = ring->mirror[entry];
  if (m.id == 0 || m.id_epoch != d->stacks.epoch()) {
    m.id = Intern(d, m.pcs, m.frames);
    m.id_epoch = d->stacks.epoch();
  }
  return m.id;
}

// A mapping record (event_record.h) into the message, as a wire.MapEvent.
void ConsumeMapping(Drain* d, const uint64_t* rec) {
  enum : uint32_t { kMap = 1, kUnmap = 2, kRemapBegin = 3, kRemapEnd = 4 };  // wire.MapEvent.Kind
  ++d->map_events;
  switch (HeaderKind(rec[0])) {
    case EventKind::kMap: {
      const uint32_t frames = std::min<uint32_t>(HeaderFrames(rec[0]), kMaxFrames);
      const uint32_t id = Intern(d, rec + kRecordHeaderWords, frames);
      return EncodeMapEvent(kMap, rec[2], rec[3], id, 0, false, &d->msg);
    }
    case EventKind::kUnmap:
      return EncodeMapEvent(kUnmap, rec[2], rec[3], 0, 0, false, &d->msg);
    case EventKind::kRemapBegin:
    case EventKind::kRemapBeginKeepOld:
      return EncodeMapEvent(kRemapBegin, rec[2], rec[3], 0, 0,
                            HeaderKind(rec[0]) == EventKind::kRemapBeginKeepOld, &d->msg);
    default:  // kRemapEnd
      return EncodeMapEvent(kRemapEnd, rec[2], rec[4], 0, rec[3], false, &d->msg);
  }
}

// One ring record into the batch.
void Consume(Drain* d, ThreadRing* ring, const uint64_t* rec) {
  const EventKind kind = HeaderKind(rec[0]);
  if (IsFreeKind(kind)) return d->batch.AddFree(FreeAddress(rec));
  if (IsMappingKind(kind)) return ConsumeMapping(d, rec);
  const AllocFields a = DecodeAlloc(rec);
  d->batch.AddAlloc(a.address, a.size, StackOf(d, ring, rec, a.cache_ref));
}

// The timestamp of the record at `pos` (event_record.h: in its first word or
// its second, or a delta from `prev_ts`, the record's before it).
inline uint64_t TimeAt(const RingBuffer& ring, uint64_t pos, uint64_t prev_ts) {
  return RecordTime(ring.WordAt(pos), prev_ts, [&] { return ring.WordAt(pos + 1); });
}

void FlushBatch(Drain* d) {
  const size_t n = d->batch.size();
  using Mode = TransientFolder::Mode;
  Mode mode = Mode::kSendAll;
  if (d->fold) {
    const bool lost = g_shim.dropped_events.load(std::memory_order_relaxed) != 0 ||
                      g_shim.reentrant_events.load(std::memory_order_relaxed) != 0;
    mode = lost ? Mode::kFoldAfterLoss : Mode::kFold;
  }
  if (!d->batch.FlushInto(&d->columns, mode)) CountLost(n);  // out of memory
}

// The batch is full: into the columns, and out when they make a message.
void FlushFullBatch(Drain* d) {
  FlushBatch(d);
  if (d->columns.count() < kMaxEventsPerMessage && d->map_events < kMaxMapEventsPerMessage) return;
  ReleaseConsumed(d);
  SendMessage(d, false, nullptr);
}

// Room for `rings` cursors. From mmap, not the shim's heap: passes also run
// in fatal-signal handlers. The old arrays' contents are kept.
bool GrowCursors(Drain* d, size_t rings) {
  if (rings <= d->cursor_capacity) return true;
  size_t capacity = d->cursor_capacity ? d->cursor_capacity : 256;
  while (capacity < rings) capacity *= 2;
  const size_t bytes = 2 * capacity * sizeof(Cursor);
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return false;
  Cursor* cursors = static_cast<Cursor*>(mem);
  Cursor* done = cursors + capacity;
  if (d->cursor_capacity) {
    std::memcpy(cursors, d->cursors, d->ncursors * sizeof(Cursor));
    std::memcpy(done, d->done, d->ndone * sizeof(Cursor));
    munmap(d->cursors, 2 * d->cursor_capacity * sizeof(Cursor));
  }
  d->cursors = cursors;
  d->done = done;
  d->cursor_capacity = capacity;
  return true;
}

void GatherCursors(Drain* d, uint64_t watermark) {
  d->ncursors = 0;
  for (ThreadRing* r = FirstThreadRing(); r; r = r->next) {
    // More rings than ever before: grow. Out of memory (a process at its
    // limit), the rings left over wait for the next pass.
    if (d->ncursors == d->cursor_capacity && !GrowCursors(d, d->ncursors + 1)) break;
    const uint64_t pos = r->ring.ReadPos(), end = r->ring.WritePos();
    if (pos == end) continue;
    const uint64_t ts = TimeAt(r->ring, pos, r->drain_last_time);
    if (ts >= watermark) continue;
    d->cursors[d->ncursors++] = Cursor{r, pos, end, ts, r->drain_last_time};
  }
  for (size_t i = d->ncursors / 2; i-- > 0;) SiftDown(d->cursors, d->ncursors, i);
}

void MergeRings(Drain* d, uint64_t watermark) {
  uint64_t taken = 0;
  GatherCursors(d, watermark);
  d->ndone = 0;
  uint64_t rec[kMaxRecordWords];
  while (d->ncursors) {
    Cursor& c = d->cursors[0];
    // The top ring's records come next for as long as they are no later than
    // the other rings' next ones: take them in a run, without touching the
    // heap (with one busy thread, a run is the whole pass).
    uint64_t next_ts = ~0ull;
    if (d->ncursors > 1) next_ts = d->cursors[1].ts;
    if (d->ncursors > 2 && d->cursors[2].ts < next_ts) next_ts = d->cursors[2].ts;
    const uint64_t until = next_ts < watermark ? next_ts + 1 : watermark;  // ts < until
    const RingBuffer& ring = c.ring->ring;
    bool finished = false;
    do {
      uint32_t words = RecordWords(ring.WordAt(c.pos));
      if (words > kMaxRecordWords) words = kMaxRecordWords;
      if (d->batch.prepared())
        Consume(d, c.ring, ring.View(c.pos, rec, words));
      else
        CountLost(1);  // the drain never got its memory
      ++taken;
      c.pos += words;
      c.prev_ts = c.ts;
      finished = c.pos == c.end || (c.ts = TimeAt(ring, c.pos, c.prev_ts)) >= watermark;
      if (d->batch.full() || d->map_events >= kMaxMapEventsPerMessage) FlushFullBatch(d);
    } while (!finished && c.ts < until);
    if (finished) {
      d->done[d->ndone++] = c;
      d->cursors[0] = d->cursors[--d->ncursors];
    }
    SiftDown(d->cursors, d->ncursors, 0);
  }
  FlushBatch(d);
  ReleaseConsumed(d);
  d->pass_events = taken;
}

// One pass; `final` takes everything, whatever its timestamp.
void Pass(Drain* d, bool final, const char* goodbye) {
  // Passes run under `mu`, one at a time: this one's number.
  const uint64_t number = g_progress.passes_begun.fetch_add(1, std::memory_order_seq_cst) + 1;
  const uint64_t now = MonotonicNs();
  // Once a pass, not per event: is the socket still ours (owned_fd.h)?
  d->conn.Verify();
  if (!d->conn.connected() && Sandboxed())
    NoteOutage(g_shim.dropped_events.load(std::memory_order_relaxed));
  else if (d->conn.MaybeConnect(g_shim.config.socket_path, now) ||
           (d->conn.connected() && !d->hello_sent))  // a fork child's (DrainAfterForkChild)
    OnConnected(d);
#if defined(__x86_64__)
  _mm_lfence();  // the watermark is read before any ring position
  const uint64_t watermark = final ? ~0ull : EventWatermarkNow();
  _mm_lfence();
#else
  const uint64_t watermark = final ? ~0ull : EventWatermarkNow();
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
  MergeRings(d, watermark);
  for (ThreadRing* r = FirstThreadRing(); r; r = r->next) RecycleIfDrained(r);
  const bool stats = final || now - d->last_stats_ns >= kStatsIntervalNs;
  if (stats) {
    d->last_stats_ns = now;
    d->rss_bytes = ReadRss(d);
    MaybeTakeMemory(d, now, final);
    ReleaseRingsOfGoneThreads(g_shim.owner_pid.load(std::memory_order_relaxed));
  }
  SendMessage(d, stats, goodbye);
  g_progress.passes_done.store(number, std::memory_order_release);
}

// True if woken (a ring past half full, a waiter), false if the flush
// interval passed.
bool SleepUntilWoken(Drain* d) {
  const uint32_t ms = g_shim.config.flush_interval_ms;
  timespec timeout = {0, long(ms) * 1000000L};
  d->sleeping.store(true, std::memory_order_seq_cst);
  if (d->wake.load(std::memory_order_acquire) == 0)
    Futex(&d->wake, FUTEX_WAIT_PRIVATE, 0, &timeout);
  d->sleeping.store(false, std::memory_order_relaxed);
  return d->wake.exchange(0, std::memory_order_relaxed) != 0;
}

// True when the drain thread is all that is left of the program: the other
// threads are gone, and the main thread, if it left with pthread_exit, is a
// zombie (the kernel still counts it until the process ends). Reads
// /proc/self/stat (state: field 3, threads: field 20) without allocating.
bool OnlyThisThreadLeft(Drain* d) {
  char buf[1024];
  if (!ReadProcStat(d, buf, sizeof buf)) return false;
  const char* state = StatField(buf, 3);
  const char* threads = StatField(buf, 20);
  if (!state || !threads) return false;
  // A loader probe stuck for good (loader_probe.h) is the shim's too.
  const long n = strtol(threads, nullptr, 10) - (ProbeThreadAlive() ? 1 : 0);
  return n == 1 || (n == 2 && *state == 'Z');
}

// The program's last thread left with pthread_exit: glibc would now call
// exit(0), but this thread still counts as alive. Do it for glibc.
void ExitIfLastThread() {
  const int status = 0;
  FinishProcess(&status, "pthread_exit");
  exit(0);
}

// The drain thread's module map refresh, and the exit paths' request for one.
void RefreshModules(Drain* d) {
  if (LoaderMayBeHeld()) {  // a fork child, until the probe says the loader is free
    StartLoaderProbe();
    return;
  }
  const uint32_t asked = d->modules_asked.load(std::memory_order_acquire);
  if (Modules().TryRefresh(false)) d->modules_read.store(asked, std::memory_order_release);
}

// An exit path wants a library loaded since the last pass in the map, but
// may not read the loader's list itself (module_map.h): it asks the drain
// thread and waits at most `ms`, polling (it may be a signal handler). A drain
// thread held inside the loader costs the wait, and the map stays as it was.
void AwaitModuleRefresh(Drain* d, int ms) {
  if (!d->running.load(std::memory_order_acquire) || LoaderMayBeHeld()) return;
  if (gettid() == d->drain_tid) {  // exit() on the drain thread itself
    Modules().TryRefresh(false);
    return;
  }
  const uint32_t want = d->modules_asked.fetch_add(1, std::memory_order_acq_rel) + 1;
  d->wake.store(1, std::memory_order_release);
  Futex(&d->wake, FUTEX_WAKE_PRIVATE, 1, nullptr);
  const uint64_t start = MonotonicNs();
  while (int32_t(d->modules_read.load(std::memory_order_acquire) - want) < 0) {
    if (MonotonicNs() - start >= uint64_t(ms) * 1000000u) return;
    timespec nap = {0, 100 * 1000};
    nanosleep(&nap, nullptr);
  }
}

void* DrainMain(void* arg) {
  Drain* d = static_cast<Drain*>(arg);
  t_thread.busy = true;  // allocations made by this thread are the shim's
  d->drain_tid = gettid();
  g_progress.drain_tid.store(uint64_t(d->drain_tid), std::memory_order_release);
  NameDrainThread();
  t_drain_thread = true;
  bool timed_out = false;
  while (!d->stop.load(std::memory_order_acquire)) {
    RefreshModules(d);  // never under `mu`: it may wait for the loader for good
    pthread_mutex_lock(&d->mu);
    const bool check_threads = MonotonicNs() - d->last_stats_ns >= kStatsIntervalNs;
    // A pass due to the timer alone waits while the collector is not reading
    // (busy writing another process's report): each small frame would take
    // ~1 KiB of the socket's buffer until a send timed out and cut the
    // stream. The events wait in the rings; a ring past half full wakes
    // this thread, and that pass sends.
    const bool wait = timed_out && d->conn.Backlogged();
    if (wait) d->pass_events = 0;
    if (!wait && !d->finished.load(std::memory_order_acquire)) Pass(d, false, nullptr);
    const bool last = check_threads && OnlyThisThreadLeft(d);
    pthread_mutex_unlock(&d->mu);
    if (last) ExitIfLastThread();
    timed_out = false;
    if (d->pass_events < kBusyPassEvents || d->lock_waiters.load(std::memory_order_relaxed))
      timed_out = !SleepUntilWoken(d);
  }
  d->running.store(false, std::memory_order_release);
  return nullptr;
}

bool LaunchThread(Drain* d) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  // Keep the program's own signals away from this thread.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_t tid;
  d->running.store(true);
  const bool ok = pthread_create(&tid, &attr, DrainMain, d) == 0;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  pthread_attr_destroy(&attr);
  if (!ok) d->running.store(false);
  return ok;
}

}  // namespace

// Room for the last passes, made while memory is plentiful: a process that
// runs out of address space (RLIMIT_AS, a cgroup limit) ends in a pass that
// could otherwise not grow its buffers, and its last events are the ones
// that matter. Untouched, it costs address space, not resident memory.
constexpr size_t kEventsReservedForTheEnd = 16 * 1024;
constexpr size_t kBytesReservedForTheEnd = 512 * 1024;

bool StartDrain() {
  alignas(Drain) static char storage[sizeof(Drain)];
  Drain* d = g_drain = new (storage) Drain();
  FillHello(d, false);
  d->stacks.Prepare();
  d->fold = g_shim.config.fold && g_shim.config.lossless && g_shim.config.sample_interval <= 1;
  d->batch.Prepare(d->fold);
  GrowCursors(d, 1024);
  d->columns.Reserve(kEventsReservedForTheEnd);
  d->msg.Reserve(kBytesReservedForTheEnd);
  d->frame.Reserve(kBytesReservedForTheEnd);
  // The first pass now, before main: the hello and the module map are out
  // before the program runs, however quickly it then dies.
  Modules().TryRefresh(false);
  pthread_mutex_lock(&d->mu);
  Pass(d, false, nullptr);
  pthread_mutex_unlock(&d->mu);
  return LaunchThread(d);
}

void WakeDrain() {
  Drain* d = g_drain;
  // One waker per sleep: the exchange keeps a crowd of producers above the
  // half-full mark from each paying for a syscall.
  if (d && d->sleeping.load(std::memory_order_relaxed) &&
      d->sleeping.exchange(false, std::memory_order_acq_rel)) {
    d->wake.store(1, std::memory_order_release);
    Futex(&d->wake, FUTEX_WAKE_PRIVATE, 1, nullptr);
  }
}

bool WaitForRingSpace(ThreadRing* r, size_t words) {
  Drain* d = g_drain;
  auto has_space = [&] {
    return r->ring.capacity_words() - (r->ring.WritePos() - r->ring.ReadPos()) >= words;
  };
  // The drain is most likely running on another CPU and frees room within
  // microseconds: spin, then yield (it may need this CPU), and only then
  // sleep, which costs ~100 us of timer slack per nap.
  if (!d || !d->running.load(std::memory_order_relaxed)) return false;
  WakeDrain();
  const uint64_t start = MonotonicNs();
  for (uint64_t now = start; now - start < 200 * 1000; now = MonotonicNs()) {
    if (has_space()) return true;
    if (now - start < 20 * 1000)
      CpuRelax();
    else
      sched_yield();
  }
  // Bounded: a drain thread that cannot run (not started yet, or blocked on
  // the loader lock this thread holds) must not hang the program.
  for (int i = 0; i < 20000 && d && d->running.load(std::memory_order_relaxed); ++i) {
    if (has_space()) return true;
    WakeDrain();
    timespec ts = {0, 50 * 1000};
    nanosleep(&ts, nullptr);
  }
  return false;
}

// The drain lock for a thread other than the drain thread, waiting at most
// `seconds` (a stuck pass must not hang the program), and not at all if this
// thread holds it already: an exit path that runs in a signal handler which
// interrupted this thread's own pass (glibc records a mutex's owner).
static bool LockFromOutside(Drain* d, int seconds) {
  if (d->mu.__data.__owner == gettid()) return false;
  timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += seconds;
  d->lock_waiters.fetch_add(1, std::memory_order_relaxed);
  const bool locked = pthread_mutex_timedlock(&d->mu, &deadline) == 0;
  d->lock_waiters.fetch_sub(1, std::memory_order_relaxed);
  return locked;
}

// The same from a signal handler: only ever tries the lock (no futex wait
// inside a handler), again and again with short naps until `ms` pass. The
// holder is another thread (a pass of the drain thread, a fork): it goes on
// while this one waits.
static bool TryLockFromSignalHandler(Drain* d, int ms) {
  if (d->mu.__data.__owner == gettid()) return false;
  timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  d->lock_waiters.fetch_add(1, std::memory_order_relaxed);
  bool locked = false;
  for (;;) {
    if ((locked = pthread_mutex_trylock(&d->mu) == 0)) break;
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >= ms) break;
    timespec nap = {0, 100 * 1000};
    nanosleep(&nap, nullptr);
  }
  d->lock_waiters.fetch_sub(1, std::memory_order_relaxed);
  return locked;
}

void NoteExitStatus(int status, const char* how) {
  if (Drain* d = g_drain) {
    d->has_exit_status = true;
    d->exit_status = status;
    d->how = how;
  }
}

void FinishProcess(const int* status, const char* how) {
  Drain* d = g_drain;
  if (!d || d->finished.exchange(true)) return;
  if (status) NoteExitStatus(*status, how);
  AwaitModuleRefresh(d, kExitModulesWaitMs);
  if (!LockFromOutside(d, 3)) return;  // a stuck pass: give up
  d->memory_at_end = true;
  Pass(d, true, d->has_exit_status ? d->how : how);
  g_shim.recording = false;
  ReportOutage(g_shim.dropped_events.load(std::memory_order_relaxed));
  d->stop.store(true, std::memory_order_release);
  pthread_mutex_unlock(&d->mu);
  WakeDrain();
}

void FinishFromSignalHandler(const char* how) {
  Drain* d = g_drain;
  if (!d || d->finished.exchange(true)) return;
  AwaitModuleRefresh(d, kExitModulesWaitMs);
  if (!TryLockFromSignalHandler(d, 3000)) return;  // a stuck pass: give up
  // Dying by the signal, whatever exit status the program meant to leave with.
  d->has_exit_status = false;
  Pass(d, true, how);
  g_shim.recording = false;
  d->stop.store(true, std::memory_order_release);
  pthread_mutex_unlock(&d->mu);
  WakeDrain();
}

void FlushForExec() {
  Drain* d = g_drain;
  if (!d || d->finished.load(std::memory_order_acquire)) return;
  AwaitModuleRefresh(d, kExitModulesWaitMs);
  if (!LockFromOutside(d, 3)) return;
  Pass(d, true, "exec");
  pthread_mutex_unlock(&d->mu);
}

ExchangeResult SendQuery(const ByteBuffer& query, int* reply_fd) {
  Drain* d = g_drain;
  if (!d || d->finished.load(std::memory_order_acquire)) return ExchangeResult::kNoCollector;
  AwaitModuleRefresh(d, kExitModulesWaitMs);  // the answer names the sites
  if (!LockFromOutside(d, 2)) return ExchangeResult::kBusy;
  Pass(d, false, nullptr);  // watermark "now": after every event this thread recorded
  ExchangeResult result = ExchangeResult::kNoCollector;
  if (d->conn.connected()) {
    d->msg.PutBytes(query.data(), query.size());
    SendMessage(d, false, nullptr);
    // A descriptor of our own: it stays valid if the drain closes its own.
    // High, as the socket is: out of the program's way (owned_fd.h).
    if (d->conn.connected() &&
        (*reply_fd = fcntl(d->conn.fd(), F_DUPFD_CLOEXEC, HighFdFloor())) >= 0)
      result = ExchangeResult::kDone;
  }
  pthread_mutex_unlock(&d->mu);
  return result;
}

// The parent, in the prepare handler: a pass takes every event recorded
// before now (the same watermark rule as a pass of the drain thread), then the
// marker follows them. The lock is held until fork() returns, so the child's
// copy of the stack table is exactly what the collector saw at the marker.
// Bounded: a stuck pass is given up on, and fork() goes ahead without a
// marker.
void DrainBeforeFork() {
  Drain* d = g_drain;
  if (!d) return;
  t_fork_marker = 0;
  // Before the child runs anything: the program's own child handlers run
  // before the shim's and may allocate (loader_probe.h).
  t_fork_loader_was_suspect = LoaderMayBeHeld();
  SuspectLoaderAtFork();
  t_fork_modules_locked = Modules().LockForFork(3);
  t_fork_locked = LockFromOutside(d, 3);
  if (!t_fork_locked || d->finished.load(std::memory_order_acquire)) return;
  Pass(d, false, nullptr);
  if (!d->conn.connected()) return;
  const uint64_t id = ++d->forks;
  EncodeForkMarker(id, &d->msg);
  SendMessage(d, false, nullptr);
  if (d->conn.connected()) t_fork_marker = id;
}

// Exit began: as for a fork, a pass takes every event recorded before now
// and the marker follows them. The pass also ends the fold batch, so no
// allocation folded away spans the marker. Once per process.
void DrainExitBegan(const char* how) {
  Drain* d = g_drain;
  if (!d || d->finished.load(std::memory_order_acquire)) return;
  if (!LockFromOutside(d, 3)) return;
  if (!d->exit_marked && !d->finished.load(std::memory_order_acquire)) {
    d->exit_marked = true;
    Pass(d, false, nullptr);
    EncodeExitMarker(how, &d->msg);
    SendMessage(d, false, nullptr);
  }
  pthread_mutex_unlock(&d->mu);
}

void DrainAfterForkParent() {
  Drain* d = g_drain;
  if (!t_fork_loader_was_suspect) g_loader_suspect.store(false, std::memory_order_relaxed);
  if (t_fork_modules_locked) Modules().UnlockAfterForkParent();
  t_fork_modules_locked = false;
  if (d && t_fork_locked) {
    t_fork_locked = false;
    pthread_mutex_unlock(&d->mu);
  }
}

void DrainAfterForkChild() {
  Drain* d = g_drain;
  if (!d) return;
  pthread_mutex_init(&d->mu, nullptr);
  d->conn.Close();  // the parent's stream: only our copy of the descriptor
  d->conn.Forget();
  d->proc_stat.Close();  // the parent's /proc/<pid>/stat
  d->smaps.Close();
  d->memory_pending = false;
  d->last_memory_ns = 0;
  d->memory_interval_ns = kMemoryIntervalNs;
  d->batch.Clear();
  d->columns.EncodeAndClear(0, &d->msg);
  d->msg.Clear();
  d->map_events = 0;
  // Without a marker the collector has nothing to seed this stream with, so
  // the parent's stack ids mean nothing here.
  const bool inherit = t_fork_locked && t_fork_marker != 0;
  if (!inherit) d->stacks.Clear();
  const uint32_t parent_pid = d->hello.pid;
  const uint64_t parent_start = d->hello.start_time_unix_ns;
  Modules().AfterForkChild();
  ForgetLoaderProbeAfterFork();
  t_fork_modules_locked = false;
  d->finished.store(false);
  d->stop.store(false);
  d->has_exit_status = false;
  d->exit_marked = false;
  d->hello_sent = false;
  FillHello(d, true);
  d->hello.parent_pid = parent_pid;
  d->hello.parent_start_time_unix_ns = parent_start;
  d->hello.fork_id = inherit ? t_fork_marker : 0;
  // Fork ids are per process: this child's own children count from 1.
  d->forks = 0;
  t_fork_marker = 0;
  t_fork_locked = false;
  d->wake.store(0);
  d->sleeping.store(false);
  // Connected before fork() returns in the child: a worker that drops its
  // privileges next (nginx's switch to nobody, a program's own child
  // handler) could no longer reach a private socket, and the drain thread's
  // first pass, which sends the hello, may come after that.
  if (!Sandboxed()) d->conn.MaybeConnect(g_shim.config.socket_path, MonotonicNs());
  if (!LaunchThread(d)) g_shim.recording = false;
}

}  // namespace leakscope::preload
