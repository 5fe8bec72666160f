// `leakscope top` on a real pseudo-terminal, against a real collector: a
// program with three known sites (live_sites.cc) traced by `leakscope run
// --metrics` or by leakscoped --metrics. The test reads what top draws,
// takes the last whole frame (home ... clear-to-end) as the screen, presses
// keys and sends signals, and checks that the terminal is put back: the
// same termios as before, the cursor shown, the alternate screen left.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "child_io.h"
#include "cli_runner.h"

namespace leakscope::viewer::testing {
namespace {

using namespace std::chrono_literals;

std::string ReadAll(int fd) {
  std::string all;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) all.append(buf, static_cast<size_t>(n));
  return all;
}

// The text of a frame without its escape sequences (CSI ... final byte).
std::string StripEscapes(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
      i += 2;
      while (i < s.size() && !(s[i] >= '@' && s[i] <= '~')) ++i;
      continue;
    }
    out += s[i];
  }
  return out;
}

// One row of the sites table: its columns.
struct Row {
  std::string id, live, count, growth, site;
};

struct Screen {
  std::vector<std::string> lines;
  bool Has(const std::string& text) const {
    for (const std::string& l : lines)
      if (l.find(text) != std::string::npos) return true;
    return false;
  }
  // The rows of live_sites.cc's sites, top to bottom.
  std::vector<Row> ProgramRows() const {
    std::vector<Row> rows;
    for (const std::string& l : lines) {
      if (l.find("live_sites.cc:") == std::string::npos) continue;
      std::istringstream in(l);
      Row r;
      std::string unit, rate_unit;
      in >> r.id >> r.live >> unit >> r.count >> r.growth >> rate_unit;
      r.live += " " + unit;
      r.growth += " " + rate_unit;
      in >> std::ws;
      std::getline(in, r.site);
      rows.push_back(r);
    }
    return rows;
  }
  std::vector<std::string> Order() const {
    std::vector<std::string> names;
    for (const Row& r : ProgramRows()) names.push_back(r.site.substr(0, r.site.find('(')));
    return names;
  }
};

// `leakscope top ARGS` on a pseudo-terminal of `columns` x 40.
class PtyTop {
 public:
  PtyTop(const std::vector<std::string>& args, unsigned short columns) {
    master_ = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    EXPECT_GE(master_, 0);
    EXPECT_EQ(grantpt(master_), 0);
    EXPECT_EQ(unlockpt(master_), 0);
    slave_ = open(ptsname(master_), O_RDWR | O_NOCTTY | O_CLOEXEC);
    EXPECT_GE(slave_, 0);
    Resize(columns);
    EXPECT_EQ(tcgetattr(slave_, &before_), 0);
    std::vector<std::string> argv = {LEAKSCOPE_BIN, "top"};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_ = fork();
    if (pid_ == 0) {  // the child: the pty as its controlling terminal and stdio
      setsid();
      ioctl(slave_, TIOCSCTTY, 0);
      dup2(slave_, 0), dup2(slave_, 1), dup2(slave_, 2);
      std::vector<char*> v;
      for (auto& a : argv) v.push_back(a.data());
      v.push_back(nullptr);
      setenv("TERM", "xterm", 1);
      execv(v[0], v.data());
      _exit(127);
    }
  }
  ~PtyTop() {
    if (pid_ > 0) kill(pid_, SIGKILL), waitpid(pid_, nullptr, 0);
    close(master_);
    close(slave_);
  }

  void Resize(unsigned short columns) {
    winsize ws{};
    ws.ws_col = columns;
    ws.ws_row = 40;
    ioctl(slave_, TIOCSWINSZ, &ws);
  }
  void Press(char key) { ASSERT_EQ(write(master_, &key, 1), 1); }
  void Signal(int signo) { kill(pid_, signo); }

  // Reads until the latest whole frame satisfies `want` (20 s at most).
  Screen WaitForScreen(const std::function<bool(const Screen&)>& want) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    Screen screen;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{master_, POLLIN, 0};
      if (poll(&p, 1, 100) > 0) {
        char buf[4096];
        const ssize_t n = read(master_, buf, sizeof buf);
        if (n > 0) output_.append(buf, static_cast<size_t>(n));
      }
      screen = LastFrame();
      if (want(screen)) return screen;
    }
    ADD_FAILURE() << "screen never as expected; last frame:\n" << Join(screen);
    return screen;
  }

  // Waits for top to exit: its exit status, and what it wrote after its last frame.
  int Exit(std::string* tail) {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    for (pollfd p{master_, POLLIN, 0}; poll(&p, 1, 0) > 0;) {
      char buf[4096];
      const ssize_t n = read(master_, buf, sizeof buf);
      if (n <= 0) break;
      output_.append(buf, static_cast<size_t>(n));
    }
    *tail = output_.substr(output_.rfind("\x1b[J") + 3);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  // The terminal is as it was before top started.
  bool Restored() const {
    termios now{};
    tcgetattr(slave_, &now);
    return now.c_lflag == before_.c_lflag && now.c_iflag == before_.c_iflag &&
           now.c_oflag == before_.c_oflag && now.c_cc[VMIN] == before_.c_cc[VMIN] &&
           now.c_cc[VTIME] == before_.c_cc[VTIME];
  }
  bool WentRaw() const { return output_.find("\x1b[?1049h") != std::string::npos; }

 private:
  Screen LastFrame() const {
    const size_t end = output_.rfind("\x1b[J");
    if (end == std::string::npos) return {};
    const size_t start = output_.rfind("\x1b[H", end);
    if (start == std::string::npos) return {};
    Screen s;
    // Carriage returns go: top ends lines with "\r\n", which the terminal's
    // ONLCR makes "\r\r\n"; either way the line's text is before them.
    std::string frame;
    for (char c : StripEscapes(output_.substr(start, end - start)))
      if (c != '\r') frame += c;
    for (size_t pos = 0; pos <= frame.size();) {
      size_t nl = frame.find('\n', pos);
      if (nl == std::string::npos) nl = frame.size();
      s.lines.push_back(frame.substr(pos, nl - pos));
      pos = nl + 1;
    }
    return s;
  }
  static std::string Join(const Screen& s) {
    std::string out;
    for (const auto& l : s.lines) out += l + "\n";
    return out;
  }

  int master_ = -1, slave_ = -1;
  pid_t pid_ = -1;
  termios before_{};
  std::string output_;
};

const char kLeaveScreen[] = "\x1b[?25h\x1b[?1049l";

// live_sites under `leakscope run --metrics 127.0.0.1:0`: the port and the pids.
struct TracedProgram {
  TracedProgram(bool daemon) {
    int err[2], in[2], out[2];
    EXPECT_EQ(pipe2(err, O_CLOEXEC), 0);
    EXPECT_EQ(pipe2(in, O_CLOEXEC), 0);
    EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
    const std::vector<std::string> shim = {"LD_PRELOAD=" SHIM_PATH, "LEAKSCOPE_SOCKET=" + sock(),
                                           "LEAKSCOPE_SAMPLE_INTERVAL=1"};
    if (daemon) {
      collector = Spawn(
          {LEAKSCOPED_BIN, "--socket", sock(), "--output", dir.path(), "--metrics", "127.0.0.1:0"},
          {}, -1, -1, err[1]);
    } else {
      collector = Spawn(
          {LEAKSCOPE_BIN, "run", "-o", dir.path(), "--metrics", "127.0.0.1:0", "--", LIVE_SITES},
          {}, in[0], out[1], err[1]);
    }
    close(err[1]);
    const std::string said = ReadLineWith(err[0], "metrics on http://127.0.0.1:");
    address = said.substr(said.find("127.0.0.1:"));
    address.resize(address.find("/metrics"));
    if (daemon) program = Spawn({LIVE_SITES}, shim, in[0], out[1], -1);
    close(in[0]);
    close(out[1]);
    stdin_ = in[1];
    err_ = err[0];
    EXPECT_EQ(ReadLineWith(out[0], "ready"), "ready");
    close(out[0]);
    if (!daemon) program = collector;  // run's child: top picks the one traced process
  }
  // Ends the program, then the collector; its last words.
  std::string Stop() {
    close(stdin_);
    if (program != collector) {
      waitpid(program, nullptr, 0);
      kill(collector, SIGTERM);
    }
    const std::string said = ReadAll(err_);
    waitpid(collector, nullptr, 0);
    close(err_);
    return said;
  }
  std::string sock() const { return dir.path() + "/sock"; }

  TempDir dir;
  std::string address;
  pid_t collector = -1, program = -1;
  int stdin_ = -1, err_ = -1;
};

TEST(TopPty, ShowsTheSitesSortsByKeyAndQuitsRestoringTheTerminal) {
  TracedProgram traced(/*daemon=*/false);  // top beside `leakscope run`
  PtyTop top({traced.address}, 160);
  // All three sites, Grows() seen growing, by live bytes (the default).
  Screen s = top.WaitForScreen([](const Screen& s) {
    const auto rows = s.ProgramRows();
    return rows.size() == 3 && s.Has("sort: live bytes") && rows[1].growth[0] == '+';
  });
  EXPECT_TRUE(s.Has("live_sites")) << "the pid line names the program";
  EXPECT_EQ(s.Order(), (std::vector<std::string>{"Big", "Grows", "Many"}));
  const std::vector<Row> rows = s.ProgramRows();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].live, "16.0 MiB");
  EXPECT_EQ(rows[0].count, "4");
  EXPECT_EQ(rows[0].growth, "0 B/s");
  EXPECT_EQ(rows[0].site.substr(0, 5), "Big()");
  EXPECT_EQ(rows[2].live, "62.5 KiB");
  EXPECT_EQ(rows[2].count, "4,000");

  top.Press('c');
  s = top.WaitForScreen([](const Screen& s) { return s.Has("sort: count"); });
  EXPECT_EQ(s.Order(), (std::vector<std::string>{"Many", "Grows", "Big"}));
  top.Press('g');
  s = top.WaitForScreen([](const Screen& s) { return s.Has("sort: growth"); });
  ASSERT_FALSE(s.Order().empty());
  EXPECT_EQ(s.Order()[0], "Grows");
  top.Press('b');
  s = top.WaitForScreen([](const Screen& s) { return s.Has("sort: live bytes"); });
  EXPECT_EQ(s.Order(), (std::vector<std::string>{"Big", "Grows", "Many"}));

  top.Press('q');
  std::string tail;
  EXPECT_EQ(top.Exit(&tail), 0);
  EXPECT_EQ(tail, kLeaveScreen);
  EXPECT_TRUE(top.WentRaw());
  EXPECT_TRUE(top.Restored());
  const std::string said = traced.Stop();
  EXPECT_NE(said.find("Report: " + traced.dir.path() + "/live_sites."), std::string::npos) << said;
}

TEST(TopPty, FitsANarrowerTerminalOnSigwinchAndEndsCleanlyOnSigterm) {
  TracedProgram traced(/*daemon=*/true);  // top against leakscoped
  PtyTop top({traced.address, "--pid", std::to_string(traced.program)}, 160);
  top.WaitForScreen([](const Screen& s) { return s.ProgramRows().size() == 3; });
  top.Resize(50);
  top.Signal(SIGWINCH);
  const Screen narrow = top.WaitForScreen([](const Screen& s) {
    for (const std::string& l : s.lines)
      if (l.size() > 50) return false;
    return s.Has("...");
  });
  EXPECT_TRUE(narrow.Has("pid " + std::to_string(traced.program)));
  top.Signal(SIGTERM);
  std::string tail;
  EXPECT_EQ(top.Exit(&tail), 0);
  EXPECT_EQ(tail, kLeaveScreen);
  EXPECT_TRUE(top.Restored());
  traced.Stop();
}

TEST(TopPty, SigintEndsCleanlyToo) {
  TracedProgram traced(/*daemon=*/true);
  PtyTop top({traced.address}, 160);
  top.WaitForScreen([](const Screen& s) { return s.ProgramRows().size() == 3; });
  top.Signal(SIGINT);
  std::string tail;
  EXPECT_EQ(top.Exit(&tail), 0);
  EXPECT_EQ(tail, kLeaveScreen);
  EXPECT_TRUE(top.Restored());
  traced.Stop();
}

TEST(TopCli, WrongAddressIsOneLineBeforeTakingTheTerminal) {
  const CliResult r = RunLeakscope({"top", "127.0.0.1:1", "--once"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_EQ(r.err, "leakscope top: 127.0.0.1:1: Connection refused\n");
  const CliResult bad = RunLeakscope({"top", "nowhere"});
  EXPECT_EQ(bad.exit_status, 2);
  EXPECT_EQ(bad.err, "leakscope top: 'nowhere' is not HOST:PORT or http://HOST:PORT/metrics\n");
}

}  // namespace
}  // namespace leakscope::viewer::testing
