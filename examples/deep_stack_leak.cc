// A leak at the bottom of a deep C++ call stack, for benchmarks: each request
// descends through kDepth distinct functions (Layer<kDepth>::Handle down to
// Layer<0>::Handle, like a handler chain of middleware) and allocates a 64-byte
// node at the bottom. Nodes of every 50th request are never released, so with
// the default 100000 requests 2000 x 64 B stay allocated at LEAK(deep), under
// ~30 frames. An optional argument sets the number of requests.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "say.h"

namespace deep_example {

constexpr int kDepth = 24;
constexpr unsigned long kDefaultRequests = 100000;
constexpr unsigned long kLeakEvery = 50;

struct Request {
  unsigned long id;
  std::uint64_t visited;
};

struct Node {
  unsigned long request;
  std::uint64_t payload[7];
};
static_assert(sizeof(Node) == 64, "expected.json counts 64-byte nodes");

Node* volatile g_last_node;  // keeps the compiler from eliding the allocation

template <int N>
struct Layer {
  static void Handle(Request& request);
};

// noinline and work after the call: every layer stays a real frame (no inlining,
// no tail call).
template <int N>
__attribute__((noinline)) void Layer<N>::Handle(Request& request) {
  Layer<N - 1>::Handle(request);
  request.visited += N;
}

template <>
__attribute__((noinline)) void Layer<0>::Handle(Request& request) {
  Node* node = new Node{request.id, {}};  // LEAK(deep)
  g_last_node = node;
  request.visited += node->request;
  if (request.id % kLeakEvery != 0) delete node;  // the bug: every 50th is forgotten
}

}  // namespace deep_example

int main(int argc, char** argv) {
  using namespace deep_example;
  const unsigned long requests = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : kDefaultRequests;
  std::uint64_t visited = 0;
  for (unsigned long id = 0; id < requests; ++id) {
    Request request{id, 0};
    Layer<kDepth>::Handle(request);
    visited += request.visited;
  }
  examples::Say("visited", visited);
  return 0;
}
