// Writes the fuzz corpus's seed inputs (valid streams, with the encoder the
// tests use) into the directory given: make_seeds tests/collector/fuzz_corpus
#include <cstdio>
#include <fstream>

#include "wire_test_encoder.h"

using namespace leakscope;
using namespace leakscope::testing;

namespace {

void Write(const std::string& dir, const std::string& name, char chunk, const std::string& s) {
  std::ofstream(dir + "/seed-" + name, std::ios::binary) << chunk << s;
}

wire::Message Hello(uint64_t sampling = 1) {
  wire::Message m = HelloMessage(4242, "/usr/bin/seed", sampling);
  wire::Module* mod = m.add_modules();
  mod->set_path("/usr/bin/seed");
  mod->set_load_bias(0x400000);
  mod->add_exec_ranges(0x401000);
  mod->add_exec_ranges(0x402000);
  AddStack(&m, 1, {0x401001, 0x401101});
  AddStack(&m, 2, {0x401201});
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return std::fprintf(stderr, "usage: make_seeds DIR\n"), 2;
  const std::string dir = argv[1];
  wire::Message h = Hello();
  *h.mutable_events() =
      EventsBuilder().Alloc(0x1000, 64, 1).Alloc(0x2000, 32, 2).Free(0x1000).Build(5);
  wire::Message more;
  AddStack(&more, 3, {0x401301, 0x401001});
  *more.mutable_events() =
      EventsBuilder().Alloc(0x3000, 128, 3).Free(0x9999).Alloc(0x2000, 8, 1).Build(100);
  more.mutable_stats()->set_rss_bytes(1 << 20);
  more.mutable_stats()->set_dropped_events(3);
  more.mutable_stats()->set_time_ns(100);
  wire::Message bye;
  bye.mutable_goodbye()->set_has_exit_status(true);
  bye.mutable_goodbye()->set_exit_status(0);
  bye.mutable_goodbye()->set_how("exit");
  Write(dir, "full", 255, StreamHeader() + Frame(h) + Frame(more) + Frame(bye));
  Write(dir, "split-reads", 2, StreamHeader() + Frame(h) + Frame(more));
  Write(dir, "hello-only", 255, StreamHeader() + Frame(Hello()));
  wire::Message sampled = Hello(4096);
  *sampled.mutable_events() =
      EventsBuilder().Alloc(0x1000, 10, 1).Alloc(0x2000, 100000, 2).Build(7);
  Write(dir, "sampled", 255, StreamHeader() + Frame(sampled));
  std::string many = StreamHeader() + Frame(Hello());
  for (uint64_t t = 1; t <= 70; ++t) {
    wire::Message m;
    *m.mutable_events() = EventsBuilder().Alloc(0x10000 + t * 64, t, t % 2 + 1).Build(t);
    many += Frame(m);
  }
  Write(dir, "many-frames", 255, many);
  // Folded allocations (preload/transient_folder.h): an event, then a pair at
  // stack 2 folded around it with its adjustments (one replacing 0x2000).
  wire::Message folded;
  *folded.mutable_events() = EventsBuilder().Alloc(0x4000, 24, 1).Build(9);
  wire::Events* e = folded.mutable_events();
  e->add_transient_stack_id(2);
  e->add_transient_count(1);
  e->add_transient_bytes(40);
  e->add_transient_temporary(0);
  const struct {
    uint32_t before, stack;
    int64_t bytes;
    uint64_t address;
  } adjustments[] = {{0, 2, 0, 0x2000}, {0, 2, 40, 0}, {1, 2, -40, 0}};
  for (const auto& a : adjustments) {
    e->add_adjust_before_delta(a.before);
    e->add_adjust_entries(a.bytes ? 1 : 0);
    if (a.bytes) e->add_adjust_stack_id(a.stack), e->add_adjust_bytes(a.bytes);
    e->add_adjust_address(a.address);
  }
  Write(dir, "folded", 255, StreamHeader() + Frame(h) + Frame(folded) + Frame(bye));
  // The program's mappings (wire.MapEvent): a map split by an unmap, and one
  // moved by an mremap.
  wire::Message maps;
  const struct {
    wire::MapEvent::Kind kind;
    uint64_t address, length;
    uint32_t stack;
    uint64_t new_address;
    bool keep_old;
  } map_events[] = {{wire::MapEvent::MAP, 0x7f0000000000, 0x10000, 1, 0, false},
                    {wire::MapEvent::UNMAP, 0x7f0000004000, 0x1000, 0, 0, false},
                    {wire::MapEvent::MAP, 0x7f0000100000, 0x4000, 2, 0, false},
                    {wire::MapEvent::REMAP_BEGIN, 0x7f0000100000, 0x4000, 0, 0, false},
                    {wire::MapEvent::REMAP_END, 0x7f0000100000, 0x8000, 0, 0x7f0000200000, false}};
  for (const auto& m : map_events) {
    wire::MapEvent* me = maps.add_map_events();
    me->set_kind(m.kind);
    me->set_address(m.address);
    me->set_length(m.length);
    me->set_stack_id(m.stack);
    me->set_new_address(m.new_address);
    me->set_keep_old(m.keep_old);
  }
  Write(dir, "mappings", 255, StreamHeader() + Frame(h) + Frame(maps) + Frame(bye));
  return 0;
}
