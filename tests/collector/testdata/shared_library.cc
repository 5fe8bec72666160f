#include "shared_library.h"

namespace {

__attribute__((noinline)) void HiddenFunction(symtest::Site* site) {
  symtest::CaptureCallSite(site, __LINE__);
}

}  // namespace

extern "C" {

__attribute__((noinline)) void SymtestLibraryFunction(symtest::Site* site) {
  symtest::CaptureCallSite(site, __LINE__);
}

__attribute__((noinline)) void SymtestCallHidden(symtest::Site* site) {
  HiddenFunction(site);
}

// C names that are also Itanium type codes ("float", std::string): they must
// be shown as they are.
__attribute__((noinline)) void f(symtest::Site* site) {
  symtest::CaptureCallSite(site, __LINE__);
}

__attribute__((noinline)) void Ss(symtest::Site* site) {
  symtest::CaptureCallSite(site, __LINE__);
}

}  // extern "C"
