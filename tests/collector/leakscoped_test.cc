// The leakscoped daemon as a user runs it: flags, exit codes, one-line
// errors, and SIGTERM reporting the streams still open.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "report_file.h"
#include "wire_test_encoder.h"

namespace leakscope::collector {
namespace {

struct Daemon {
  pid_t pid = -1;
  int out = -1, err = -1;  // read ends of its stdout and stderr
};

Daemon Start(std::vector<std::string> args) {
  args.insert(args.begin(), LEAKSCOPED_PATH);
  int out[2], err[2];
  EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
  EXPECT_EQ(pipe2(err, O_CLOEXEC), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(err[1], 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  return {pid, out[0], err[0]};
}

std::string ReadAll(int fd) {
  std::string s;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) s.append(buf, n);
  close(fd);
  return s;
}

// Reads stderr up to and including the first newline.
std::string ReadLine(int fd) {
  std::string line;
  char c;
  while (read(fd, &c, 1) == 1 && c != '\n') line += c;
  return line;
}

int Wait(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct Result {
  int code;
  std::string out, err;
};

Result RunToEnd(std::vector<std::string> args) {
  Daemon d = Start(std::move(args));
  std::string out = ReadAll(d.out), err = ReadAll(d.err);
  return {Wait(d.pid), out, err};
}

TEST(Leakscoped, Help) {
  Result r = RunToEnd({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out.rfind("usage: leakscoped --socket PATH --output DIR [options]\n", 0), 0u)
      << r.out;
  EXPECT_EQ(r.err, "");
}

TEST(Leakscoped, BadCommandLinesExit2WithOneLine) {
  Result r = RunToEnd({"--bogus"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "leakscoped: unknown argument '--bogus' (try --help)\n");
  r = RunToEnd({"--socket"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "leakscoped: --socket needs a value\n");
  r = RunToEnd({"--socket", "/tmp/x.sock"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "leakscoped: --socket and --output are required (try --help)\n");
  r = RunToEnd({"--socket", "/tmp/x.sock", "--output", "/tmp", "--keep", "-1"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "leakscoped: --keep: '-1' is not a number from 0 to 1000000\n");
  r = RunToEnd({"--socket", "/tmp/x.sock", "--output", "/tmp", "--max-stack-depth", "300"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "leakscoped: --max-stack-depth: '300' is not a number from 0 to 256\n");
  r = RunToEnd({"--socket", "/tmp/x.sock", "--output", "/tmp", "--dump-above", "64KB"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "leakscoped: --dump-above: '64KB' is not a size from 0 to 18446744073709551615 bytes "
            "(e.g. 4096, 512K, 64M, 2G)\n");
  // Binary units: 17M is 17 x 2^20, over the 16 MiB cap (16M is not: below).
  r = RunToEnd({"--socket", "/tmp/x.sock", "--output", "/tmp", "--max-frame-bytes", "17M"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "leakscoped: --max-frame-bytes: '17M' is not a size from 0 to 16777216 bytes "
            "(e.g. 4096, 512K, 64M, 2G)\n");
  r = RunToEnd({"--socket", "/tmp/x.sock", "--output", "/nonexistent/dir"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "leakscoped: output folder '/nonexistent/dir': cannot create: No such file or directory\n");
}

class LeakscopedRunning : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/leakscoped-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::string dir;
};

TEST_F(LeakscopedRunning, SocketPathTakenByAFile) {
  std::ofstream(dir + "/file") << "x";
  Result r = RunToEnd({"--socket", dir + "/file", "--output", dir});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "leakscoped: " + dir + "/file: exists and is not a socket\n");
}

// Sizes take the same syntax as everywhere else (byte_size.h).
TEST_F(LeakscopedRunning, SizeFlagsTakeUnits) {
  const std::string sock = dir + "/s.sock";
  Daemon d = Start(
      {"--socket", sock, "--output", dir, "--dump-above", "512K", "--max-frame-bytes", "16M"});
  EXPECT_EQ(ReadLine(d.err), "leakscoped: listening on " + sock);
  kill(d.pid, SIGTERM);
  EXPECT_EQ(ReadAll(d.err), "");
  EXPECT_EQ(Wait(d.pid), 0);
  close(d.out);
}

TEST_F(LeakscopedRunning, SigtermReportsOpenStreams) {
  const std::string sock = dir + "/s.sock";
  Daemon d = Start({"--socket", sock, "--output", dir});
  ASSERT_EQ(ReadLine(d.err), "leakscoped: listening on " + sock);

  wire::Message m = testing::HelloMessage(31337, "/bin/longrun");
  testing::AddStack(&m, 1, {0x1001});
  *m.mutable_events() = testing::EventsBuilder().Alloc(0x10, 4096, 1).Build(1);
  const std::string stream = testing::StreamHeader() + testing::Frame(m);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, sock.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(write(fd, stream.data(), stream.size()), static_cast<ssize_t>(stream.size()));

  kill(d.pid, SIGTERM);  // the stream is still open: reported as running
  const std::string report_path = dir + "/longrun.31337.lsr";
  EXPECT_EQ(ReadAll(d.err), "leakscoped: wrote " + report_path + "\n");
  EXPECT_EQ(Wait(d.pid), 0);
  close(fd);
  close(d.out);
  report::Report r;
  std::string error;
  ASSERT_TRUE(report::ReadReportFile(report_path, &r, &error)) << error;
  EXPECT_EQ(r.process().end(), report::Process::RUNNING);
  EXPECT_EQ(r.totals().live_bytes(), 4096u);
  EXPECT_FALSE(std::filesystem::exists(sock));
}

TEST_F(LeakscopedRunning, BadMetricsAddressAndUnknownGroupExit1WithOneLine) {
  Result r = RunToEnd({"--socket", dir + "/s.sock", "--output", dir, "--metrics", "localhost:1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "leakscoped: --metrics 'localhost:1': expected IPv4ADDR:PORT, e.g. 127.0.0.1:9464\n");
  r = RunToEnd({"--socket", dir + "/s.sock", "--output", dir, "--socket-group", "no-such-group-x"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "leakscoped: --socket-group no-such-group-x: no such group\n");
}

TEST_F(LeakscopedRunning, Sigusr1WritesASnapshot) {
  const std::string sock = dir + "/s.sock";
  Daemon d = Start({"--socket", sock, "--output", dir, "--allow-uid", std::to_string(geteuid())});
  ASSERT_EQ(ReadLine(d.err), "leakscoped: listening on " + sock);
  wire::Message m = testing::HelloMessage(31338, "/bin/snappy");
  testing::AddStack(&m, 1, {0x1001});
  *m.mutable_events() = testing::EventsBuilder().Alloc(0x10, 512, 1).Build(1);
  const std::string stream = testing::StreamHeader() + testing::Frame(m);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, sock.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(write(fd, stream.data(), stream.size()), static_cast<ssize_t>(stream.size()));
  // SIGUSR1 until the stream has been read and a snapshot names it.
  std::string line;
  for (int i = 0; i < 100 && line.empty(); ++i) {
    kill(d.pid, SIGUSR1);
    pollfd p{d.err, POLLIN, 0};
    if (poll(&p, 1, 100) == 1) line = ReadLine(d.err);
  }
  const std::string prefix = "leakscoped: snapshot " + dir + "/snappy.31338.snap-";
  ASSERT_EQ(line.rfind(prefix, 0), 0u) << line;
  const std::string path = line.substr(std::string("leakscoped: snapshot ").size());
  report::Report r;
  std::string error;
  ASSERT_TRUE(report::ReadReportFile(path, &r, &error)) << error;
  EXPECT_EQ(r.totals().live_bytes(), 512u);
  EXPECT_FALSE(r.final());
  close(fd);
  kill(d.pid, SIGTERM);
  std::string rest = ReadAll(d.err);
  EXPECT_NE(rest.find("leakscoped: wrote " + dir + "/snappy.31338.lsr\n"), std::string::npos)
      << rest;
  EXPECT_EQ(Wait(d.pid), 0);
  close(d.out);
}

TEST_F(LeakscopedRunning, PeerOfAnotherUidIsRefusedAndLogged) {
  const std::string sock = dir + "/s.sock";
  Daemon d =
      Start({"--socket", sock, "--output", dir, "--allow-uid", std::to_string(geteuid() + 1)});
  ASSERT_EQ(ReadLine(d.err), "leakscoped: listening on " + sock);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, sock.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(ReadLine(d.err), "leakscoped: refused pid " + std::to_string(getpid()) + ": uid " +
                                 std::to_string(geteuid()) + " is not allowed (--allow-uid)");
  char c;
  EXPECT_EQ(read(fd, &c, 1), 0);  // closed by the daemon
  close(fd);
  kill(d.pid, SIGTERM);
  EXPECT_EQ(ReadAll(d.err), "");  // nothing to report
  EXPECT_EQ(Wait(d.pid), 0);
  close(d.out);
}

}  // namespace
}  // namespace leakscope::collector
