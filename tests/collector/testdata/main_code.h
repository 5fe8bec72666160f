// Functions linked into symbolizer_test's own executable.
#pragma once

#include "call_site.h"

namespace symtest {

// A plain function: one frame, symtest::PlainFunction(symtest::Site*).
void PlainFunction(Site* site);

// Calls an always_inline function at site->call_line; the capture is inside
// the inlined body, at site->line.
void FunctionWithInline(Site* site);

// Calls an always_inline function at site->outer_call_line, which calls
// another at site->call_line, which captures at site->line.
void FunctionWithNestedInline(Site* site);

// A template instantiated with int, to check demangling.
template <typename T>
void TemplateFunction(Site* site);

}  // namespace symtest
