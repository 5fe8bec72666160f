// Listeners registered and never removed: every session subscribes a listener
// to a process-wide event bus and never unsubscribes, so the bus keeps every
// listener that ever existed. The bus is an immortal singleton (never deleted,
// the usual dodge of destruction-order problems at exit), so its own storage is
// live at exit too. Three sites stay live:
//   LEAK(listener)        2000 listeners x 48 B
//   LEAK(listener-vector) the bus's vector: capacity 2048 pointers = 16384 B
//   LEAK(bus)             the bus object itself, 24 B
#include <cstddef>
#include <vector>

#include "say.h"

namespace listener_example {

constexpr int kSessions = 2000;

struct Event {
  int session;
  long value;
};

class Listener {
 public:
  virtual ~Listener() = default;
  virtual void OnEvent(const Event& event) = 0;
};

class QuoteListener : public Listener {
 public:
  explicit QuoteListener(int session) : session_(session) {}
  void OnEvent(const Event& event) override {
    if (event.session != session_) seen_ += event.value;
  }
  long seen() const { return seen_; }

 private:
  int session_;
  long seen_ = 0;
  char symbol_[24] = "EURUSD";
};
static_assert(sizeof(QuoteListener) == 48, "expected.json counts 48-byte listeners");

class EventBus {
 public:
  void Subscribe(Listener* listener);
  void Publish(const Event& event) {
    for (Listener* l : listeners_) l->OnEvent(event);
  }
  std::size_t size() const { return listeners_.size(); }

 private:
  std::vector<Listener*> listeners_;
};
static_assert(sizeof(EventBus) == 24, "expected.json counts a 24-byte bus");

// noinline keeps each leaking function a frame of its own in the report.
__attribute__((noinline)) void EventBus::Subscribe(Listener* listener) {
  listeners_.push_back(listener);  // LEAK(listener-vector)
}

__attribute__((noinline)) EventBus& Bus() {
  static EventBus* bus = new EventBus;  // LEAK(bus)
  return *bus;
}

class Session {
 public:
  explicit Session(int id) : id_(id) { Bus().Subscribe(MakeListener()); }
  // The bug: no Unsubscribe here, the listener outlives the session.
  ~Session() = default;
  void Trade(long amount) { Bus().Publish(Event{id_, amount}); }

 private:
  Listener* MakeListener();
  int id_;
};

__attribute__((noinline)) Listener* Session::MakeListener() {
  return new QuoteListener(id_);  // LEAK(listener)
}

}  // namespace listener_example

int main() {
  using namespace listener_example;
  for (int id = 0; id < kSessions; ++id) {
    Session session(id);
    session.Trade(id % 7);
  }
  examples::Say("listeners still registered", Bus().size());
  return 0;
}
