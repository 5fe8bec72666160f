#include "no_unwind_tables.h"

#if defined(__x86_64__)
// No .cfi_* directives: no FDE covers this function.
asm(R"(
  .text
  .p2align 4
  .globl LeakscopeCallWithoutUnwindTables
  .type LeakscopeCallWithoutUnwindTables, @function
LeakscopeCallWithoutUnwindTables:
  push %rbp
  mov %rsp, %rbp
  mov %rdi, %rax
  mov %rsi, %rdi
  call *%rax
  pop %rbp
  ret
  .size LeakscopeCallWithoutUnwindTables, .-LeakscopeCallWithoutUnwindTables
)");
#endif
