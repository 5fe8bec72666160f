// Reachability cases (issue #16), one per run: `reachability_cases CASE`.
// Each case's verdicts are in reachability_cases.expected.json, beside the
// function that allocates (each its own call site): what `leakscope run
// --reachability` must report at exit, and what valgrind memcheck
// (--leak-check=full --leak-check-heuristics=none) says of the same program.
#include <dlfcn.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#define NOINLINE __attribute__((noinline))

namespace {

void* volatile g_in_data = reinterpret_cast<void*>(1);  // .data: initialised
void* volatile g_in_bss;                                // .bss
std::atomic<int> g_ready{0};
thread_local void* volatile t_static_tls;

struct Node {
  Node* left;
  Node* right;
  char pad[16];
};

// --- held by a root: still reachable
NOINLINE void* HeldInData() {
  return std::malloc(100);
}
NOINLINE void* HeldInBss() {
  return std::malloc(200);
}
NOINLINE void* HeldInStaticTls() {
  return std::malloc(300);
}

// --- lost
NOINLINE void* LostOutright() {
  return std::malloc(40);
}

// A tree whose root is held and whose one subtree was cut off: the cut
// subtree's root is definitely lost, the nodes below it indirectly.
NOINLINE Node* KeptNode() {
  return static_cast<Node*>(std::calloc(1, sizeof(Node)));
}
NOINLINE Node* CutRoot() {
  return static_cast<Node*>(std::calloc(1, sizeof(Node)));
}
NOINLINE Node* CutChild() {
  return static_cast<Node*>(std::calloc(1, sizeof(Node)));
}

// Two blocks pointing at each other and nothing else at them.
NOINLINE Node* CycleNode() {
  return static_cast<Node*>(std::calloc(1, sizeof(Node)));
}

// A pointer stored at an odd offset is no pointer to memcheck (aligned words
// only): definitely lost.
struct __attribute__((packed)) Unaligned {
  char c;
  void* p;
};
volatile Unaligned g_unaligned;
NOINLINE void* StoredUnaligned() {
  return std::malloc(64);
}

// Only an interior pointer held: possibly lost. (Globals are volatile: a
// store to a variable that is never read would be optimised away.)
NOINLINE char* HeldByInterior() {
  return static_cast<char*>(std::malloc(64));
}

struct BaseA {
  virtual ~BaseA() = default;
  long a = 1;
};
struct BaseB {
  virtual ~BaseB() = default;
  long b = 2;
};
struct Both : BaseA, BaseB {};
BaseB* volatile g_second_base;
NOINLINE BaseB* SecondBase() {
  return new Both;
}  // the BaseB part is 16 bytes in

struct WithDtor {
  ~WithDtor() {}
  long v = 0;
};
WithDtor* volatile g_array;
NOINLINE WithDtor* ArrayWithCookie() {
  return new WithDtor[4];
}  // 8-byte count first

std::string* volatile g_string;
NOINLINE std::string* HeldString() {
  return new std::string(100, 'x');
}

NOINLINE void* FreedBeforeExit() {
  return std::malloc(500);
}

// A spinning thread holds its block only in a register.
NOINLINE void* HeldInRegister() {
  return std::malloc(72);
}
void* Spin(void*) {
  void* p = HeldInRegister();
  g_ready.store(1);
  for (;;) __asm__ volatile("" : "+r"(p));  // p lives in a register, nowhere else
  return nullptr;
}

// Another thread's stack holds the only pointer; it waits forever.
NOINLINE void* HeldOnOtherStack() {
  return std::malloc(88);
}
void* Park(void*) {
  void* volatile on_stack = HeldOnOtherStack();
  g_ready.store(1);
  for (;;) pause();
  return on_stack;
}

// The stores into blocks that never reach a global must still be made: an
// optimiser may drop stores to memory that nothing can read.
void Escape(void* p) {
  __asm__ volatile("" : : "g"(p) : "memory");
}

void StartAndWait(void* (*fn)(void*)) {
  pthread_t t;
  pthread_create(&t, nullptr, fn, nullptr);
  while (!g_ready.load()) sched_yield();
}

NOINLINE void Tree() {
  Node* root = KeptNode();
  root->left = KeptNode();
  Node* cut = CutRoot();
  cut->left = CutChild();
  cut->right = CutChild();
  cut->left->left = CutChild();
  root->right = cut;
  g_in_bss = root;
  Escape(root);
  root->right = nullptr;  // the subtree is cut off
}

NOINLINE void Cycle() {
  Node* a = CycleNode();
  Node* b = CycleNode();
  a->left = b;
  b->left = a;
  Escape(a);
}

// Dynamic TLS: a library loaded with dlopen keeps its thread_local in a block
// __tls_get_addr mallocs; what that thread_local points at is reachable.
void DynamicTls() {
  void* lib = dlopen(REACHABILITY_TLS_LIB, RTLD_NOW);
  if (!lib) _exit(3);
  auto hold = reinterpret_cast<void (*)()>(dlsym(lib, "HoldInDynamicTls"));
  if (!hold) _exit(4);
  hold();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string what = argc > 1 ? argv[1] : "";
  if (what == "data") {
    g_in_data = HeldInData();
  } else if (what == "bss") {
    g_in_bss = HeldInBss();
  } else if (what == "static-tls") {
    t_static_tls = HeldInStaticTls();
  } else if (what == "dynamic-tls") {
    DynamicTls();
  } else if (what == "lost") {
    LostOutright();
  } else if (what == "tree") {
    Tree();
  } else if (what == "cycle") {
    Cycle();
  } else if (what == "unaligned") {
    g_unaligned.p = StoredUnaligned();
  } else if (what == "interior") {
    g_in_bss = HeldByInterior() + 8;
  } else if (what == "multiple-inheritance") {
    g_second_base = SecondBase();
  } else if (what == "new-array") {
    g_array = ArrayWithCookie();
  } else if (what == "string") {
    g_string = HeldString();
  } else if (what == "freed") {
    std::free(FreedBeforeExit());
  } else if (what == "register") {
    StartAndWait(Spin);
  } else if (what == "other-stack") {
    StartAndWait(Park);
  } else {
    return 2;
  }
  exit(0);  // not a return: nothing of main's frame is left to hold anything
}
