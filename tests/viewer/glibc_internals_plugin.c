/* A library for glibc_internals dlopen: not otherwise loaded in the traced
 * process, so ld.so allocates its tables when it is opened. Allocates
 * nothing itself. */
int glibc_internals_plugin_answer(void) {
  return 42;
}
