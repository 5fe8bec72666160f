// Builds shim -> collector streams in tests, with the generated protobuf
// classes and LZ4: the reference encoding the collector must accept.
//
//   EventsBuilder events;
//   events.Alloc(0x1000, 64, /*stack=*/1).Free(0x1000);
//   wire::Message m;
//   *m.mutable_events() = events.Build(/*time_ns=*/5);
//   std::string stream = StreamHeader() + Frame(hello) + Frame(m);
#pragma once

#include <lz4.h>

#include <cstdint>
#include <string>
#include <vector>

#include "framing.h"
#include "wire.pb.h"

namespace leakscope::testing {

inline void AppendU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

// The little-endian u32 at `at` (a frame header's sizes).
inline uint32_t ReadU32(const std::string& bytes, size_t at = 0) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  return v;
}

inline std::string StreamHeader(uint32_t version = wire::kProtocolVersion) {
  std::string out(wire::kStreamMagic, sizeof wire::kStreamMagic);
  AppendU32(&out, version);
  return out;
}

// One frame: u32 compressed | u32 raw | LZ4 block of the serialized message.
inline std::string Frame(const wire::Message& message) {
  std::string raw = message.SerializeAsString();
  std::string block(LZ4_compressBound(static_cast<int>(raw.size())), '\0');
  int n = LZ4_compress_default(raw.data(), block.data(), static_cast<int>(raw.size()),
                               static_cast<int>(block.size()));
  std::string out;
  AppendU32(&out, static_cast<uint32_t>(n));
  AppendU32(&out, static_cast<uint32_t>(raw.size()));
  out.append(block.data(), static_cast<size_t>(n));
  return out;
}

inline wire::Message HelloMessage(uint32_t pid, const std::string& exe,
                                  uint64_t sampling_interval = 1) {
  wire::Message m;
  wire::Hello* h = m.mutable_hello();
  h->set_protocol_version(wire::kProtocolVersion);
  h->set_pid(pid);
  h->set_ppid(1);
  h->set_exe(exe);
  h->add_argv(exe);
  h->set_start_time_unix_ns(1700000000000000000ull);
  h->set_sampling_interval_bytes(sampling_interval);
  return m;
}

inline void AddStack(wire::Message* m, uint32_t id, const std::vector<uint64_t>& pcs) {
  wire::Stack* s = m->add_stacks();
  s->set_id(id);
  for (uint64_t pc : pcs) s->add_pcs(pc);
}

// Events in order, as the shim's columns: size+1 (0 = free), address delta
// from the previous event of the same message, a stack id per allocation.
class EventsBuilder {
 public:
  EventsBuilder& Alloc(uint64_t address, uint64_t size, uint32_t stack) {
    Add(address, size + 1);
    events_.add_stack_id(stack);
    return *this;
  }
  EventsBuilder& Free(uint64_t address) {
    Add(address, 0);
    return *this;
  }
  wire::Events Build(uint64_t time_ns) {
    events_.set_time_ns(time_ns);
    wire::Events out = events_;
    events_.Clear();
    previous_ = 0;
    return out;
  }

 private:
  void Add(uint64_t address, uint64_t size_plus_one) {
    events_.add_size_plus_one(size_plus_one);
    events_.add_address_delta(static_cast<int64_t>(address - previous_));
    previous_ = address;
  }

  wire::Events events_;
  uint64_t previous_ = 0;
};

}  // namespace leakscope::testing
