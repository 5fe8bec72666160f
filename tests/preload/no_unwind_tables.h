// Code without unwind tables, as JIT code is (V8, a JVM): calls fn(arg) under
// a frame pointer, which the fast trace and RuleWalk follow and libgcc's walk
// cannot. Defined in no_unwind_tables.cc (x86-64 only), for the stack
// walk's tests and benchmarks.
#pragma once

#if defined(__x86_64__)
extern "C" void LeakscopeCallWithoutUnwindTables(void (*fn)(void*), void* arg);
#endif
