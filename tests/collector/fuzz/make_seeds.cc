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
  return 0;
}
