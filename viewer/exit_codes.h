// Exit statuses of the leakscope command.
#pragma once

namespace leakscope::viewer {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // something went wrong while working
inline constexpr int kExitUsage = 2;    // bad arguments or unreadable input
inline constexpr int kExitIncomplete =
    3;  // check --require-complete: figures incomplete or sampled
inline constexpr int kExitCannotExec = 127;  // like a shell: command not found
inline constexpr int kExitSignalBase = 128;  // + signal, for a command that was killed

}  // namespace leakscope::viewer
