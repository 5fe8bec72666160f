// Collector ingest benchmarks: events per second on one core for decoding
// (framing, LZ4, protobuf, validation) and for applying events to the live
// table, from a stream built in memory like the shim's (churn pattern: 64-slot
// window per thread, 16-512 bytes, 200 stacks, 16384 events per frame), or
// from a stream recorded from a real run (LEAKSCOPE_BENCH_STREAM=FILE, as
// scripts/compare-peers records through its byte-counting proxy).
// Also the collector's memory per live allocation (BM_LiveMemory), and the
// whole stream through a Server as `leakscope run` has it (BM_ServeStream).
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "framing.h"
#include "process_state.h"
#include "server.h"
#include "stream_decoder.h"
#include "wire_test_encoder.h"

namespace leakscope::collector {
namespace {

constexpr int kStacks = 200;
constexpr size_t kEventsPerFrame = 16384;

struct Stream {
  std::string bytes;
  uint64_t events = 0;
};

// Events a message stands for: sent ones, and two per folded allocation
// (preload/transient_folder.h), which the collector also accounts for.
uint64_t EventsIn(const wire::Events& e) {
  uint64_t n = uint64_t(e.size_plus_one_size());
  for (uint64_t count : e.transient_count()) n += 2 * count;
  return n;
}

uint64_t CountEvents(const std::string& bytes) {
  uint64_t events = 0;
  StreamDecoder d([&](const wire::Message& m) { events += EventsIn(m.events()); });
  d.Feed(bytes.data(), bytes.size());
  return events;
}

Stream Synthetic(uint64_t pairs) {
  using namespace leakscope::testing;
  Stream s;
  s.bytes = StreamHeader() + Frame(HelloMessage(1234, "/usr/bin/churn"));
  uint64_t x = 0x9E3779B97F4A7C15ull;
  uint64_t live[64] = {};
  EventsBuilder events;
  wire::Message m;
  size_t in_frame = 0;
  uint64_t time_ns = 0;
  for (int id = 1; id <= kStacks; ++id) {
    std::vector<uint64_t> pcs;
    for (int f = 0; f < 16; ++f) pcs.push_back(0x555555554000ull + uint64_t(id) * 977 + f * 131);
    AddStack(&m, static_cast<uint32_t>(id), pcs);
  }
  for (uint64_t i = 0; i < pairs; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    uint64_t& slot = live[x % 64];
    if (slot) events.Free(slot);
    // glibc-like addresses: a small heap region, 16-byte aligned.
    slot = 0x555555600000ull + ((x >> 20) % 65536) * 16;
    events.Alloc(slot, 16 + (x >> 32) % 497, 1 + static_cast<uint32_t>((x >> 48) % kStacks));
    in_frame += 2;
    if (in_frame >= kEventsPerFrame || i + 1 == pairs) {
      *m.mutable_events() = events.Build(time_ns += 10000000);
      s.bytes += Frame(m);
      s.events += in_frame;
      m.Clear();
      in_frame = 0;
    }
  }
  return s;
}

const Stream& TheStream() {
  static const Stream* s = [] {
    auto* st = new Stream;
    if (const char* path = std::getenv("LEAKSCOPE_BENCH_STREAM")) {
      std::ifstream in(path, std::ios::binary);
      st->bytes.assign(std::istreambuf_iterator<char>(in), {});
      st->events = CountEvents(st->bytes);
    } else {
      *st = Synthetic(1000000);
    }
    return st;
  }();
  return *s;
}

void SetCounters(benchmark::State& state, const Stream& s) {
  state.SetItemsProcessed(state.iterations() * int64_t(s.events));
  state.SetBytesProcessed(state.iterations() * int64_t(s.bytes.size()));
  state.counters["events"] = double(s.events);
  state.counters["wire_bytes_per_event"] = s.events ? double(s.bytes.size()) / double(s.events) : 0;
}

// Framing + LZ4 + protobuf parse + validation, the sink does nothing.
void BM_Decode(benchmark::State& state) {
  const Stream& s = TheStream();
  for (auto _ : state) {
    uint64_t n = 0;
    StreamDecoder d([&](const wire::Message& m) { n += EventsIn(m.events()); });
    // In read()-sized pieces, as the server feeds it.
    for (size_t off = 0; off < s.bytes.size(); off += 65536)
      d.Feed(s.bytes.data() + off, std::min<size_t>(65536, s.bytes.size() - off));
    benchmark::DoNotOptimize(n);
  }
  SetCounters(state, s);
}
BENCHMARK(BM_Decode)->Unit(benchmark::kMillisecond);

// Decoding and applying to a fresh process state: the collector's whole
// per-event work until the report.
void BM_DecodeAndApply(benchmark::State& state) {
  const Stream& s = TheStream();
  for (auto _ : state) {
    auto ps = std::make_unique<ProcessState>();
    StreamDecoder d([&](const wire::Message& m) { ps->Apply(m); });
    for (size_t off = 0; off < s.bytes.size(); off += 65536)
      d.Feed(s.bytes.data() + off, std::min<size_t>(65536, s.bytes.size() - off));
    benchmark::DoNotOptimize(ps->live_table_size());
    state.PauseTiming();
    ps.reset();  // tearing the table down is not ingest
    state.ResumeTiming();
  }
  SetCounters(state, s);
}
BENCHMARK(BM_DecodeAndApply)->Unit(benchmark::kMillisecond);

// Applying already-decoded messages only: the live-table side.
void BM_Apply(benchmark::State& state) {
  const Stream& s = TheStream();
  std::vector<wire::Message> messages;
  StreamDecoder d([&](const wire::Message& m) { messages.push_back(m); });
  d.Feed(s.bytes.data(), s.bytes.size());
  for (auto _ : state) {
    auto ps = std::make_unique<ProcessState>();
    for (const wire::Message& m : messages) ps->Apply(m);
    benchmark::DoNotOptimize(ps->live_table_size());
    state.PauseTiming();
    ps.reset();
    state.ResumeTiming();
  }
  SetCounters(state, s);
}
BENCHMARK(BM_Apply)->Unit(benchmark::kMillisecond);

// The stream sent to a Server over its socket, as `leakscope run` serves it
// (symbols prewarmed while the stream comes, no fsync), until its report is
// written: decoding, applying, symbolizing, building and writing the
// report. CPU time is the whole process's (the server's loop and its
// symbolizer threads). A recorded stream (LEAKSCOPE_BENCH_STREAM) of a
// program on this machine symbolizes against its real modules. With
// range(0) > 0, a pause of that many microseconds after each frame: a
// traced program's drain sends a frame every few milliseconds, and the
// server then sees each frame's new stacks on their own.
void BM_ServeStream(benchmark::State& state) {
  const Stream& s = TheStream();
  const auto pause = std::chrono::microseconds(state.range(0));
  const std::string dir =
      std::filesystem::temp_directory_path() / ("leakscope-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  uint64_t faults = 0;
  for (auto _ : state) {
    rusage before{};
    getrusage(RUSAGE_SELF, &before);
    ServerOptions options(dir + "/collector.sock", dir);
    options.prewarm_symbols = true;
    options.sync_reports = false;
    Server server(options);
    std::string error;
    if (!server.Listen(&error)) {
      state.SkipWithError(error.c_str());
      break;
    }
    std::mutex mu;
    std::condition_variable cv;
    bool reported = false;
    server.SetOnReport([&](const FinishedProcess&) {
      std::lock_guard<std::mutex> lock(mu);
      reported = true;
      cv.notify_all();
    });
    std::thread loop([&] { server.Run(); });
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", options.socket_path.c_str());
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      state.SkipWithError("connect");
      server.Stop();
      loop.join();
      break;
    }
    // The stream header, then frame by frame (8-byte header: compressed size, raw size).
    for (size_t off = 0, end = wire::kStreamHeaderSize; off < s.bytes.size();) {
      const ssize_t n = write(fd, s.bytes.data() + off, end - off);
      if (n <= 0) break;
      off += size_t(n);
      if (off < end) continue;
      if (pause.count() && off > wire::kStreamHeaderSize) std::this_thread::sleep_for(pause);
      if (off + wire::kFrameHeaderSize > s.bytes.size()) break;
      uint32_t compressed = 0;
      std::memcpy(&compressed, s.bytes.data() + off, sizeof compressed);
      end = std::min(s.bytes.size(), off + wire::kFrameHeaderSize + compressed);
    }
    close(fd);
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return reported; });
    }
    server.Stop();
    loop.join();
    rusage after{};
    getrusage(RUSAGE_SELF, &after);
    faults += uint64_t(after.ru_minflt - before.ru_minflt);
    state.PauseTiming();
    for (const auto& f : std::filesystem::directory_iterator(dir))
      if (f.path().extension() == ".lsr") std::filesystem::remove(f.path());
    state.ResumeTiming();
  }
  std::filesystem::remove_all(dir);
  SetCounters(state, s);
  // Page faults cost 6-15 us each on this VM: a good part of the CPU.
  state.counters["page_faults"] =
      benchmark::Counter(double(faults), benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_ServeStream)
    ->Arg(0)
    ->Arg(1000)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

// Heap bytes the collector holds per live allocation: 1M (or range(0)) live
// allocations over 200 sites, measured with mallinfo2 (glibc's own count:
// small chunks in uordblks, the big table arrays are mmapped, in hblkhd).
size_t HeapInUse() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}
void BM_LiveMemory(benchmark::State& state) {
  const int64_t n = state.range(0);
  double per_live = 0;
  for (auto _ : state) {
    const size_t before = HeapInUse();
    auto ps = std::make_unique<ProcessState>();
    ps->Apply(leakscope::testing::HelloMessage(1, "/x"));
    wire::Message m;
    for (int id = 1; id <= kStacks; ++id)
      leakscope::testing::AddStack(&m, static_cast<uint32_t>(id), {uint64_t(0x1000 + id), 0x2000});
    ps->Apply(m);
    for (int64_t i = 0; i < n; ++i)
      ps->Allocate(0x555555600000ull + uint64_t(i) * 48, 16 + i % 497,
                   static_cast<uint32_t>(i % kStacks), 0);
    per_live = double(HeapInUse() - before) / double(n);
    benchmark::DoNotOptimize(ps->live_table_size());
  }
  state.counters["bytes_per_live_allocation"] = per_live;
}
BENCHMARK(BM_LiveMemory)->Arg(100000)->Arg(1000000)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace leakscope::collector

BENCHMARK_MAIN();
