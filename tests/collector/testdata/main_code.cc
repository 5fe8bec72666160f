#include "main_code.h"

namespace symtest {

__attribute__((noinline)) void PlainFunction(Site* site) {
  CaptureCallSite(site, __LINE__);
}

static inline __attribute__((always_inline)) void InlinedCallee(Site* site, int call_line) {
  site->call_line = call_line;
  CaptureCallSite(site, __LINE__);
}

__attribute__((noinline)) void FunctionWithInline(Site* site) {
  InlinedCallee(site, __LINE__);
}

static inline __attribute__((always_inline)) void OuterInlined(Site* site, int call_line) {
  site->outer_call_line = call_line;
  InlinedCallee(site, __LINE__);
}

__attribute__((noinline)) void FunctionWithNestedInline(Site* site) {
  OuterInlined(site, __LINE__);
}

template <typename T>
__attribute__((noinline)) void TemplateFunction(Site* site) {
  CaptureCallSite(site, __LINE__);
}

template void TemplateFunction<int>(Site* site);

}  // namespace symtest
