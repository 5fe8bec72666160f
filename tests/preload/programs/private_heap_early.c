// A library the program links: its constructor runs before the preloaded
// shim's (ld.so initializes the program's dependencies first), and starts
// threads that allocate there, then wait for the program's main().
#include "private_heap_early.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>

static pthread_t g_threads[EARLY_THREADS];
static sem_t g_started, g_go;
static void* volatile g_kept[EARLY_THREADS][3];

__attribute__((noinline)) void early_thread_leak(int index) {
  for (int i = 0; i < 3; ++i) g_kept[index][i] = malloc(48);
}

static void* EarlyThread(void* arg) {
  const int index = (int)(long)arg;
  void* before[16];
  for (int i = 0; i < 16; ++i) before[i] = malloc(32 + 16 * i);
  sem_post(&g_started);
  while (sem_wait(&g_go) != 0) {
  }
  for (int i = 0; i < 16; ++i) before[i] = realloc(before[i], 600 + i);
  for (int i = 0; i < 16; ++i) free(before[i]);
  for (int i = 0; i < 1000; ++i) free(malloc(16 + i % 512));
  early_thread_leak(index);
  return NULL;
}

__attribute__((constructor)) static void StartEarlyThreads(void) {
  sem_init(&g_started, 0, 0);
  sem_init(&g_go, 0, 0);
  for (long i = 0; i < EARLY_THREADS; ++i)
    if (pthread_create(&g_threads[i], NULL, EarlyThread, (void*)i) != 0) abort();
  for (int i = 0; i < EARLY_THREADS; ++i)
    while (sem_wait(&g_started) != 0) {
    }
}

void early_threads_go(void) {
  for (int i = 0; i < EARLY_THREADS; ++i) sem_post(&g_go);
}

void early_threads_join(void) {
  for (int i = 0; i < EARLY_THREADS; ++i) pthread_join(g_threads[i], NULL);
}
