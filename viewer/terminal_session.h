// The terminal as `leakscope top` borrows it: keys read one at a time
// without echo, the alternate screen, the cursor hidden; and everything put
// back as it was when the session ends (q, SIGINT, SIGTERM, SIGHUP), so the
// reader's shell is never left in raw mode. SIGWINCH only asks for a redraw.
// The signals reach the loop through a self-pipe (the handlers only write()).
#pragma once

#include <termios.h>

#include <csignal>
#include <cstddef>
#include <string>
#include <vector>

namespace leakscope::viewer {

class TerminalSession {
 public:
  TerminalSession(int in_fd, int out_fd) : in_(in_fd), out_(out_fd) {}
  ~TerminalSession();  // Leave()
  TerminalSession(const TerminalSession&) = delete;
  TerminalSession& operator=(const TerminalSession&) = delete;

  // Takes the terminal; false and a one-line *error if in_fd is not one.
  bool Enter(std::string* error);
  void Leave();

  // Waits up to timeout_ms for a key or a signal. Returns the key (0: none);
  // *quit when asked to end (a signal, or the input closed), *resized on SIGWINCH.
  char Wait(int timeout_ms, bool* quit, bool* resized);

  // Writes a frame (FrameText) to the terminal.
  void Draw(const std::string& text);

  // The terminal's size (columns, rows); 80x24 if it cannot be read.
  void Size(size_t* columns, size_t* rows) const;

 private:
  int in_, out_;
  bool entered_ = false;
  termios saved_{};
  struct sigaction old_[4] = {};
};

// The escape sequences of one frame: home, each line cleared to its end,
// then the rest of the screen cleared. Lines are joined by "\r\n".
std::string FrameText(const std::vector<std::string>& lines);

}  // namespace leakscope::viewer
