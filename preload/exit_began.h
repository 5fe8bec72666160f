// The moment the process begins to exit, for the report's "Held until
// shutdown" (see exit_began.cc).
#pragma once

namespace leakscope::preload {

// exit() was called, or main returned: before any atexit handler, static or
// thread_local destructor runs. Sends wire.ExitMarker after every event
// recorded so far; later calls do nothing.
void NoteExitBegan(const char* how);

}  // namespace leakscope::preload
