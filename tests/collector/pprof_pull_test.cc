// leakscoped's Go-style pull endpoints as the real `go tool pprof` sees them
// (Debian's golang-go): it fetches http://127.0.0.1:PORT/debug/pprof/heap?pid=N
// from a daemon serving a running program with known leaks, and must show
// their exact sites and bytes, and the program's build id in its mapping.
// The port stays read-only and says why it refuses.
#include <fcntl.h>
#include <ftw.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <sstream>

#include "daemon_test_util.h"
#include "http_test_util.h"

namespace leakscope::testing {
namespace {

using namespace std::chrono_literals;

int RemoveEntry(const char* path, const struct stat*, int, struct FTW*) {
  return remove(path);
}

// A command's standard output (popen: the command line is ours).
std::string Output(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  pclose(p);
  return out;
}

// `go tool pprof ARGS URL` with its caches in `home`.
std::string GoPprof(const std::string& home, const std::string& args, const std::string& url) {
  return Output("HOME=" + home + " GOCACHE=" + home + "/cache GOPATH=" + home +
                "/go GOPROXY=off GOTOOLCHAIN=local GOTELEMETRY=off PPROF_TMPDIR=" + home + " " +
                GO_BIN " tool pprof " + args + " '" + url + "' 2>&1");
}

// The flat column of -top's row for `function` ("" if no row names it).
std::string FlatOf(const std::string& top, const std::string& function) {
  std::istringstream lines(top);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string flat, word, last;
    fields >> flat;
    while (fields >> word) last = word;
    if (last.find(function) != std::string::npos) return flat;
  }
  return "";
}

// The GNU build id of `elf`, hex, as readelf prints it.
std::string BuildId(const std::string& elf) {
  const std::string out = Output("readelf -n " + elf);
  const std::string key = "Build ID: ";
  const size_t at = out.find(key);
  if (at == std::string::npos) return "";
  return out.substr(at + key.size(), out.find('\n', at) - at - key.size());
}

class PprofPull : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = MakeTempDir("leakscope-pprof-pull");
    int err[2], in[2], out[2];
    ASSERT_EQ(pipe2(err, O_CLOEXEC), 0);
    ASSERT_EQ(pipe2(in, O_CLOEXEC), 0);
    ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
    daemon = Spawn(
        {LEAKSCOPED_PATH, "--socket", dir + "/sock", "--output", dir, "--metrics", "127.0.0.1:0"},
        {}, err[1]);
    close(err[1]);
    port = MetricsPort(err[0]);
    daemon_err = err[0];
    program = Spawn({LEAK_AND_WAIT_PATH},
                    {"LD_PRELOAD=" SHIM_PATH, "LEAKSCOPE_SAMPLE_INTERVAL=1",
                     "LEAKSCOPE_SOCKET=" + dir + "/sock"},
                    -1, in[0], out[1]);
    close(in[0]);
    close(out[1]);
    program_stdin = in[1];
    char ready[6] = {};
    ASSERT_EQ(read(out[0], ready, sizeof ready), 6);
    close(out[0]);
    // The daemon has the leaks once its process list shows them.
    const std::string pid = "\"pid\":" + std::to_string(program);
    ASSERT_TRUE(WaitFor(
        [&] {
          const std::string list = HttpGet(port, "/debug/pprof/processes");
          const size_t at = list.find(pid);
          return at != std::string::npos &&
                 NumberAfter(list.substr(at), "\"live_bytes\":") >= 459600;
        },
        10s))
        << HttpGet(port, "/debug/pprof/processes");
  }
  void TearDown() override {
    if (program_stdin >= 0) close(program_stdin);
    if (program > 0) waitpid(program, nullptr, 0);
    StopChild(daemon);
    if (daemon_err >= 0) close(daemon_err);
    nftw(dir.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
  }
  std::string Url(const std::string& query) const {
    return "http://127.0.0.1:" + std::to_string(port) + "/debug/pprof/heap" + query;
  }

  std::string dir;
  pid_t daemon = -1, program = -1;
  int daemon_err = -1, program_stdin = -1;
  uint16_t port = 0;
};

TEST_F(PprofPull, GoToolPprofReadsTheLiveHeapOverHttp) {
  const std::string top = GoPprof(dir + "/home", "-top -sample_index=inuse_space -unit=B",
                                  Url("?pid=" + std::to_string(program)));
  // 100 x 4096 and 50 x 1000 bytes, every allocation recorded.
  EXPECT_EQ(FlatOf(top, "LeakPages"), "409600B") << top;
  EXPECT_EQ(FlatOf(top, "LeakRecords"), "50000B") << top;
  const std::string objects = GoPprof(dir + "/home", "-top -sample_index=inuse_objects",
                                      Url("?pid=" + std::to_string(program)));
  EXPECT_EQ(FlatOf(objects, "LeakPages"), "100") << objects;
  EXPECT_EQ(FlatOf(objects, "LeakRecords"), "50") << objects;
}

TEST_F(PprofPull, MappingsCarryTheBuildId) {
  const std::string id = BuildId(LEAK_AND_WAIT_PATH);
  ASSERT_EQ(id.size(), 40u) << id;
  const std::string raw = GoPprof(dir + "/home", "-raw", Url(""));  // the only process
  const size_t mapping = raw.find(LEAK_AND_WAIT_PATH " " + id);
  EXPECT_NE(mapping, std::string::npos) << raw;
  EXPECT_NE(raw.find("[FN][FL][LN][IN]", mapping), std::string::npos) << raw;
}

TEST_F(PprofPull, ServedAsGoServesItAndReadOnly) {
  const std::string response =
      HttpExchange(port, "GET /debug/pprof/heap?service=leak_and_wait HTTP/1.0\r\n\r\n");
  EXPECT_EQ(response.rfind("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n", 0), 0u)
      << response.substr(0, 300);
  EXPECT_NE(response.find("\r\nContent-Disposition: attachment; filename=\"heap\"\r\n"),
            std::string::npos);
  // A gzip stream: its magic bytes open the body.
  const size_t body = response.find("\r\n\r\n") + 4;
  ASSERT_GT(response.size(), body + 2);
  EXPECT_EQ(response.substr(body, 2), "\x1f\x8b");
  const auto status = [&](const std::string& request) {
    const std::string r = HttpExchange(port, request);
    return r.substr(0, r.find("\r\n")) + " | " + r.substr(r.find("\r\n\r\n") + 4);
  };
  EXPECT_EQ(status("POST /debug/pprof/heap?pid=1 HTTP/1.0\r\n\r\n"),
            "HTTP/1.1 405 Method Not Allowed | only GET\n");
  EXPECT_EQ(status("DELETE /metrics HTTP/1.0\r\n\r\n"),
            "HTTP/1.1 405 Method Not Allowed | only GET\n");
  EXPECT_EQ(status("GET /debug/pprof/heap?pid=4000000000 HTTP/1.0\r\n\r\n"),
            "HTTP/1.1 404 Not Found | no traced process with pid 4000000000 (see "
            "/debug/pprof/processes)\n");
  EXPECT_EQ(status("GET /debug/pprof/heap?service=nginx HTTP/1.0\r\n\r\n"),
            "HTTP/1.1 404 Not Found | no traced process of service 'nginx' (see "
            "/debug/pprof/processes)\n");
  EXPECT_EQ(status("GET /debug/pprof/heap?pid=12x HTTP/1.0\r\n\r\n"),
            "HTTP/1.1 400 Bad Request | pid=12x: not a process id\n");
  EXPECT_EQ(status("GET /debug/pprof/heap?debug=1 HTTP/1.0\r\n\r\n"),
            "HTTP/1.1 400 Bad Request | debug=1: only the protobuf profile (debug=0)\n");
  EXPECT_EQ(status("GET /debug/pprof/heap?seconds=30 HTTP/1.0\r\n\r\n"),
            "HTTP/1.1 400 Bad Request | seconds: delta profiles are not served, only the live "
            "heap now\n");
  EXPECT_EQ(status("GET /debug/pprof/profile HTTP/1.0\r\n\r\n"),
            "HTTP/1.1 404 Not Found | see /metrics, /debug/pprof/heap?pid=N, "
            "/debug/pprof/processes\n");
  // The index links the process's profile.
  EXPECT_NE(HttpGet(port, "/debug/pprof/")
                .find("<a href=\"heap?pid=" + std::to_string(program) + "\">heap</a>"),
            std::string::npos);
}

}  // namespace
}  // namespace leakscope::testing
