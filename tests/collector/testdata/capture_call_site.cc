#include "call_site.h"

namespace symtest {

// noipa: the caller must make a real call here, or the return address would
// not be a call site in the function under test.
__attribute__((noipa)) void CaptureCallSite(Site* site, int line) {
  site->return_address = __builtin_return_address(0);
  site->line = line;
}

}  // namespace symtest
