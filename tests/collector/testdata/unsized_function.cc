// SymtestUnsizedFunction (shared_library.h), alone in its file and linked
// last: an unsized symbol names everything up to the next symbol, so nothing
// of ours may follow it in .text.
#include "shared_library.h"

// SymtestUnsizedFunction(site): CaptureCallSite(site, 0), keeping the stack
// 16-byte aligned at the call.
asm(R"(
  .text
  .globl SymtestUnsizedFunction
  .type SymtestUnsizedFunction, @function
SymtestUnsizedFunction:
  sub $8, %rsp
  xor %esi, %esi
  call _ZN7symtest15CaptureCallSiteEPNS_4SiteEi@PLT
  add $8, %rsp
  ret
)");
