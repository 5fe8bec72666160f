#include "query_handler.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <map>
#include <tuple>
#include <unordered_map>

#include "call_site.h"
#include "cxx_names.h"
#include "report_builder.h"
#include "report_file.h"
#include "sample_weight.h"
#include "snapshot_files.h"

namespace leakscope::collector {
namespace {

constexpr uint32_t kDefaultSites = 10;
constexpr uint32_t kMaxSites = 64;

uint64_t NowUnixNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

struct Sum {
  uint64_t bytes_fp = 0, count_fp = 0;
};

bool Contains(const SymbolizedFrame& f,
              const google::protobuf::RepeatedPtrField<std::string>& any) {
  for (const std::string& s : any)
    if (!s.empty() && f.function.find(s) != std::string::npos) return true;
  return false;
}

bool Allowed(const std::vector<SymbolizedFrame>& frames, const wire::Query& query) {
  for (const SymbolizedFrame& f : frames) {
    if (Contains(f, query.stop_functions())) return false;
    if (Contains(f, query.allow_functions())) return true;
  }
  return false;
}

// Sites are told apart in failure messages by their call site: stacks that
// differ only further out are one line there.
using SiteKey = std::tuple<std::string, std::string, uint32_t>;

}  // namespace

wire::Reply QueryHandler::Answer(const ProcessState& state, const wire::Query& query) {
  wire::Reply reply;
  reply.set_id(query.id());
  reply.set_ok(true);
  reply.set_mark(state.allocation_seq());
  switch (query.kind()) {
    case wire::Query::MARK:
      break;
    case wire::Query::LIVE_SINCE:
      LiveSince(state, query, &reply);
      break;
    case wire::Query::SNAPSHOT:
      Snapshot(state, query, &reply);
      break;
    case wire::Query::REACHABILITY:  // scanned by the server just before
      if (const ReachabilityScan* scan = state.reachability(); !scan || !scan->ok) {
        reply.set_ok(false);
        reply.set_error(scan ? scan->error : "reachability: no scan");
      }
      break;
    default:
      reply.set_ok(false);
      reply.set_error("unknown query kind " + std::to_string(query.kind()));
  }
  return reply;
}

const std::vector<SymbolizedFrame>& QueryHandler::Frames(const ProcessState& state, uint32_t site) {
  if (!symbolizer_) symbolizer_ = std::make_unique<Symbolizer>();
  for (; modules_added_ < state.modules().size(); ++modules_added_)
    symbolizer_->AddModule(state.modules()[modules_added_]);
  frames_.clear();
  for (uint64_t pc : state.site_pcs(site)) {
    const auto& f = symbolizer_->Symbolize(pc ? pc - 1 : 0);  // call site = return address - 1
    frames_.insert(frames_.end(), f.begin(), f.end());
  }
  size_t drop = 0;
  while (drop + 1 < frames_.size() && IsAllocatorFrame(frames_[drop])) ++drop;
  frames_.erase(frames_.begin(), frames_.begin() + drop);
  return frames_;
}

void QueryHandler::LiveSince(const ProcessState& state, const wire::Query& query,
                             wire::Reply* reply) {
  const SampleWeights& weights = state.weights();
  std::unordered_map<uint32_t, Sum> by_site;
  state.live_table().ForEach([&](uint64_t, const LiveAllocation& a) {
    if (a.seq <= query.mark()) return;
    const SampleWeight w = weights.For(a.size);
    Sum& s = by_site[a.site];
    s.bytes_fp += w.bytes_fp;
    s.count_fp += w.count_fp;
  });
  Sum total, allowed;
  std::map<SiteKey, Sum> shown;
  for (const auto& [site, sum] : by_site) {
    const auto& frames = Frames(state, site);
    if (Allowed(frames, query)) {
      allowed.bytes_fp += sum.bytes_fp;
      continue;
    }
    total.bytes_fp += sum.bytes_fp;
    total.count_fp += sum.count_fp;
    // Named by their call site (proto/call_site.h), as the reports do.
    // A stack the shim had no room for has no frames: "" (shown as "?").
    const int index = callsite::CallSiteIndex(Refs(frames));
    SiteKey key;
    if (index >= 0) {
      const SymbolizedFrame& call = frames[static_cast<size_t>(index)];
      key = {call.function.empty() ? call.module : cxxnames::ShortenTemplates(call.function),
             call.file, call.line};
    }
    Sum& s = shown[key];
    s.bytes_fp += sum.bytes_fp;
    s.count_fp += sum.count_fp;
  }
  reply->set_live_bytes(FromFixed(total.bytes_fp, kByteFracBits));
  reply->set_live_allocations(FromFixed(total.count_fp, kCountFracBits));
  reply->set_allowed_bytes(FromFixed(allowed.bytes_fp, kByteFracBits));
  reply->set_estimated(!weights.exact());
  std::vector<std::pair<SiteKey, Sum>> order(shown.begin(), shown.end());
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return a.second.bytes_fp > b.second.bytes_fp;
  });
  const uint32_t limit = std::min(query.max_sites() ? query.max_sites() : kDefaultSites, kMaxSites);
  for (size_t i = 0; i < order.size() && i < limit; ++i) {
    wire::ReplySite* out = reply->add_sites();
    out->set_function(std::get<0>(order[i].first));
    out->set_file(std::get<1>(order[i].first));
    out->set_line(std::get<2>(order[i].first));
    out->set_bytes(FromFixed(order[i].second.bytes_fp, kByteFracBits));
    out->set_allocations(FromFixed(order[i].second.count_fp, kCountFracBits));
  }
}

void QueryHandler::Snapshot(const ProcessState& state, const wire::Query& query,
                            wire::Reply* reply) {
  ReportContext context;
  context.running = true;
  context.end_time_unix_ns = context.written_unix_ns = NowUnixNs();
  report::Report report = BuildReport(state, context);
  std::string error;
  if (query.send_report()) {
    std::string bytes;
    if (!report::EncodeReportFile(report, &bytes)) {
      error = "cannot serialize the report";
    } else if (bytes.size() > kMaxReportReplyBytes) {
      error = "the report is " + std::to_string(bytes.size()) + " bytes, more than " +
              std::to_string(kMaxReportReplyBytes) + " can be sent: ask for a file instead";
    } else {
      reply->set_report(std::move(bytes));
      return;
    }
  } else {
    // query.path() is ignored: a client never chooses where the collector writes.
    const std::string exe = state.has_hello() ? state.hello().exe() : "unknown";
    const std::string path = WriteNewReport(
        AskedSnapshotNames(output_dir_, exe, state.hello().pid(), query.label(), ++snapshots_),
        report, mode_, &error);
    if (!path.empty()) {
      reply->set_path(path);
      return;
    }
  }
  reply->set_ok(false);
  reply->set_error(error);
}

void QueryHandler::AnswerOn(int fd, const ProcessState& state, const wire::Query& query) {
  const std::string body = Answer(state, query).SerializeAsString();
  const uint32_t n = static_cast<uint32_t>(body.size());
  std::string bytes{char(n), char(n >> 8), char(n >> 16), char(n >> 24)};
  // A report's bytes take longer to send: 1 s more per 64 MiB.
  WriteFully(fd, bytes + body, 1000 + int(body.size() >> 16));
}

bool WriteFully(int fd, const std::string& bytes, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLOUT, 0};
    poll(&p, 1, static_cast<int>(left.count()));
  }
  return true;
}

}  // namespace leakscope::collector
