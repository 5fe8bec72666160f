// The shim's part in the reachability scan (collector/reachability_scan.h),
// only with LEAKSCOPE_REACHABILITY=1: the collector may trace the process
// (yama's ptrace_scope 1 otherwise lets only ancestors, and leakscoped is
// none), the drain thread is named so the scan can leave its registers and
// stack out, and exit holds the process until the collector's scan is over.
#pragma once

namespace leakscope::preload {

// On each new stream: PR_SET_PTRACER to the collector's pid (SO_PEERCRED);
// nothing if the collector's pid is not visible here (another pid namespace).
void AllowCollectorToTrace(int socket_fd);

// The drain thread's name, kShimThreadName in collector/scan_roots.h.
void NameDrainThread();

// Zeroes 8 KiB of stack below the caller's frame. Called first by each
// shim entry that may wait for the scan (exit, the return from main, _exit):
// the frames of the exit pass and of the wait are then built on zeroed
// stack, so their holes (alignment padding, slots written on some paths
// only) cannot hold a stale pointer that the program's earlier calls at the
// same depth left there. (The "tree" case: NoteExitBegan's padding slot kept
// the cut subtree's first child reachable in 1 run of 4.) Those entries keep
// their own frames to pushed registers (no locals: see exits.cc). Nothing
// when reachability is off.
void WipeStackBeforeScan();

// Exit began (or _exit): asks for the scan and waits for it, at most 10 s;
// at once if there is no collector. Stale copies of the program's pointers
// that the shim's last pass left below the stack pointer are wiped first,
// so they cannot keep lost blocks alive.
void AwaitReachabilityScan();

}  // namespace leakscope::preload
