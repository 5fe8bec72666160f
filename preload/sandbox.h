// Programs that sandbox themselves with seccomp. Once a thread is in seccomp
// mode, a syscall its filter forbids can kill the whole process (SIGSYS), and
// the shim cannot know what the filter forbids. So from the moment the
// program enters seccomp mode, the shim creates nothing any more: no socket
// or connect (a collector that went away is not reconnected), no open (of
// /proc files), no pipe (libunwind's), no readlink. It goes on with what it
// already holds (its socket, its /proc/self/stat descriptor) and the calls
// the program's own allocator and threads make (futex, mmap). What it can
// then not send is counted and said on stderr (an outage), never fatal.
//
// How the shim learns it: the program enters seccomp mode through libc, with
// prctl(PR_SET_SECCOMP) or syscall(SYS_seccomp) (libseccomp's seccomp_load
// calls those): both are interposed and flag the process *before* the call,
// so no thread of the shim can race the filter's installation. Asking after
// the fact would itself take a syscall the filter may forbid:
// prctl(PR_GET_SECCOMP) kills a thread in strict mode by definition, and
// reading /proc/self/status needs an open. A filter in place at exec
// (containers, systemd) is taken to allow what the shim does at start.
#pragma once

#include <cstdint>

namespace leakscope::preload {

// True once the program entered seccomp mode (or is entering it) since the
// shim started. Two loads; no syscall.
bool Sandboxed();

// The collector is unreachable and may not be reconnected: says so once on
// stderr. `lost_so_far` is Shim::dropped_events now, to tell at the end how
// many events the outage cost.
void NoteOutage(uint64_t lost_so_far);

// At the end of the process: if an outage began, one line on stderr with the
// events it lost (`lost_now`: Shim::dropped_events).
void ReportOutage(uint64_t lost_now);

}  // namespace leakscope::preload
