// A captured call site: the return address of a call to CaptureCallSite and
// the source line of that call, taken with __LINE__ on the same line so that
// the symbolizer tests derive their expectations from the source.
#pragma once

namespace symtest {

struct Site {
  const void* return_address = nullptr;
  int line = 0;             // line of the CaptureCallSite call
  int call_line = 0;        // line where the inlined function holding it was called
  int outer_call_line = 0;  // for two levels of inlining: the outer call's line
};

// Never inlined, so its return address lies in its caller.
void CaptureCallSite(Site* site, int line);

}  // namespace symtest
