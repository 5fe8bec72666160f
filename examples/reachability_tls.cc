// Loaded by reachability_cases with dlopen: its thread_local lives in
// dynamic TLS (a block __tls_get_addr allocates), not in static TLS.
#include <cstdlib>

namespace {
thread_local void* volatile t_dynamic_tls;
}

__attribute__((noinline)) void* HeldInDynamicTls_Alloc() {
  return std::malloc(400);
}

extern "C" void HoldInDynamicTls() {
  t_dynamic_tls = HeldInDynamicTls_Alloc();
}
