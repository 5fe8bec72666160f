#include "server.h"

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "accept_backoff.h"
#include "cgroup_memory.h"
#include "fork_registry.h"
#include "memory_budget.h"
#include "memory_pressure.h"
#include "peer_policy.h"
#include "pprof_profile.h"
#include "process_metrics.h"
#include "process_state.h"
#include "process_watch.h"
#include "query_handler.h"
#include "reachability_scan.h"
#include "report_builder.h"
#include "report_file.h"
#include "snapshot_files.h"
#include "stream_decoder.h"

namespace leakscope::collector {
namespace {

constexpr size_t kReadChunk = 256 << 10;
// Per wake-up, a busy stream yields after this much so others are served.
constexpr size_t kReadBudget = 4 << 20;
// Snapshot deadlines and the /metrics text are looked at this often.
constexpr long kTickNs = 250'000'000;

uint64_t NowUnixNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

uint64_t NowMonoNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

size_t QueuedBytes(int fd) {
  int queued = 0;
  if (ioctl(fd, FIONREAD, &queued) != 0) queued = 0;
  return static_cast<size_t>(queued);
}

std::string Errno(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// True if a server accepts connections at `addr` (ECONNREFUSED: a stale
// socket file that nobody listens on).
bool SocketIsLive(const sockaddr_un& addr) {
  // Non-blocking: a live server with a full backlog says EAGAIN, not wait.
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int r;
  do {
    r = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  } while (r != 0 && errno == EINTR);
  const bool live = r == 0 || errno == EAGAIN;  // EAGAIN: live, its backlog full
  close(fd);
  return live;
}

}  // namespace

// One traced process's stream. Owned by the Run() thread.
struct Connection {
  int fd = -1;
  uint32_t peer_pid = 0;  // SO_PEERCRED: the pid as the daemon's /proc names it
  uint32_t peer_uid = 0;  // SO_PEERCRED: who may ask for its snapshots (peer_policy.h)
  bool pid_registered = false;
  ProcessState state;
  ProcessWatch watch;    // timeline, symbol cache, budget, snapshots
  QueryHandler queries;  // the in-process API's questions, answered in stream order
  std::function<void(Connection*, const wire::Message&)> on_message;
  std::function<void(Connection*, const wire::Message&)> on_applied;
  StreamDecoder decoder{[this](const wire::Message& m) { on_message(this, m); }};
  // A forked child whose parent's ForkMarker has not been read yet: its
  // decoded messages wait here, and the socket is not read meanwhile.
  bool held = false;
  std::vector<wire::Message> held_messages;
  uint64_t last_fork_marker = 0;   // the latest ForkMarker.fork_id read from this stream
  uint64_t last_data_mono_ns = 0;  // when bytes last arrived
  // Set when the stream ends without a goodbye: report.Totals.possibly_missing_ms.
  uint64_t possibly_missing_ms = 0;
  uint64_t charged = 0;     // bytes held, as charged to the memory budget
  uint64_t held_bytes = 0;  // of held_messages
  // Since when (monotonic ns; 0: not waiting) the hello, or the frame begun
  // after frame number unit_frames, has been incomplete (frame timeout).
  uint64_t unit_since_ns = 0;
  uint64_t unit_frames = 0;
  std::string cut_short;         // why the server closed the stream before it ended
  DumpTriggers dumps;            // near the limit, high water, pressure (dump_triggers.h)
  std::string pressure_file;     // its PSI trigger's file; "" = none yet
  bool pressure_failed = false;  // said once that its trigger could not be armed
  bool control_done = false;     // a control request, answered: close it
  // The newest snapshot (watch.snapshots.back()): when, its live bytes, and
  // its cgroup's OOM kills then, to name it if the process dies next.
  uint64_t newest_snapshot_mono_ns = 0;
  uint64_t newest_snapshot_live = 0;
  std::optional<MemoryCgroup> oom_cgroup;
  uint64_t oom_kills_then = 0;

  uint64_t MemoryBytes() const { return decoder.MemoryBytes() + state.MemoryBytes() + held_bytes; }

  bool reachability_scans = false;  // ServerOptions::reachability_scans
  // A reachability scan: the memory it holds is charged here (null: no
  // budget); `catch_up` reads and applies what the stream sent meanwhile
  // (Server::Impl::CatchUp). A stream that broke a rule then is closed by
  // the loop afterwards (`close_pending`): the scan holds a pointer to it.
  MemoryBudget* budget = nullptr;
  uint64_t scan_charged = 0;
  bool scanning = false;
  bool close_pending = false;
  std::function<bool(Connection*, int)> catch_up;

  // Applies one message; `inherited` only matters for a forked child's Hello.
  void Deliver(const wire::Message& m, ForkSnapshot* inherited) {
    state.Apply(m, inherited);
    if (m.has_hello()) watch.NoteHello(m.hello(), peer_pid);
    watch.Observe(state, m);
    if (on_applied) on_applied(this, m);  // the dumps due: before any answer
    if (m.has_query() && m.query().kind() == wire::Query::REACHABILITY) ScanReachability(true);
    if (m.has_query()) queries.AnswerOn(fd, state, m.query());
  }

  std::vector<LoadedModule> LoadedModules() const {
    std::vector<LoadedModule> out;
    for (const ModuleInfo& m : state.modules()) out.push_back({m.path, m.load_bias});
    return out;
  }

  // The process closed its end (it ended): its pid may be another's by now.
  bool PeerHungUp() const {
    pollfd p{fd, POLLRDHUP, 0};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
  }

  // On the event loop: other streams wait while the process is scanned (the
  // pause it reports; under a second per GiB of live heap, bench/). `asked`:
  // `leakscope snapshot --reachability`, whatever the daemon's default.
  void ScanReachability(bool at_exit, bool asked = false) {
    // Asked again by what the stream sent while this scan catches up with
    // it (a query, a snapshot trigger): the scan under way answers.
    if (scanning) return;
    auto scan = std::make_shared<ReachabilityScan>();
    const std::string ended =
        "reachability: pid " + std::to_string(peer_pid) + " ended before its scan: survivors only";
    if (!reachability_scans && !asked)
      scan->error = "reachability: not enabled in this collector (leakscoped --reachability on)";
    else if (!state.weights().exact())
      scan->error =
          "reachability: needs every allocation recorded (LEAKSCOPE_SAMPLE_INTERVAL=1), "
          "and this process samples: survivors only";
    else if (PeerHungUp())
      scan->error = ended;
    else {
      scanning = true;
      StreamScanSource source(this, at_exit);
      DrainRef drain;
      // At exit, the asking thread's pass took every event before the ask;
      // the caught-up scan reads the stream, which is being read already.
      if (!at_exit) drain.progress_address = state.hello().drain_progress_address();
      *scan = ScanProcess(pid_t(peer_pid), LoadedModules(), source, drain);
      if (budget) budget->Charge(&scan_charged, 0);
      scanning = false;
    }
    // Ended during the scan: what was stopped may have been another process
    // with its pid. Its figures are dropped, never reported.
    if (scan->ok && PeerHungUp()) *scan = ReachabilityScan(), scan->error = ended;
    scan->at_exit = at_exit;
    if (!scan->ok) std::fprintf(stderr, "leakscope: %s\n", scan->error.c_str());
    state.set_reachability(std::move(scan));
  }

  // A scan's view of this stream (reachability_scan.h).
  class StreamScanSource : public ScanSource {
   public:
    StreamScanSource(Connection* c, bool at_exit) : c_(c), at_exit_(at_exit) {}
    Shape Now() const override {
      Shape s;
      s.seq = c_->state.allocation_seq();
      s.blocks = c_->state.live_table().size();
      s.bytes = c_->live_bytes();
      return s;
    }
    std::vector<ScanBlock> Blocks() const override { return BlocksToScan(c_->state.live_table()); }
    bool CatchUp(int timeout_ms) override { return c_->catch_up && c_->catch_up(c_, timeout_ms); }
    std::string Hold(uint64_t bytes) override {
      if (!c_->budget) return "";
      c_->budget->Charge(&c_->scan_charged, 0);
      std::string why = c_->budget->Refuse(bytes, "the scan");
      if (why.empty()) c_->budget->Charge(&c_->scan_charged, bytes);
      return why;
    }
    // Events recorded since the drain's last pass that arrived: at most its
    // interval, plus the time since then.
    uint64_t BehindBoundMs() const override {
      if (at_exit_) return 0;
      const uint32_t said = c_->state.hello().flush_interval_ms();
      const uint64_t since =
          c_->last_data_mono_ns ? (NowMonoNs() - c_->last_data_mono_ns + 999'999) / 1'000'000 : 0;
      return (said ? said : 10) + since;
    }

   private:
    Connection* c_;
    bool at_exit_;
  };

  uint32_t pid() const {
    if (state.has_hello()) return state.hello().pid();
    return held ? held_messages.front().hello().pid() : peer_pid;
  }
  uint64_t start_time() const { return state.hello().start_time_unix_ns(); }
  std::string exe() const { return state.has_hello() ? state.hello().exe() : "unknown"; }
  uint64_t live_bytes() const { return FromFixed(state.totals().live_bytes_fp, kByteFracBits); }
};

struct Server::Impl {
  ServerOptions options;
  int listen_fd = -1, epoll_fd = -1, wake_fd = -1, timer_fd = -1;
  bool socket_created = false;
  dev_t socket_dev = 0;  // the socket file we bound: removed at exit only if it is still ours
  ino_t socket_ino = 0;
  std::unordered_map<int, std::unique_ptr<Connection>> connections;  // Run() thread only
  // Not zeroed: its pages are touched only as reads fill them (64 page
  // faults for nothing at each `leakscope run` start otherwise).
  std::unique_ptr<char[]> buffer{new char[kReadChunk]};
  ForkRegistry forks;                      // Run() thread only
  AcceptBackoff accept_backoff;            // Run() thread only
  MemoryBudget budget;                     // Run() thread only
  const Connection* being_read = nullptr;  // by Read(), Run() thread only
  // CatchUp's own: a scan may start inside Read (a control request), whose
  // decoder is still parsing `buffer`. One catch-up at a time.
  std::vector<char> catch_up_buffer;
  bool catching_up = false;
  uint64_t streams_accepted = 0;  // Run() thread only: /metrics
  // A marker, a hello or a closed stream since held children were last looked at.
  bool forks_changed = false;

  std::mutex mu;  // guards everything below
  std::condition_variable changed;
  std::function<void(const FinishedProcess&)> on_report;
  std::unordered_map<uint32_t, int> open_pids;  // pid -> open streams that said hello
  size_t pending_forks = 0;                     // forks.size(), as of the loop's last round
  // Per pid, the report of its newest image (latest hello start time): the
  // one that ran until the process ended.
  struct Newest {
    FinishedProcess done;
    uint64_t start_time = 0;
    bool exit_applied = false;
    report::Process own_end;  // end, exit_status, signal as its stream ended
  };
  std::unordered_map<uint32_t, Newest> finished;
  struct Exit {
    int wait_status = 0;
    uint64_t recorded_unix_ns = 0;  // images that started later are another process
  };
  std::unordered_map<uint32_t, Exit> exits;
  std::unordered_set<std::string> used_paths;
  uint64_t sync_requested = 0, sync_done = 0;  // WaitForReport's "read everything" rounds
  bool stop = false;
  bool loop_exited = false;
  bool snapshot_requested = false;
  std::function<void(const std::string&)> on_snapshot;
  std::string metrics_text;
  std::vector<ProcessMetrics> metrics_processes;
  std::vector<std::pair<ProfileRequest, std::function<void(const ProfileResult&)>>>
      profile_requests;
  // Run() thread only: --dump-on-pressure's triggers, and their files by descriptor.
  std::unique_ptr<PressureTriggers> pressure;
  std::unordered_map<int, std::string> pressure_files;

  void Wake() {
    uint64_t one = 1;
    if (wake_fd >= 0 && write(wake_fd, &one, sizeof one) < 0) {
      // Counter saturation is the only failure; the loop is already awake then.
    }
  }
  void Loop();
  bool StopRequested();
  void SyncIfRequested();
  bool WaitAndDispatch();
  void Shutdown();
  void AcceptAll();
  void PauseAccepting(int error);
  void ResumeAccepting();
  void ReadAll();
  void Read(Connection* c, size_t budget);
  bool CatchUp(Connection* c, int timeout_ms);
  void ClosePending();
  void ReadHellos(uint32_t pid);
  // Forked children (see Connection::held).
  void OnMessage(Connection* c, const wire::Message& m);
  void HoldMessage(Connection* c, const wire::Message& m);
  bool ParentMayStillSend(const Connection* child, const wire::Hello& hello) const;
  bool StreamOpen(uint32_t pid, uint64_t start_time) const;
  std::vector<Connection*> ReleaseHeld(bool force);
  void Release(Connection* c, ForkSnapshot* inherited);
  void Close(Connection* c, const std::string& error, bool stopping);
  void Cut(Connection* c, const std::string& why);
  void Admit(Connection* c);
  bool WithinBudget(Connection* c);
  void NoteProgress(Connection* c);
  void CutStalled();
  report::Report FinalReport(Connection* c, bool stopping);
  FinishedProcess Publish(const Connection* c, report::Report report);
  void Register(Connection* c);
  bool NewerImageOpen(const Connection* c) const;
  void RewriteWithExit(uint32_t pid, int status);
  void RestoreOwnEnd(const Newest& n);
  // The daemon's periodic work (server_daemon.cc).
  void Tick();
  void PublishPendingForks();
  void SnapshotIfRequested();
  void AnswerProfiles();
  ProfileResult Profile(const ProfileRequest& request);
  Connection* Select(const ProfileRequest& request, ProfileResult* result);
  void MaybeDumpAbove(Connection* c);
  // `scan`: a reachability scan first, whatever options.scan_at_snapshots.
  std::string Snapshot(Connection* c, const char* why, std::string* error = nullptr,
                       bool scan = false);
  // Dumps before the kill (dump_triggers.h; their section below).
  void AfterApply(Connection* c, const wire::Message& m);
  void CheckLimit(Connection* c);
  void AttachPressure(Connection* c);
  void DetachPressure(Connection* c);
  void OnPressure(int fd, uint32_t events);
  void KeepLastBeforeDeath(Connection* c);
  void AnswerControl(Connection* asker, const wire::Control& control);
  Connection* FindTraced(uint32_t pid);
  void RenderMetrics();
  bool PeerAllowed(int fd, const ucred& cred, bool have_cred);
  report::FileMode FileMode() const {
    return {options.report_mode, options.report_group, options.sync_reports};
  }
  void RemoveOwnSocket();
};

// Another server may have replaced our socket file (after it was removed by
// hand): its socket is not ours to remove.
void Server::Impl::RemoveOwnSocket() {
  struct stat st;
  if (!socket_created) return;
  socket_created = false;
  if (lstat(options.socket_path.c_str(), &st) == 0 && st.st_dev == socket_dev &&
      st.st_ino == socket_ino)
    unlink(options.socket_path.c_str());
}

Server::Server(ServerOptions options) : impl_(new Impl) {
  impl_->options = std::move(options);
  impl_->budget = MemoryBudget(impl_->options.max_memory_bytes);
  if (impl_->options.dumps.pressure_stall_ms != 0)
    impl_->pressure = std::make_unique<PressureTriggers>(impl_->options.dumps.pressure_stall_ms);
}

Server::~Server() {
  for (auto& [fd, c] : impl_->connections) close(fd);
  for (int fd : {impl_->listen_fd, impl_->epoll_fd, impl_->wake_fd, impl_->timer_fd})
    if (fd >= 0) close(fd);
  if (!impl_->loop_exited) impl_->RemoveOwnSocket();
}

bool Server::Listen(std::string* error) {
  Impl& d = *impl_;
  const std::string& path = d.options.socket_path;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    *error = "socket path '" + path + "' is empty or too long";
    return false;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    // Replace a stale socket, never some other file given by mistake, nor
    // the socket of a server still listening on it.
    if (!S_ISSOCK(st.st_mode)) {
      *error = path + ": exists and is not a socket";
      return false;
    }
    if (SocketIsLive(addr)) {
      *error = path + ": another leakscoped is listening on this socket";
      return false;
    }
    unlink(path.c_str());
  }
  d.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (d.listen_fd < 0) return *error = Errno("socket"), false;
  if (bind(d.listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return *error = Errno(path), false;
  if (lstat(path.c_str(), &st) != 0) return *error = Errno(path), false;
  d.socket_created = true;
  d.socket_dev = st.st_dev;
  d.socket_ino = st.st_ino;
  // Before listen(): until then nobody can connect, so the umask window is harmless.
  if (!SecureSocket(path, d.options.socket_group, error)) return false;
  if (listen(d.listen_fd, SOMAXCONN) != 0) return *error = Errno(path + ": listen"), false;
  d.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  d.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  d.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (d.epoll_fd < 0 || d.wake_fd < 0 || d.timer_fd < 0)
    return *error = Errno("epoll/eventfd/timerfd"), false;
  const itimerspec tick{{0, kTickNs}, {0, kTickNs}};
  if (timerfd_settime(d.timer_fd, 0, &tick, nullptr) != 0) return *error = Errno("timerfd"), false;
  for (int fd : {d.listen_fd, d.wake_fd, d.timer_fd}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(d.epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0)
      return *error = Errno("epoll_ctl"), false;
  }
  return true;
}

void Server::Run() {
  if (impl_->epoll_fd < 0) return;  // Listen() failed or was not called
  impl_->Loop();
}

void Server::Impl::Loop() {
  while (!StopRequested()) {
    SyncIfRequested();
    SnapshotIfRequested();
    AnswerProfiles();
    ClosePending();
    if (!WaitAndDispatch()) break;
  }
  Shutdown();
}

bool Server::Impl::StopRequested() {
  std::lock_guard<std::mutex> lock(mu);
  return stop;
}

// WaitForReport() asked: accept and read everything pending, then say so.
void Server::Impl::SyncIfRequested() {
  uint64_t target;
  {
    std::lock_guard<std::mutex> lock(mu);
    target = sync_requested;
  }
  if (target == sync_done) return;
  AcceptAll();
  ReadAll();
  const size_t pending = forks.size();
  std::lock_guard<std::mutex> lock(mu);
  pending_forks = pending;  // with the round: WaitUntilIdle() may ask next
  sync_done = target;
  changed.notify_all();
}

// One epoll_wait and its events. False if the loop cannot go on.
bool Server::Impl::WaitAndDispatch() {
  epoll_event events[64];
  int n = epoll_wait(epoll_fd, events, 64, -1);
  if (n < 0 && errno != EINTR) {
    std::fprintf(stderr, "leakscoped: epoll_wait: %s\n", std::strerror(errno));
    return false;
  }
  for (int i = 0; i < n; ++i) {
    int fd = events[i].data.fd;
    if (fd == listen_fd) {
      AcceptAll();
    } else if (fd == wake_fd) {
      uint64_t count;
      if (read(wake_fd, &count, sizeof count) < 0) continue;  // EAGAIN: already consumed
    } else if (fd == timer_fd) {
      uint64_t expirations;
      if (read(timer_fd, &expirations, sizeof expirations) > 0) Tick();
      if (accept_backoff.Due(NowMonoNs())) ResumeAccepting();
      CutStalled();
      forks.Expire(NowMonoNs());
    } else if (auto it = connections.find(fd); it != connections.end()) {
      if (!it->second->held) Read(it->second.get(), kReadBudget);
    } else if (pressure_files.count(fd)) {
      OnPressure(fd, events[i].events);
    }
  }
  // Released children are read when epoll next reports them.
  ReleaseHeld(false);
  PublishPendingForks();
  return true;
}

// For WaitUntilIdle (another thread): how many forked children the
// registry still expects to connect.
void Server::Impl::PublishPendingForks() {
  const size_t pending = forks.size();
  std::lock_guard<std::mutex> lock(mu);
  if (pending == pending_forks) return;
  pending_forks = pending;
  changed.notify_all();
}

// Stop(): take what has arrived, then report every stream still open.
void Server::Impl::Shutdown() {
  AcceptAll();
  ReadAll();
  // Whatever parents sent has been read: a child still held gets nothing.
  for (Connection* c : ReleaseHeld(true)) Read(c, QueuedBytes(c->fd) + 1);
  std::vector<Connection*> open;
  for (auto& [fd, c] : connections) open.push_back(c.get());
  for (Connection* c : open) Close(c, "", /*stopping=*/true);
  close(listen_fd);
  listen_fd = -1;
  RemoveOwnSocket();
  std::lock_guard<std::mutex> lock(mu);
  loop_exited = true;
  changed.notify_all();
}

void Server::Impl::AcceptAll() {
  while (true) {
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (AcceptBackoff::Exhausted(errno)) return PauseAccepting(errno);
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        std::fprintf(stderr, "leakscoped: accept: %s\n", std::strerror(errno));
      return;
    }
    auto c = std::make_unique<Connection>();
    c->fd = fd;
    c->queries.set_output(options.output_dir, FileMode());
    ucred cred{};
    socklen_t len = sizeof cred;
    const bool have_cred = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0;
    if (!PeerAllowed(fd, cred, have_cred)) continue;
    c->peer_pid = static_cast<uint32_t>(cred.pid);
    c->peer_uid = static_cast<uint32_t>(cred.uid);
    c->dumps = DumpTriggers(options.dumps);
    c->reachability_scans = options.reachability_scans;
    if (options.max_memory_bytes != 0) c->budget = &budget;
    c->catch_up = [this](Connection* conn, int timeout_ms) { return CatchUp(conn, timeout_ms); };
    c->decoder.set_limits(options.limits);
    c->on_message = [this](Connection* conn, const wire::Message& m) { OnMessage(conn, m); };
    c->on_applied = [this](Connection* conn, const wire::Message& m) { AfterApply(conn, m); };
    c->watch.set_max_live_allocations(options.max_live_allocations);
    c->watch.set_prewarm_symbols(options.prewarm_symbols);
    c->unit_since_ns = NowMonoNs();  // until its hello is whole
    Admit(c.get());
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
      std::fprintf(stderr, "leakscoped: epoll_ctl: %s\n", std::strerror(errno));
      close(fd);
      continue;
    }
    connections.emplace(fd, std::move(c));
    ++streams_accepted;
  }
}

// Out of descriptors: the listening socket leaves the poll set (see
// accept_backoff.h) until a stream closes or the pause is over.
void Server::Impl::PauseAccepting(int error) {
  const std::string line = accept_backoff.Pause(error, NowMonoNs(), connections.size());
  if (!line.empty()) std::fprintf(stderr, "leakscoped: %s\n", line.c_str());
  epoll_event ev{};
  ev.data.fd = listen_fd;
  epoll_ctl(epoll_fd, EPOLL_CTL_MOD, listen_fd, &ev);
}

void Server::Impl::ResumeAccepting() {
  if (!accept_backoff.paused() || listen_fd < 0) return;
  accept_backoff.Resume();
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listen_fd;
  epoll_ctl(epoll_fd, EPOLL_CTL_MOD, listen_fd, &ev);
}

// Reads what each stream has queued now, and one read more to see an EOF
// behind it. Not "until EAGAIN": a process writing faster than we decode
// would keep Stop() and WaitForReport() here for ever.
void Server::Impl::ReadAll() {
  std::vector<std::pair<Connection*, size_t>> all;
  for (auto& [fd, c] : connections)
    if (!c->held) all.emplace_back(c.get(), QueuedBytes(fd) + 1);
  for (auto [c, budget] : all) Read(c, budget);
  // A child released by what was just read has its own queued bytes.
  for (std::vector<Connection*> released; !(released = ReleaseHeld(false)).empty();)
    for (Connection* c : released) Read(c, QueuedBytes(c->fd) + 1);
}

// The process behind `c` is gone without a goodbye (killed, or its last
// flush failed): the events it recorded after its last drain pass are lost.
// That pass was at most one flush interval before it died. When the end is
// read on a wake-up of its own, the collector was waiting for more, so the
// last bytes came when they were sent and the time since then is a closer
// bound; when it comes behind queued bytes, only the interval is known.
static void NoteAbruptEnd(Connection* c, bool behind_queued_bytes) {
  if (c->state.has_goodbye()) return;
  const uint32_t said = c->state.has_hello() ? c->state.hello().flush_interval_ms() : 0;
  uint64_t window_ns = uint64_t{said ? said : 10} * 1'000'000;
  if (!behind_queued_bytes && c->last_data_mono_ns)
    window_ns = std::min(window_ns, NowMonoNs() - c->last_data_mono_ns);
  c->possibly_missing_ms = std::max<uint64_t>(1, (window_ns + 999'999) / 1'000'000);
}

// Reads until EAGAIN or `budget` bytes; closes the stream on EOF or error.
void Server::Impl::Read(Connection* c, size_t budget) {
  size_t total = 0;
  // A scan its messages start does not read it again (c may be gone at the end).
  struct Reading {
    const Connection** now;
    const Connection* before;
    ~Reading() { *now = before; }
  } reading{&being_read, being_read};
  being_read = c;
  while (total < budget) {
    ssize_t n = read(c->fd, buffer.get(), kReadChunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0) {
      NoteAbruptEnd(c, total > 0);
      return Close(c, Errno("read"), false);
    }
    if (n == 0) {
      NoteAbruptEnd(c, total > 0);
      return Close(c, c->decoder.Finish() ? "" : c->decoder.error(), false);
    }
    c->last_data_mono_ns = NowMonoNs();
    total += static_cast<size_t>(n);
    bool ok = c->decoder.Feed(buffer.get(), static_cast<size_t>(n));
    if (c->control_done) return Close(c, "", false);  // answered; it never said hello
    if (!c->pid_registered && (c->state.has_hello() || c->held)) Register(c);
    if (!ok) return Cut(c, c->decoder.error());
    if (!c->watch.budget_error().empty()) return Cut(c, c->watch.budget_error());
    if (!WithinBudget(c)) return;
    NoteProgress(c);
    if (c->held) {
      // Not read until released: no EOF (and report) before its messages are applied.
      epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, nullptr);
      return;
    }
  }
  MaybeDumpAbove(c);
}

// A scan's catch-up (reachability_scan.h), the process stopped but for its
// drain thread, or a snapshot's look for a hello (ReadHellos): what the
// stream has queued, after waiting up to `timeout_ms` for it, read and
// applied as Read does. The stream is never
// closed here (the scan holds it): one that broke a rule, ended or
// answered its control request is left for ClosePending, and the loop
// sees an end or error again on its next read.
bool Server::Impl::CatchUp(Connection* c, int timeout_ms) {
  if (c == being_read || c->held || c->close_pending || catching_up) return false;
  if (catch_up_buffer.empty()) catch_up_buffer.resize(kReadChunk);
  if (timeout_ms > 0) {
    pollfd p{c->fd, POLLIN, 0};
    poll(&p, 1, timeout_ms);
  }
  // What is queued now, and one read more: a drain writing all the while
  // cannot keep the scan here (its deadline is checked between calls).
  const size_t budget = QueuedBytes(c->fd) + 1;
  catching_up = true;  // what it applies may ask for another scan: no catch-up for that one
  struct Done {
    bool* flag;
    ~Done() { *flag = false; }
  } done{&catching_up};
  std::vector<char>& buffer = catch_up_buffer;
  for (size_t total = 0; total < budget;) {
    const ssize_t n = read(c->fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n <= 0) return false;
    c->last_data_mono_ns = NowMonoNs();
    total += static_cast<size_t>(n);
    const bool ok = c->decoder.Feed(buffer.data(), static_cast<size_t>(n));
    if (!c->pid_registered && (c->state.has_hello() || c->held)) Register(c);
    NoteProgress(c);
    bool over = false;
    if (options.max_memory_bytes != 0) {
      this->budget.Charge(&c->charged, c->MemoryBytes());
      over = this->budget.used() > this->budget.limit();
    }
    if (!ok || over || c->control_done || c->held || !c->watch.budget_error().empty()) {
      c->close_pending = true;
      return false;
    }
  }
  return true;
}

// Streams a scan's catch-up found broken: closed now, as Read would have.
void Server::Impl::ClosePending() {
  std::vector<Connection*> pending;
  for (auto& [fd, c] : connections)
    if (c->close_pending) pending.push_back(c.get());
  for (Connection* c : pending) {
    c->close_pending = false;
    if (c->control_done)
      Close(c, "", false);
    else if (c->decoder.failed())
      Cut(c, c->decoder.error());
    else if (!c->watch.budget_error().empty())
      Cut(c, c->watch.budget_error());
    else if (c->held)
      epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, nullptr);
    else
      WithinBudget(c);
  }
}

// ---- Bounds: the memory budget and the frame timeout. ----

// Each step that takes memory asks first (memory_budget.h).
void Server::Impl::Admit(Connection* c) {
  if (options.max_memory_bytes == 0) return;
  // What the stream holds is charged anew first: one read may carry many frames.
  DecoderAdmission admission;
  admission.decode = [this, c](uint64_t bytes) {
    budget.Charge(&c->charged, c->MemoryBytes());
    return budget.Refuse(bytes, "decoding it");
  };
  admission.apply = [this, c](const wire::Message& m) {
    budget.Charge(&c->charged, c->MemoryBytes());
    const uint64_t held = c->held ? m.SpaceUsedLong() : 0;
    return budget.Refuse(c->decoder.GrowthBound(m) + c->state.GrowthBound(m) + held, "applying it");
  };
  c->decoder.set_admission(std::move(admission));
}

// Charges what the stream holds now; cuts it short if that breaks the budget
// (buffering an unfinished frame is the step not asked about beforehand: it
// grows by what arrived, at most doubling its buffer). False if it was cut.
bool Server::Impl::WithinBudget(Connection* c) {
  if (options.max_memory_bytes == 0) return true;
  budget.Charge(&c->charged, c->MemoryBytes());
  if (budget.used() <= budget.limit()) return true;
  const uint64_t mib = uint64_t(1) << 20;
  Cut(c, "holding " + std::to_string((c->charged + mib - 1) / mib) +
             " MiB, it took all streams over the memory budget of " +
             std::to_string(budget.limit() / mib) + " MiB (--max-memory)");
  return false;
}

// Restarts the frame timeout's clock when a new unit (the hello, a frame)
// begins; stops it between units.
void Server::Impl::NoteProgress(Connection* c) {
  const bool waiting = c->decoder.pending_bytes() > 0 || !(c->state.has_hello() || c->held);
  if (!waiting) {
    c->unit_since_ns = 0;
    return;
  }
  if (c->unit_since_ns == 0 || c->decoder.frames_decoded() != c->unit_frames) {
    c->unit_since_ns = NowMonoNs();
    c->unit_frames = c->decoder.frames_decoded();
  }
}

// Every tick: streams whose hello or frame is overdue, with nothing more
// queued (bytes queued are our delay, not theirs), are cut short.
void Server::Impl::CutStalled() {
  if (options.frame_timeout_ms == 0) return;
  const uint64_t now = NowMonoNs(), timeout_ns = options.frame_timeout_ms * 1'000'000;
  std::vector<Connection*> stalled;
  for (auto& [fd, c] : connections)
    if (!c->held && c->unit_since_ns != 0 && now - c->unit_since_ns >= timeout_ns &&
        QueuedBytes(fd) == 0)
      stalled.push_back(c.get());
  const std::string after = std::to_string(options.frame_timeout_ms) + " ms (--frame-timeout)";
  for (Connection* c : stalled) {
    const StreamDecoder& d = c->decoder;
    if (d.pending_bytes() == 0)
      Cut(c, "no hello within " + after);
    else
      Cut(c, std::string(d.in_stream_header() ? "stream header" : "frame") + " incomplete after " +
                 after + ": " + std::to_string(d.pending_bytes()) + " of " +
                 std::to_string(d.pending_unit_bytes()) + " bytes");
  }
}

// ---- Forked children: inheriting the parent's live allocations. ----

void Server::Impl::OnMessage(Connection* c, const wire::Message& m) {
  if (m.has_control()) return AnswerControl(c, m.control());
  if (c->held) return HoldMessage(c, m);
  if (m.has_hello()) {
    forks_changed = true;
    // A reconnected stream cannot carry the markers sent before it began.
    c->last_fork_marker = m.hello().fork_markers_sent();
  }
  if (m.has_hello() && m.hello().fork_id() != 0) {
    const wire::Hello& h = m.hello();
    std::optional<ForkSnapshot> s =
        forks.Take({h.parent_pid(), h.parent_start_time_unix_ns(), h.fork_id()});
    if (!s && ParentMayStillSend(c, h)) {
      c->held = true;
      return HoldMessage(c, m);
    }
    return c->Deliver(m, s ? &*s : nullptr);
  }
  c->Deliver(m, nullptr);
  if (m.has_fork_marker() && c->state.has_hello()) {
    c->last_fork_marker = m.fork_marker().fork_id();
    forks.Add({c->pid(), c->start_time(), c->last_fork_marker}, c->state.SnapshotForFork(),
              NowMonoNs());
    forks_changed = true;
  }
}

void Server::Impl::HoldMessage(Connection* c, const wire::Message& m) {
  c->held_messages.push_back(m);
  if (options.max_memory_bytes != 0) c->held_bytes += m.SpaceUsedLong();
}

// The parent's marker may be still unread: its stream is open and has not
// passed that fork id, or a stream of the parent's pid has not said hello yet
// (or is itself a child on hold). Markers precede the fork, so the marker
// was in the parent's socket before the child even connected.
bool Server::Impl::ParentMayStillSend(const Connection* child, const wire::Hello& h) const {
  for (const auto& [fd, o] : connections) {
    if (o.get() == child) continue;
    if (!o->state.has_hello()) {
      if (o->peer_pid == h.parent_pid()) return true;
      continue;
    }
    if (o->pid() == h.parent_pid() && o->start_time() == h.parent_start_time_unix_ns() &&
        o->last_fork_marker < h.fork_id())
      return true;
  }
  return false;
}

// True if a stream of the process (pid, start time) is open: it reconnected.
bool Server::Impl::StreamOpen(uint32_t pid, uint64_t start_time) const {
  for (const auto& [fd, o] : connections)
    if (o->state.has_hello() && o->pid() == pid && o->start_time() == start_time) return true;
  return false;
}

// Releases the held children that can go on (all of them if `force`) and
// returns them; the caller reads their sockets.
std::vector<Connection*> Server::Impl::ReleaseHeld(bool force) {
  std::vector<Connection*> released;
  while (forks_changed || force) {
    forks_changed = false;
    std::vector<Connection*> held;
    for (auto& [fd, c] : connections)
      if (c->held) held.push_back(c.get());
    bool any = false;
    for (Connection* c : held) {
      const wire::Hello& h = c->held_messages.front().hello();
      std::optional<ForkSnapshot> s =
          forks.Take({h.parent_pid(), h.parent_start_time_unix_ns(), h.fork_id()});
      if (!s && !force && ParentMayStillSend(c, h)) continue;
      Release(c, s ? &*s : nullptr);  // may add markers: forks_changed
      released.push_back(c);
      any = true;
    }
    if (force && !any) break;
  }
  return released;
}

void Server::Impl::Release(Connection* c, ForkSnapshot* inherited) {
  std::vector<wire::Message> messages = std::move(c->held_messages);
  c->held_messages.clear();
  c->held_bytes = 0;
  c->held = false;
  forks_changed = true;  // its hello may be what a grandchild waits for
  c->Deliver(messages.front(), inherited);
  for (size_t i = 1; i < messages.size(); ++i) OnMessage(c, messages[i]);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = c->fd;
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c->fd, &ev);
}

void Server::Impl::Register(Connection* c) {
  c->pid_registered = true;
  std::lock_guard<std::mutex> lock(mu);
  ++open_pids[c->pid()];
}

// The stream broke a rule (a limit, the budget, a timeout, a bad frame): it
// is closed, and its report says why.
void Server::Impl::Cut(Connection* c, const std::string& why) {
  c->cut_short = why;
  Close(c, why, false);
}

void Server::Impl::Close(Connection* c, const std::string& error, bool stopping) {
  const int fd = c->fd;
  budget.Charge(&c->charged, 0);
  epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
  close(fd);
  if (!error.empty())
    std::fprintf(stderr, "leakscoped: closing stream of pid %u (%s): %s\n", c->pid(),
                 c->exe().c_str(), error.c_str());
  // No valid Hello (silent, garbage, a bad first frame): there is no process
  // to report, and a file per such connection would let anyone fill the folder.
  DetachPressure(c);
  if (!stopping && c->cut_short.empty() && c->state.has_hello() && !c->state.has_goodbye())
    KeepLastBeforeDeath(c);
  std::optional<FinishedProcess> done;
  if (c->state.has_hello() || c->held) done = Publish(c, FinalReport(c, stopping));
  const bool said_hello = c->state.has_hello();
  const uint32_t pid = c->pid();
  const uint64_t start = c->start_time();
  connections.erase(fd);  // c is gone
  ResumeAccepting();      // its descriptor is free
  if (said_hello && !StreamOpen(pid, start)) forks.ParentEnded(pid, start, NowMonoNs());
  forks_changed = true;
  std::function<void(const FinishedProcess&)> callback;
  if (done) {
    std::lock_guard<std::mutex> lock(mu);
    callback = on_report;
  }
  if (callback) callback(*done);
}

report::Report Server::Impl::FinalReport(Connection* c, bool stopping) {
  ReportContext context;
  context.running = stopping && !c->state.has_goodbye();
  context.end_time_unix_ns = context.written_unix_ns = NowUnixNs();
  report::Report report = c->watch.Report(c->state, context);
  if (!c->state.has_hello()) report.mutable_process()->set_pid(c->pid());
  if (!context.running) report.mutable_totals()->set_possibly_missing_ms(c->possibly_missing_ms);
  if (!c->cut_short.empty()) report.mutable_process()->set_cut_short(c->cut_short);
  return report;
}

// Writes the report and makes it the pid's if it is the newest image's.
// Under the lock, so that a RecordExit() racing with us is never lost.
FinishedProcess Server::Impl::Publish(const Connection* c, report::Report report) {
  const uint32_t pid = c->pid();
  const uint64_t start = c->start_time();
  const bool newer_open = NewerImageOpen(c);
  std::lock_guard<std::mutex> lock(mu);
  auto newest = finished.find(pid);
  const bool is_newest =
      !newer_open && (newest == finished.end() || start >= newest->second.start_time);
  Newest entry{{}, start, false, report.process()};
  // The exit status belongs to the image that was running when the process ended.
  auto e = exits.find(pid);
  if (e != exits.end() && is_newest && start <= e->second.recorded_unix_ns) {
    ApplyWaitStatus(e->second.wait_status, &report);
    entry.exit_applied = true;
  }
  FinishedProcess& done = entry.done;
  done.pid = pid;
  const std::string path =
      WriteNewReport(FinalReportNames(options.output_dir, c->exe(), pid, &used_paths), report,
                     FileMode(), &done.error);
  if (!path.empty()) {
    used_paths.insert(path);
    done.report_path = path;
  } else {
    std::fprintf(stderr, "leakscoped: %s\n", done.error.c_str());
  }
  if (c->pid_registered && --open_pids[pid] == 0) open_pids.erase(pid);
  if (is_newest) {
    // A newer image read late: the one before it did not run until the end.
    if (newest != finished.end() && newest->second.exit_applied) RestoreOwnEnd(newest->second);
    finished[pid] = entry;
  }
  changed.notify_all();
  return done;
}

// True if another open stream of the same pid is a later exec'd image.
bool Server::Impl::NewerImageOpen(const Connection* c) const {
  if (!c->state.has_hello()) return false;
  for (const auto& [fd, other] : connections)
    if (other.get() != c && other->state.has_hello() && other->pid() == c->pid() &&
        other->start_time() > c->start_time())
      return true;
  return false;
}

void Server::Stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->Wake();
}

// True if `own` (a report's end as its stream left it) is what the wait
// status would make of it.
static bool EndsAsWaitSays(const report::Process& own, int wait_status) {
  report::Report applied;
  report::Process* p = applied.mutable_process();
  p->set_end(own.end());
  p->set_exit_status(own.exit_status());
  p->set_signal(own.signal());
  ApplyWaitStatus(wait_status, &applied);
  return p->end() == own.end() && p->exit_status() == own.exit_status() &&
         p->signal() == own.signal();
}

void Server::RecordExit(uint32_t pid, int wait_status) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  const uint64_t now = NowUnixNs();
  impl_->exits[pid] = {wait_status, now};  // for streams of pid still open or not read yet
  auto done = impl_->finished.find(pid);
  if (impl_->open_pids.count(pid) == 0 && done != impl_->finished.end() &&
      !done->second.done.report_path.empty() && done->second.start_time <= now) {
    // Most often the stream's goodbye said it already (exit(3), return from
    // main): the file stands as written, not read and written again.
    if (done->second.exit_applied || !EndsAsWaitSays(done->second.own_end, wait_status))
      impl_->RewriteWithExit(pid, wait_status);
    done->second.exit_applied = true;
  }
}

// Caller holds mu.
void Server::Impl::RestoreOwnEnd(const Newest& n) {
  report::Report report;
  std::string error;
  if (report::ReadReportFile(n.done.report_path, &report, &error)) {
    report::Process* p = report.mutable_process();
    p->set_end(n.own_end.end());
    p->set_exit_status(n.own_end.exit_status());
    p->set_signal(n.own_end.signal());
    if (report::WriteReportFile(n.done.report_path, report, &error, FileMode())) return;
  }
  std::fprintf(stderr, "leakscoped: %s\n", error.c_str());
}

// Caller holds mu.
void Server::Impl::RewriteWithExit(uint32_t pid, int status) {
  const std::string& path = finished[pid].done.report_path;
  report::Report report;
  std::string error;
  if (report::ReadReportFile(path, &report, &error)) {
    ApplyWaitStatus(status, &report);
    if (report::WriteReportFile(path, report, &error, FileMode())) return;
  }
  std::fprintf(stderr, "leakscoped: cannot record exit status of pid %u: %s\n", pid, error.c_str());
}

std::optional<FinishedProcess> Server::WaitForReport(uint32_t pid,
                                                     std::chrono::milliseconds timeout) {
  Impl& d = *impl_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lock(d.mu);
  // Ask the loop to accept and read everything pending, so that "no stream
  // from pid" can be told apart from "not read yet".
  const uint64_t round = ++d.sync_requested;
  lock.unlock();
  d.Wake();
  lock.lock();
  while (true) {
    // Decide only after that round: a later exec'd image of pid may be
    // waiting unread behind an image that already finished.
    const bool everything_read = d.sync_done >= round || d.loop_exited;
    const bool open = d.open_pids.count(pid) != 0;
    auto done = d.finished.find(pid);
    if (everything_read && !open) {
      if (done != d.finished.end()) return done->second.done;
      return std::nullopt;
    }
    if (d.changed.wait_until(lock, deadline) == std::cv_status::timeout) {
      if (!d.open_pids.count(pid) && d.finished.count(pid)) return d.finished[pid].done;
      return std::nullopt;
    }
  }
}

bool Server::StreamOpen(uint32_t pid) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->open_pids.count(pid) != 0;
}

std::vector<uint32_t> Server::WaitUntilIdle(std::chrono::milliseconds timeout) {
  Impl& d = *impl_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lock(d.mu);
  const auto idle = [&d] { return d.loop_exited || (d.open_pids.empty() && !d.pending_forks); };
  d.changed.wait_until(lock, deadline, idle);
  std::vector<uint32_t> open;
  for (const auto& [pid, streams] : d.open_pids) open.push_back(pid);
  std::sort(open.begin(), open.end());
  if (open.empty() && d.pending_forks && !d.loop_exited) open.push_back(0);  // not yet connected
  return open;
}

void Server::SetOnReport(std::function<void(const FinishedProcess&)> callback) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->on_report = std::move(callback);
}

// ---- The daemon's periodic work: snapshots, /metrics, peer checks. ----

// Every tick: the snapshots that are due, then a fresh /metrics text.
void Server::Impl::Tick() {
  if (options.snapshot_interval_s != 0) {
    const uint64_t interval_ns = options.snapshot_interval_s * 1'000'000'000;
    const uint64_t now = NowMonoNs();
    for (auto& [fd, c] : connections) {
      ProcessWatch& w = c->watch;
      if (w.last_snapshot_mono_ns == 0) w.last_snapshot_mono_ns = now;  // the interval starts now
      if (now - w.last_snapshot_mono_ns >= interval_ns) Snapshot(c.get(), "interval");
    }
  }
  for (auto& [fd, c] : connections) {
    if (!c->state.has_hello()) continue;
    if (options.dumps.at_limit_percent != 0) CheckLimit(c.get());
    if (pressure) AttachPressure(c.get());
  }
  if (options.metrics) RenderMetrics();
}

// RequestSnapshot() (SIGUSR1) asked: every open stream now.
void Server::Impl::SnapshotIfRequested() {
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!snapshot_requested) return;
    snapshot_requested = false;
  }
  ReadHellos(0);
  for (auto& [fd, c] : connections) Snapshot(c.get(), "requested");
}

// A snapshot asked just after a process started (its stream not accepted
// yet, or its hello unread): what the streams without a hello (of `pid`,
// unless 0) have queued, read first. The shim sends its hello before main().
void Server::Impl::ReadHellos(uint32_t pid) {
  AcceptAll();
  std::vector<Connection*> quiet;
  for (auto& [fd, c] : connections)
    if (!c->state.has_hello() && !c->held && (pid == 0 || c->peer_pid == pid))
      quiet.push_back(c.get());
  for (Connection* c : quiet) CatchUp(c, 0);
}

void Server::Impl::MaybeDumpAbove(Connection* c) {
  if (options.dump_above_bytes == 0 || c->watch.dumped_above) return;
  if (FromFixed(c->state.totals().live_bytes_fp, kByteFracBits) <= options.dump_above_bytes) return;
  c->watch.dumped_above = true;
  Snapshot(c, "dump-above");
}

// A report of the running process under a snapshot name; the oldest beyond
// --keep are deleted. On the loop thread: the symbol cache keeps it cheap.
// Returns its path, or "" (+ *error).
std::string Server::Impl::Snapshot(Connection* c, const char* why, std::string* error, bool scan) {
  std::string why_not;
  if (!error) error = &why_not;
  if (!c->state.has_hello()) return *error = "its stream has not said hello yet", "";
  c->watch.last_snapshot_mono_ns = NowMonoNs();
  ReportContext context;
  context.running = !c->state.has_goodbye();
  if ((options.scan_at_snapshots || scan) && context.running) c->ScanReachability(false, scan);
  context.end_time_unix_ns = context.written_unix_ns = NowUnixNs();
  report::Report report = c->watch.Report(c->state, context);
  const std::string path = WriteNewReport(SnapshotNames(options.output_dir, c->exe(), c->pid(),
                                                        context.written_unix_ns / 1'000'000'000),
                                          report, FileMode(), error);
  if (path.empty()) {
    std::fprintf(stderr, "leakscoped: snapshot (%s): %s\n", why, error->c_str());
    return "";
  }
  KeepNewest(&c->watch.snapshots, path, options.keep_snapshots);
  c->watch.last_snapshot_unix_ns = context.written_unix_ns;
  ++c->watch.snapshots_written;
  c->newest_snapshot_mono_ns = NowMonoNs();
  c->newest_snapshot_live = c->live_bytes();
  c->oom_cgroup = OwnMemoryCgroup(SystemCgroupMounts(), static_cast<pid_t>(c->peer_pid));
  if (c->oom_cgroup) c->oom_kills_then = OomKills(*c->oom_cgroup);
  std::function<void(const std::string&)> callback;
  {
    std::lock_guard<std::mutex> lock(mu);
    callback = on_snapshot;
  }
  if (callback) callback(path);
  return path;
}

// ---- Dumps before the kill (docs/leakscoped.md). ----

namespace {

// Resident bytes of `pid` (/proc/PID/statm), for --limit-bytes; 0 if unreadable.
uint64_t ResidentBytes(uint32_t pid) {
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/statm").c_str(), "re");
  unsigned long long size = 0, resident = 0;
  const bool ok = f && std::fscanf(f, "%llu %llu", &size, &resident) == 2;
  if (f) std::fclose(f);
  return ok ? resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

std::string Mib(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

}  // namespace

// After each message, before a query in it is answered (so a process that
// asks, leakscope_mark(), knows these dumps were taken): a new high-water
// mark, and a look at the limit if the heap moved enough since the last.
void Server::Impl::AfterApply(Connection* c, const wire::Message& m) {
  // Events applied inside a scan's pause: looked at with the next read.
  if (!m.has_events() || c->scanning) return;
  if (c->dumps.NewHighWater(c->live_bytes())) Snapshot(c, "high water");
  if (c->dumps.LimitLookDue(c->live_bytes())) CheckLimit(c);
}

// --dump-at-limit: the process's memory against its limit, every tick and
// when its heap moved: its cgroup's (the level nearest its limit) and, with
// --limit-bytes, its RSS against that; whichever is nearer.
void Server::Impl::CheckLimit(Connection* c) {
  const std::optional<MemoryLimit> cgroup =
      ReadMemoryLimit(SystemCgroupMounts(), static_cast<pid_t>(c->peer_pid));
  uint64_t usage = 0, limit = 0;
  std::string where;
  if (cgroup) {
    usage = cgroup->usage, limit = cgroup->limit;
    where = "cgroup v" + std::to_string(cgroup->version) + " " + cgroup->dir;
  }
  if (options.dumps.limit_bytes != 0) {
    const uint64_t rss = ResidentBytes(c->peer_pid), stand_in = options.dumps.limit_bytes;
    if (limit == 0 || static_cast<unsigned __int128>(rss) * limit >
                          static_cast<unsigned __int128>(usage) * stand_in) {
      usage = rss, limit = stand_in;
      where = "RSS against --limit-bytes";
    }
  }
  c->dumps.LimitLooked(c->live_bytes(), limit);
  if (!c->dumps.NearLimit(usage, limit)) return;
  std::fprintf(stderr, "leakscoped: pid %u (%s) is at %llu%% of its memory limit: %s of %s (%s)\n",
               c->pid(), c->exe().c_str(),
               static_cast<unsigned long long>(static_cast<unsigned __int128>(usage) * 100 / limit),
               Mib(usage).c_str(), Mib(limit).c_str(), where.c_str());
  Snapshot(c, "near limit");
}

// --dump-on-pressure: the stream joins the trigger of its cgroup's file, or
// the machine's where that cannot be armed (a root cgroup's file refuses).
void Server::Impl::AttachPressure(Connection* c) {
  if (!c->pressure_file.empty() || c->pressure_failed) return;
  std::string file =
      PressureFileFor(V2CgroupDir(SystemCgroupMounts(), static_cast<pid_t>(c->peer_pid)));
  bool opened = false;
  std::string error;
  int fd = pressure->Acquire(file, &opened, &error);
  if (fd < 0 && file != kSystemPressureFile) {
    std::string second;
    fd = pressure->Acquire(file = kSystemPressureFile, &opened, &second);
    error += fd < 0 ? "; " + second : "";
  }
  if (fd < 0) {
    c->pressure_failed = true;
    std::fprintf(stderr, "leakscoped: --dump-on-pressure: pid %u: %s\n", c->pid(), error.c_str());
    return;
  }
  c->pressure_file = file;
  if (!opened) return;
  pressure_files[fd] = file;
  epoll_event ev{};
  ev.events = EPOLLPRI;
  ev.data.fd = fd;
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

void Server::Impl::DetachPressure(Connection* c) {
  if (c->pressure_file.empty()) return;
  const int closed = pressure->Release(c->pressure_file);
  if (closed >= 0) pressure_files.erase(closed);
  c->pressure_file.clear();
}

// A trigger fired: its processes are dumped (at most one per kPressureSpacingNs each).
void Server::Impl::OnPressure(int fd, uint32_t events) {
  const std::string file = pressure_files[fd];
  if (events & EPOLLERR) {  // the cgroup went away: no more events from it
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
    return;
  }
  const uint64_t now = NowMonoNs();
  for (auto& [cfd, c] : connections) {
    if (c->pressure_file != file || !c->dumps.PressureDue(now)) continue;
    std::fprintf(stderr, "leakscoped: pid %u (%s): memory pressure (%s)\n", c->pid(),
                 c->exe().c_str(), file.c_str());
    Snapshot(c.get(), "pressure");
  }
}

// The stream ended without a goodbye (killed): its newest snapshot is
// renamed for the on-call, out of --keep's reach, beside the final report.
void Server::Impl::KeepLastBeforeDeath(Connection* c) {
  if (c->watch.snapshots.empty()) return;
  const bool oom = c->oom_cgroup && OomKills(*c->oom_cgroup) > c->oom_kills_then;
  std::string moved, error;
  const std::string from = c->watch.snapshots.back();
  if (report::MoveToNewName(from, BeforeDeathNames(options.output_dir, c->exe(), c->pid(), oom),
                            &moved, &error) != report::WriteStatus::kWritten) {
    std::fprintf(stderr, "leakscoped: %s\n", error.c_str());
    return;
  }
  c->watch.snapshots.back() = moved;
  const uint64_t live = c->live_bytes(), then = c->newest_snapshot_live;
  std::fprintf(
      stderr,
      "leakscoped: pid %u (%s) ended without a goodbye%s; its last snapshot, written "
      "%llu ms before the end with %s live (%s%s since), is %s\n",
      c->pid(), c->exe().c_str(), oom ? " (an OOM kill in its cgroup)" : "",
      static_cast<unsigned long long>((NowMonoNs() - c->newest_snapshot_mono_ns) / 1'000'000),
      Mib(then).c_str(), live >= then ? "+" : "-",
      Mib(live >= then ? live - then : then - live).c_str(), moved.c_str());
}

// ---- `leakscope snapshot PID`: a control request (wire.Control). ----

// The open stream of `pid` as the daemon sees it (its peer pid), else as the
// process sees itself (its Hello's, in a pid namespace); the newest image.
Connection* Server::Impl::FindTraced(uint32_t pid) {
  Connection* found = nullptr;
  for (bool own_view : {true, false}) {
    for (auto& [fd, c] : connections) {
      if (!c->state.has_hello() || (own_view ? c->peer_pid : c->pid()) != pid) continue;
      if (!found || c->start_time() > found->start_time()) found = c.get();
    }
    if (found) return found;
  }
  return nullptr;
}

void Server::Impl::AnswerControl(Connection* asker, const wire::Control& control) {
  asker->control_done = true;
  wire::Reply reply;
  const uint32_t pid = control.snapshot_pid();
  Connection* target = FindTraced(pid);
  if (!target) {
    ReadHellos(pid);
    target = FindTraced(pid);
  }
  std::string error;
  if (!target) {
    // kill(0): EPERM still means the pid exists (another user's).
    const bool exists = kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
    error = exists ? "pid " + std::to_string(pid) + " is not traced by this leakscoped"
                   : "no process with pid " + std::to_string(pid);
  } else if (!MaySnapshot(asker->peer_uid, target->peer_uid)) {
    error = "uid " + std::to_string(asker->peer_uid) + " may not ask for a snapshot of pid " +
            std::to_string(pid) + " (uid " + std::to_string(target->peer_uid) +
            "): only its own uid or root may";
  } else {
    const ReachabilityScan* before = target->state.reachability();
    reply.set_path(Snapshot(target, "asked", &error, control.reachability()));
    const ReachabilityScan* scan = target->state.reachability();
    if (control.reachability() && scan != before) {  // a scan was made for this snapshot
      reply.set_reachability_pause_ns(scan->pause_ns);
      reply.set_reachability_threads(static_cast<uint32_t>(scan->threads));
      reply.set_reachability_table_behind_ms(scan->table_behind_ms);
      reply.set_reachability_error(scan->error);
    } else if (control.reachability() && error.empty()) {  // its stream has ended
      reply.set_reachability_error("reachability: pid " + std::to_string(pid) +
                                   " is exiting: not scanned, survivors only");
    }
  }
  reply.set_ok(error.empty());
  reply.set_error(error);
  std::fprintf(stderr, "leakscoped: snapshot of pid %u asked by pid %u (uid %u): %s\n", pid,
               asker->peer_pid, asker->peer_uid,
               error.empty() ? reply.path().c_str() : error.c_str());
  const std::string body = reply.SerializeAsString();
  const uint32_t n = static_cast<uint32_t>(body.size());
  WriteFully(asker->fd, std::string{char(n), char(n >> 8), char(n >> 16), char(n >> 24)} + body,
             1000);
}

void Server::Impl::RenderMetrics() {
  std::vector<ProcessMetrics> processes;
  for (auto& [fd, c] : connections)
    if (c->state.has_hello())
      processes.push_back(
          CollectMetrics(c->state, &c->watch, options.metrics_top_sites, options.metrics_labels));
  std::sort(processes.begin(), processes.end(),
            [](const ProcessMetrics& a, const ProcessMetrics& b) { return a.pid < b.pid; });
  DaemonMetrics daemon;
  daemon.rss_bytes = OwnRssBytes();
  daemon.streams = connections.size();
  daemon.streams_total = streams_accepted;
  daemon.memory_budget_used = budget.used();
  std::string text = collector::RenderMetrics(daemon, processes);
  std::lock_guard<std::mutex> lock(mu);
  metrics_text = std::move(text);
  metrics_processes = std::move(processes);
}

// A peer whose uid is not allowed is logged and closed before it is read.
bool Server::Impl::PeerAllowed(int fd, const ucred& cred, bool have_cred) {
  if (have_cred && UidAllowed(cred.uid, options.allowed_uids)) return true;
  if (have_cred)
    std::fprintf(stderr, "leakscoped: refused pid %d: uid %u is not allowed (--allow-uid)\n",
                 static_cast<int>(cred.pid), static_cast<unsigned>(cred.uid));
  else
    std::fprintf(stderr, "leakscoped: refused a peer: SO_PEERCRED: %s\n", std::strerror(errno));
  close(fd);
  return false;
}

void Server::RequestSnapshot() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->snapshot_requested = true;
  }
  impl_->Wake();
}

void Server::SetOnSnapshot(std::function<void(const std::string& path)> callback) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->on_snapshot = std::move(callback);
}

// ---- /debug/pprof/heap: profiles built on the loop. ----

void Server::Impl::AnswerProfiles() {
  decltype(profile_requests) requests;
  {
    std::lock_guard<std::mutex> lock(mu);
    requests.swap(profile_requests);
  }
  for (auto& [request, done] : requests) done(Profile(request));
}

// The stream the request names: the newest image of the pid, the newest
// process of the service, or the only process. Null + *result's error if none.
Connection* Server::Impl::Select(const ProfileRequest& request, ProfileResult* result) {
  Connection* best = nullptr;
  size_t candidates = 0;
  for (auto& [fd, c] : connections) {
    if (!c->state.has_hello()) continue;
    if (request.pid != 0 && c->pid() != request.pid) continue;
    if (!request.service.empty() &&
        ServiceOf(c->state, c->watch, options.metrics_labels) != request.service)
      continue;
    ++candidates;
    if (!best || c->start_time() > best->start_time()) best = c.get();
  }
  const bool any = request.pid != 0 || !request.service.empty();
  if (best && (any || candidates == 1)) return best;
  result->status = candidates > 1 ? "400 Bad Request" : "404 Not Found";
  if (request.pid != 0)
    result->error = "no traced process with pid " + std::to_string(request.pid);
  else if (!request.service.empty())
    result->error = "no traced process of service '" + request.service + "'";
  else
    result->error = candidates ? std::to_string(candidates) +
                                     " traced processes: name one, ?pid=N or ?service=NAME"
                               : "no traced process";
  result->error += " (see /debug/pprof/processes)";
  return nullptr;
}

ProfileResult Server::Impl::Profile(const ProfileRequest& request) {
  ProfileResult result;
  Connection* c = Select(request, &result);
  if (!c) return result;
  result.pid = c->pid();
  ProcessWatch& w = c->watch;
  const uint64_t now = NowMonoNs();
  if (!w.profile_gzip || now - w.profile_mono_ns >= 1'000'000'000) {
    ReportContext context;
    context.running = !c->state.has_goodbye();
    context.end_time_unix_ns = context.written_unix_ns = NowUnixNs();
    std::string gzip, error;
    if (!pprof::GzipProfile(w.Report(c->state, context), &gzip, &error)) {
      result.status = "500 Internal Server Error";
      result.error = error;
      return result;
    }
    w.profile_gzip = std::make_shared<const std::string>(std::move(gzip));
    w.profile_mono_ns = now;
  }
  result.gzip = w.profile_gzip;
  return result;
}

void Server::RequestProfile(ProfileRequest request,
                            std::function<void(const ProfileResult&)> done) {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->profile_requests.emplace_back(std::move(request), std::move(done));
  }
  impl_->Wake();
}

std::vector<ProcessMetrics> Server::Processes() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->metrics_processes;
}

std::string Server::MetricsText() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->metrics_text;
}

}  // namespace leakscope::collector
