#include "terminal_session.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace leakscope::viewer {
namespace {

// Written by the handlers, read by Wait(): one byte per signal.
int g_signal_pipe[2] = {-1, -1};
constexpr int kSignals[4] = {SIGINT, SIGTERM, SIGHUP, SIGWINCH};

void OnSignal(int signo) {
  const int saved = errno;
  const char byte = static_cast<char>(signo);
  [[maybe_unused]] ssize_t n = write(g_signal_pipe[1], &byte, 1);
  errno = saved;
}

void WriteAll(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

const char kEnterScreen[] = "\x1b[?1049h\x1b[?25l";  // alternate screen, cursor hidden
const char kLeaveScreen[] = "\x1b[?25h\x1b[?1049l";

}  // namespace

std::string FrameText(const std::vector<std::string>& lines) {
  std::string out = "\x1b[H";
  for (size_t i = 0; i < lines.size(); ++i)
    out += lines[i] + (i + 1 < lines.size() ? "\x1b[K\r\n" : "\x1b[K");
  return out + "\x1b[J";
}

TerminalSession::~TerminalSession() {
  Leave();
}

bool TerminalSession::Enter(std::string* error) {
  if (tcgetattr(in_, &saved_) != 0 || !isatty(out_)) {
    *error = "needs a terminal (stdin and stdout); --once prints one plain view";
    return false;
  }
  if (pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    *error = std::string("pipe: ") + std::strerror(errno);
    return false;
  }
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;  // no SA_RESTART: poll() returns at once
  sigemptyset(&sa.sa_mask);
  for (int i = 0; i < 4; ++i) sigaction(kSignals[i], &sa, &old_[i]);
  termios raw = saved_;
  raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));  // ISIG kept: Ctrl-C is SIGINT
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  tcsetattr(in_, TCSANOW, &raw);
  entered_ = true;
  WriteAll(out_, kEnterScreen);
  return true;
}

void TerminalSession::Leave() {
  if (!entered_) return;
  entered_ = false;
  WriteAll(out_, kLeaveScreen);
  tcsetattr(in_, TCSANOW, &saved_);
  for (int i = 0; i < 4; ++i) sigaction(kSignals[i], &old_[i], nullptr);
  close(g_signal_pipe[0]);
  close(g_signal_pipe[1]);
  g_signal_pipe[0] = g_signal_pipe[1] = -1;
}

char TerminalSession::Wait(int timeout_ms, bool* quit, bool* resized) {
  pollfd fds[2] = {{in_, POLLIN, 0}, {g_signal_pipe[0], POLLIN, 0}};
  if (poll(fds, 2, timeout_ms) <= 0) return 0;
  if (fds[1].revents & POLLIN) {
    char signo = 0;
    while (read(g_signal_pipe[0], &signo, 1) == 1) {
      if (signo == SIGWINCH)
        *resized = true;
      else
        *quit = true;
    }
  }
  if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
    char key = 0;
    const ssize_t n = read(in_, &key, 1);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) *quit = true;
    if (n == 1) return key;
  }
  return 0;
}

void TerminalSession::Draw(const std::string& text) {
  WriteAll(out_, text);
}

void TerminalSession::Size(size_t* columns, size_t* rows) const {
  winsize ws{};
  const bool ok = ioctl(out_, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0;
  *columns = ok ? ws.ws_col : 80;
  *rows = ok ? ws.ws_row : 24;
}

}  // namespace leakscope::viewer
