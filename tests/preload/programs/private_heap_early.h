// Threads started by a constructor that runs before the shim's
// (private_heap_early.c).
#pragma once

#define EARLY_THREADS 8

// Lets the early threads go on: free what they allocated, allocate, free and
// leak 3 x 48 B each (early_thread_leak).
void early_threads_go(void);
void early_threads_join(void);
