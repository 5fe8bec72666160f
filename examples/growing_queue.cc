// A queue that only grows: the producer enqueues two messages per tick, the
// consumer handles one, and nobody drains the queue at shutdown. After kTicks
// ticks, kTicks messages of 512 B are still queued: 2000 x 512 B live at the
// LEAK(queue) line, while the kTicks consumed ones were freed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "say.h"

namespace queue_example {

constexpr int kTicks = 2000;
constexpr int kProducedPerTick = 2;
constexpr std::size_t kMessageBytes = 512;

struct Message {
  Message* next;
  std::uint32_t sequence;
  char body[kMessageBytes - 16];
};
static_assert(sizeof(Message) == kMessageBytes, "expected.json counts 512-byte messages");

// Intrusive FIFO: no allocation of its own, so only the messages show up.
class MessageQueue {
 public:
  void Push(Message* m) {
    m->next = nullptr;
    (tail_ ? tail_->next : head_) = m;
    tail_ = m;
  }
  Message* Pop() {
    Message* m = head_;
    if (m) head_ = m->next;
    if (!head_) tail_ = nullptr;
    return m;
  }

 private:
  Message* head_ = nullptr;
  Message* tail_ = nullptr;
};

MessageQueue g_queue;  // static storage, never drained: the messages leak

// noinline: the leak must be reported here, not in the producer loop.
__attribute__((noinline)) Message* NewMessage(std::uint32_t sequence) {
  auto* m = static_cast<Message*>(std::malloc(sizeof(Message)));  // LEAK(queue)
  m->sequence = sequence;
  std::memset(m->body, 'q', sizeof m->body);
  return m;
}

__attribute__((noinline)) std::uint64_t ConsumeOne() {
  Message* m = g_queue.Pop();
  const std::uint64_t checksum = m->sequence + static_cast<unsigned char>(m->body[0]);
  std::free(m);
  return checksum;
}

}  // namespace queue_example

int main() {
  using namespace queue_example;
  std::uint32_t sequence = 0;
  std::uint64_t checksum = 0;
  for (int tick = 0; tick < kTicks; ++tick) {
    for (int i = 0; i < kProducedPerTick; ++i) g_queue.Push(NewMessage(sequence++));
    checksum += ConsumeOne();
  }
  examples::Say("consumed checksum", checksum);
  return 0;
}
