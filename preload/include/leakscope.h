/* leakscope's in-process API, for C and C++.
 *
 * Every function here is an inline wrapper over a weak symbol that the shim
 * (libleakscope.so, loaded with LD_PRELOAD or `leakscope run`) exports. A
 * program that runs without the shim links and runs unchanged: the weak
 * symbols are null, and each call is a test of a null pointer and returns
 * "not active". No library to link against.
 *
 *   leakscope_mark_t m = leakscope_mark();
 *   run_something();
 *   leakscope_live live;
 *   if (leakscope_live_since(m, NULL, &live) == LEAKSCOPE_OK && live.bytes)
 *     printf("%llu bytes leaked, first at %s\n", live.bytes, live.sites[0].function);
 *
 * A mark is a point in the process's event stream: the calling thread's
 * events before it are counted exactly. In sampled mode (LEAKSCOPE_SAMPLE_INTERVAL)
 * the figures are estimates and `estimated` is set. Calls that need the
 * collector wait for its answer at most LEAKSCOPE_QUERY_TIMEOUT_MS (default
 * 5000) and return LEAKSCOPE_TIMEOUT or LEAKSCOPE_NO_COLLECTOR rather than
 * hang. The executable must be position-independent (the Debian default)
 * for the weak references to bind to the shim at load time. */
#ifndef LEAKSCOPE_H_
#define LEAKSCOPE_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  LEAKSCOPE_OK = 0,
  LEAKSCOPE_NOT_ACTIVE = 1,   /* no shim, or the shim is not recording */
  LEAKSCOPE_NO_COLLECTOR = 2, /* the shim has no collector connection */
  LEAKSCOPE_TIMEOUT = 3,      /* no answer in time */
  LEAKSCOPE_ERROR = 4         /* the collector answered with an error */
};

#define LEAKSCOPE_MAX_SITES 16
#define LEAKSCOPE_TEXT_SIZE 256
#define LEAKSCOPE_PATH_SIZE 1024

typedef struct leakscope_mark_t {
  uint64_t seq; /* allocation events before the mark */
  int status;   /* LEAKSCOPE_OK if the mark can be used */
} leakscope_mark_t;

typedef struct leakscope_site {
  char function[LEAKSCOPE_TEXT_SIZE]; /* the program's call: not the allocator, not std:: or libc;
                                         template arguments shortened: Map<...>::Put(int) */
  char file[LEAKSCOPE_TEXT_SIZE];
  uint32_t line;
  uint64_t bytes;
  uint64_t allocations;
} leakscope_site;

typedef struct leakscope_live {
  int status;
  int estimated; /* sampled mode: bytes and allocations are estimates */
  uint64_t bytes;
  uint64_t allocations;
  uint64_t allowed_bytes; /* left out by allow_functions */
  uint32_t site_count;
  leakscope_site sites[LEAKSCOPE_MAX_SITES]; /* largest first */
  char error[LEAKSCOPE_TEXT_SIZE];
} leakscope_live;

typedef struct leakscope_live_options {
  /* Sites with a frame whose function name contains one of these strings
   * are left out of the figures. NULL-terminated; NULL for none. */
  const char* const* allow_functions;
  /* allow_functions are matched only in frames inner to the first frame
   * whose function contains one of these (say, the test runner's).
   * NULL-terminated; NULL: every frame. */
  const char* const* stop_functions;
  uint32_t max_sites; /* 0: LEAKSCOPE_MAX_SITES */
} leakscope_live_options;

typedef struct leakscope_snapshot_info {
  int status;
  char path[LEAKSCOPE_PATH_SIZE]; /* the report, in the collector's output folder */
  char error[LEAKSCOPE_TEXT_SIZE];
} leakscope_snapshot_info;

/* Exported by the shim. Call the wrappers below instead. */
int leakscope_shim_active(void) __attribute__((weak));
void leakscope_shim_mark(leakscope_mark_t* out) __attribute__((weak));
int leakscope_shim_live_since(uint64_t seq, const leakscope_live_options* options,
                              leakscope_live* out) __attribute__((weak));
int leakscope_shim_snapshot(const char* path) __attribute__((weak));
int leakscope_shim_snapshot_labeled(const char* label, leakscope_snapshot_info* out)
    __attribute__((weak));
void leakscope_shim_pause(void) __attribute__((weak));
void leakscope_shim_resume(void) __attribute__((weak));
void leakscope_shim_report_alloc(void* ptr, size_t size) __attribute__((weak));
void leakscope_shim_report_free(void* ptr) __attribute__((weak));

/* Nonzero if the shim is loaded and recording. */
static inline int leakscope_active(void) {
  return leakscope_shim_active ? leakscope_shim_active() : 0;
}

/* The current point in the event stream. status != LEAKSCOPE_OK: unusable. */
static inline leakscope_mark_t leakscope_mark(void) {
  leakscope_mark_t m = {0, LEAKSCOPE_NOT_ACTIVE};
  if (leakscope_shim_mark) leakscope_shim_mark(&m);
  return m;
}

/* Bytes and allocations made after `mark` that are still live, and the
 * sites holding them. Returns out->status. `options` may be NULL. */
static inline int leakscope_live_since(leakscope_mark_t mark, const leakscope_live_options* options,
                                       leakscope_live* out) {
  out->status = LEAKSCOPE_NOT_ACTIVE;
  out->estimated = 0;
  out->bytes = out->allocations = out->allowed_bytes = 0;
  out->site_count = 0;
  out->error[0] = 0;
  if (mark.status != LEAKSCOPE_OK) return out->status = mark.status;
  return leakscope_shim_live_since ? leakscope_shim_live_since(mark.seq, options, out)
                                   : out->status;
}

/* A report of the process now. NULL: the collector writes it in its own
 * output folder, "<exe>.<pid>.snapshot-<n>.lsr". A path: the collector sends
 * the report's bytes (at most 64 MiB) and this process writes them to `path`
 * with its own rights; the collector never writes where a client says. */
static inline int leakscope_snapshot(const char* path) {
  return leakscope_shim_snapshot ? leakscope_shim_snapshot(path) : LEAKSCOPE_NOT_ACTIVE;
}

/* The collector writes a report of the process now in its own output folder,
 * as "<exe>.<pid>.snapshot-<label>.lsr" (`label` sanitized to [A-Za-z0-9._-],
 * at most 64 characters, never a path; NULL: a number), under a new name if
 * that one is taken. out->path says where (readable by the collector's user).
 * Returns out->status; `out` may be NULL. */
static inline int leakscope_snapshot_labeled(const char* label, leakscope_snapshot_info* out) {
  if (out) {
    out->status = LEAKSCOPE_NOT_ACTIVE;
    out->path[0] = out->error[0] = 0;
  }
  return leakscope_shim_snapshot_labeled ? leakscope_shim_snapshot_labeled(label, out)
                                         : LEAKSCOPE_NOT_ACTIVE;
}

/* The calling thread's allocations are not recorded until resume; its frees
 * still are (a block allocated before the pause and freed during it must not
 * look leaked). Nests. */
static inline void leakscope_pause(void) {
  if (leakscope_shim_pause) leakscope_shim_pause();
}
static inline void leakscope_resume(void) {
  if (leakscope_shim_resume) leakscope_shim_resume();
}

/* For pool and arena allocators: record a block handed out or taken back as
 * if it were malloc'd/free'd here (the caller's stack is the site). */
static inline void leakscope_report_alloc(void* ptr, size_t size) {
  if (leakscope_shim_report_alloc) leakscope_shim_report_alloc(ptr, size);
}
static inline void leakscope_report_free(void* ptr) {
  if (leakscope_shim_report_free) leakscope_shim_report_free(ptr);
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LEAKSCOPE_H_ */
