#include "live_metrics.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace leakscope::viewer {
namespace {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// key="value" pairs up to the closing brace; escapes \\ \" \n.
bool ParseLabels(const std::string& line, size_t* i, std::map<std::string, std::string>* out) {
  while (*i < line.size() && line[*i] != '}') {
    const size_t eq = line.find("=\"", *i);
    if (eq == std::string::npos) return false;
    std::string key = line.substr(*i, eq - *i), value;
    size_t j = eq + 2;
    for (; j < line.size() && line[j] != '"'; ++j) {
      if (line[j] == '\\' && j + 1 < line.size()) {
        ++j;
        value += line[j] == 'n' ? '\n' : line[j];
      } else {
        value += line[j];
      }
    }
    if (j >= line.size()) return false;
    (*out)[std::move(key)] = std::move(value);
    *i = j + 1;
    if (*i < line.size() && line[*i] == ',') ++*i;
  }
  if (*i >= line.size()) return false;
  ++*i;  // '}'
  return true;
}

bool ParseSample(const std::string& line, Sample* s) {
  if (line.empty() || line[0] == '#') return false;
  size_t i = line.find_first_of("{ ");
  if (i == std::string::npos) return false;
  s->name = line.substr(0, i);
  if (line[i] == '{' && !ParseLabels(line, &++i, &s->labels)) return false;
  const char* start = line.c_str() + i;
  char* end = nullptr;
  s->value = std::strtod(start, &end);
  return end != start;
}

uint64_t Count(double v) {
  return v > 0 ? static_cast<uint64_t>(v + 0.5) : 0;
}

LiveSite* SiteOf(LiveProcess* p, const Sample& s) {
  const auto id = s.labels.find("site_id");
  if (id == s.labels.end()) return nullptr;
  for (LiveSite& site : p->sites)
    if (site.site_id == id->second) return &site;
  LiveSite site;
  site.site_id = id->second;
  const auto name = s.labels.find("site");
  if (name != s.labels.end()) site.site = name->second;
  p->sites.push_back(std::move(site));
  return &p->sites.back();
}

void Apply(const Sample& s, LiveProcess* p) {
  if (s.name == "leakscope_live_bytes") p->live_bytes = Count(s.value);
  if (s.name == "leakscope_live_allocations") p->live_allocations = Count(s.value);
  if (s.name == "leakscope_rss_bytes") p->rss_bytes = Count(s.value);
  if (s.name == "leakscope_site_live_bytes" || s.name == "leakscope_site_live_allocations") {
    LiveSite* site = SiteOf(p, s);
    if (!site) return;
    (s.name == "leakscope_site_live_bytes" ? site->live_bytes : site->live_allocations) =
        Count(s.value);
  }
}

int RemainingMs(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// True once non-blocking `fd`'s connect() has finished by `deadline`.
bool Connected(int fd, std::chrono::steady_clock::time_point deadline) {
  pollfd p{fd, POLLOUT, 0};
  int error = 0;
  socklen_t size = sizeof error;
  if (poll(&p, 1, RemainingMs(deadline)) <= 0) return errno = ETIMEDOUT, false;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0 || error != 0)
    return errno = error ? error : errno, false;
  return true;
}

// A connected TCP socket to host:port by `deadline` (a host that does not
// answer cannot hold the view), or -1 and *error.
int Connect(const std::string& host, const std::string& port,
            std::chrono::steady_clock::time_point deadline, std::string* error) {
  addrinfo hints{}, *found = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) {
    *error = host + ":" + port + ": " + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = found; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0 &&
        (errno != EINPROGRESS || !Connected(fd, deadline))) {
      *error = host + ":" + port + ": " + std::strerror(errno);
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  return fd;
}

}  // namespace

std::map<uint32_t, LiveProcess> ParseLiveMetrics(const std::string& text) {
  std::map<uint32_t, LiveProcess> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    Sample s;
    if (ParseSample(text.substr(start, end - start), &s)) {
      const auto pid = s.labels.find("pid");
      char* tail = nullptr;
      const unsigned long n =
          pid == s.labels.end() ? 0 : std::strtoul(pid->second.c_str(), &tail, 10);
      if (n > 0 && n <= UINT32_MAX && *tail == '\0') {
        LiveProcess& p = out[static_cast<uint32_t>(n)];
        p.pid = static_cast<uint32_t>(n);
        if (const auto exe = s.labels.find("exe"); exe != s.labels.end()) p.exe = exe->second;
        Apply(s, &p);
      }
    }
    start = end + 1;
  }
  return out;
}

bool ParseMetricsAddress(const std::string& address, std::string* host, std::string* port) {
  std::string rest = address;
  if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
  const size_t slash = rest.find('/');
  if (slash != std::string::npos) {
    if (rest.substr(slash) != "/metrics") return false;
    rest.resize(slash);
  }
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) return false;
  *host = rest.substr(0, colon);
  *port = rest.substr(colon + 1);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']')
    *host = host->substr(1, host->size() - 2);
  return port->find_first_not_of("0123456789") == std::string::npos && port->size() <= 5;
}

bool FetchMetrics(const std::string& host, const std::string& port, int timeout_ms,
                  std::string* body, std::string* error) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  const int fd = Connect(host, port, deadline, error);
  if (fd < 0) return false;
  const std::string request =
      "GET /metrics HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
  std::string response;
  bool sent = send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
              static_cast<ssize_t>(request.size());
  while (sent) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, RemainingMs(deadline)) <= 0) break;
    char buf[16384];
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    response.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  const size_t head = response.find("\r\n\r\n");
  if (!sent || head == std::string::npos) {
    *error = host + ":" + port + ": no answer within " + std::to_string(timeout_ms) + " ms";
    return false;
  }
  if (response.rfind("HTTP/1.1 200", 0) != 0) {
    *error = host + ":" + port + "/metrics: " + response.substr(0, response.find("\r\n"));
    return false;
  }
  *body = response.substr(head + 4);
  return true;
}

}  // namespace leakscope::viewer
