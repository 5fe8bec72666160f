// Entry points of libsymtest_shared.so, looked up with dlsym.
#pragma once

#include "call_site.h"

extern "C" {
// Exported: in .dynsym, so a stripped copy still names it.
void SymtestLibraryFunction(symtest::Site* site);
// Calls a hidden function that captures: a stripped copy has no name for it.
void SymtestCallHidden(symtest::Site* site);
// Hand-written assembly without a .size: an unsized symbol. Captures with
// line 0.
void SymtestUnsizedFunction(symtest::Site* site);
// Plain C names that __cxa_demangle would read as type codes.
void f(symtest::Site* site);
void Ss(symtest::Site* site);
}
