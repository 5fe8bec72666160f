// Hand-written protobuf encoder for wire.Message (proto/wire.proto), in the
// manner of Perfetto's protozero: it appends fields to byte buffers and never
// allocates per event. The shim must not link libprotobuf: the traced program
// may carry its own, of another version. tests/preload/wire_writer_test.cc
// decodes this output with the generated classes to keep the two in step.
#pragma once

#include <cstdint>

#include "byte_buffer.h"

namespace leakscope::preload {

struct HelloInfo {
  uint32_t pid = 0, ppid = 0;
  const char* exe = "";
  const char* cmdline = nullptr;  // argv, NUL-separated, as in /proc/self/cmdline
  size_t cmdline_size = 0;
  uint64_t start_time_unix_ns = 0;
  uint64_t sampling_interval_bytes = 1;
  bool forked = false;
  uint64_t fork_time_unix_ns = 0;
  uint32_t parent_pid = 0;  // forked: the parent's Hello pid and start time
  uint64_t parent_start_time_unix_ns = 0;
  uint64_t fork_id = 0;            // 0: no ForkMarker was sent, nothing is inherited
  uint64_t fork_markers_sent = 0;  // before this stream began
  uint32_t flush_interval_ms = 0;
  const char* labels = "";              // LEAKSCOPE_LABELS, as given
  uint64_t drain_progress_address = 0;  // proto/drain_progress.h
};

struct MemoryFigures;
struct StatsInfo {
  uint64_t dropped_events = 0, rss_bytes = 0, reentrant_events = 0, threads_seen = 0, time_ns = 0;
  const MemoryFigures* memory = nullptr;  // wire.MemoryStats, when taken
};

// Message-level fields, appended to a message being built.
void EncodeHello(const HelloInfo& hello, ByteBuffer* msg);
void EncodeStack(uint32_t id, const uint64_t* pcs, uint32_t n, ByteBuffer* msg);
void EncodeStats(const StatsInfo& stats, ByteBuffer* msg);
void EncodeGoodbye(bool has_exit_status, int exit_status, const char* how, ByteBuffer* msg);
void EncodeForkMarker(uint64_t fork_id, ByteBuffer* msg);
void EncodeExitMarker(const char* how, ByteBuffer* msg);
// One wire.MapEvent (kind: its enum value).
void EncodeMapEvent(uint32_t kind, uint64_t address, uint64_t length, uint32_t stack_id,
                    uint64_t new_address, bool keep_old, ByteBuffer* msg);

// The events of one message, as packed columns (see wire.Events).
class EventColumns {
 public:
  void AddAlloc(uint64_t address, uint64_t size, uint32_t stack_id) {
    sizes_.PutVarint(size + 1);
    AddAddress(address);
    stack_ids_.PutVarint(stack_id);
    ++count_;
  }
  void AddFree(uint64_t address) {
    sizes_.PutVarint(0);
    AddAddress(address);
    ++count_;
  }
  // The same for many events: room for `events` is made once, then each
  // event is written through local pointers (see ByteBuffer::WriteVarint).
  class Writer {
   public:
    explicit Writer(EventColumns* c) : c_(c) {}
    // False if memory ran out (nothing is then written).
    bool Reserve(size_t events) {
      Flush();
      if (!c_->sizes_.Reserve(events * 10) || !c_->addresses_.Reserve(events * 10) ||
          !c_->stack_ids_.Reserve(events * 5))
        return false;
      sizes_ = c_->sizes_.data() + c_->sizes_.size();
      addresses_ = c_->addresses_.data() + c_->addresses_.size();
      stack_ids_ = c_->stack_ids_.data() + c_->stack_ids_.size();
      last_address_ = c_->last_address_;
      return true;
    }
    void AddAlloc(uint64_t address, uint64_t size, uint32_t stack_id) {
      sizes_ = ByteBuffer::WriteVarint(sizes_, size + 1);
      AddAddress(address);
      stack_ids_ = ByteBuffer::WriteVarint(stack_ids_, stack_id);
      ++count_;
    }
    void AddFree(uint64_t address) {
      *sizes_++ = 0;
      AddAddress(address);
      ++count_;
    }
    // Publishes what was written to the columns (before anything else reads
    // or writes them).
    void Flush() {
      if (!sizes_) return;
      c_->sizes_.Resize(sizes_ - c_->sizes_.data());
      c_->addresses_.Resize(addresses_ - c_->addresses_.data());
      c_->stack_ids_.Resize(stack_ids_ - c_->stack_ids_.data());
      c_->last_address_ = last_address_;
      c_->count_ += count_;
      count_ = 0;
      sizes_ = addresses_ = stack_ids_ = nullptr;
    }
    size_t pending() const { return count_; }

   private:
    void AddAddress(uint64_t address) {
      addresses_ = ByteBuffer::WriteVarint(
          addresses_, ByteBuffer::ZigZag(static_cast<int64_t>(address - last_address_)));
      last_address_ = address;
    }
    EventColumns* c_;
    char *sizes_ = nullptr, *addresses_ = nullptr, *stack_ids_ = nullptr;
    uint64_t last_address_ = 0;
    size_t count_ = 0;
  };
  // Allocations freed within their batch, folded (preload/transient_folder.h):
  // per-stack sums, and the adjustments of their live bytes. An adjustment
  // takes effect before sent event number `before` of this message; its
  // entries follow it.
  void AddTransient(uint32_t stack_id, uint64_t count, uint64_t bytes, uint64_t temporary) {
    folded_[kTransientStackId].PutVarint(stack_id);
    folded_[kTransientCount].PutVarint(count);
    folded_[kTransientBytes].PutVarint(bytes);
    folded_[kTransientTemporary].PutVarint(temporary);
    folded_count_ += 2 * count;
  }
  void AddAdjustment(size_t before, uint32_t entries, uint64_t address) {
    folded_[kAdjustBeforeDelta].PutVarint(before - last_adjust_before_);
    last_adjust_before_ = before;
    folded_[kAdjustEntries].PutVarint(entries);
    folded_[kAdjustAddress].PutVarint(address);
  }
  void AddAdjustmentEntry(uint32_t stack_id, int64_t bytes) {
    folded_[kAdjustStackId].PutVarint(stack_id);
    folded_[kAdjustBytes].PutVarint(ByteBuffer::ZigZag(bytes));
  }

  // Makes room for `events` ahead of time (false if memory ran out).
  bool Reserve(size_t events) {
    for (ByteBuffer& b : folded_)
      if (!b.Reserve(4096)) return false;
    return sizes_.Reserve(events * 10) && addresses_.Reserve(events * 10) &&
           stack_ids_.Reserve(events * 5) && scratch_.Reserve(events * 25 + 64);
  }
  // Events recorded: sent ones and folded ones (two per folded allocation).
  size_t count() const { return count_ + folded_count_; }
  size_t sent() const { return count_; }
  // Appends Message.events and clears the columns. A column that lost a
  // write for want of memory fails `msg` (ByteBuffer::failed) instead.
  void EncodeAndClear(uint64_t time_ns, ByteBuffer* msg);

 private:
  void AddAddress(uint64_t address) {
    addresses_.PutVarint(ByteBuffer::ZigZag(static_cast<int64_t>(address - last_address_)));
    last_address_ = address;
  }
  enum FoldedColumn {
    kTransientStackId,
    kTransientCount,
    kTransientBytes,
    kTransientTemporary,
    kAdjustBeforeDelta,
    kAdjustEntries,
    kAdjustStackId,
    kAdjustBytes,
    kAdjustAddress,
    kFoldedColumns
  };
  ByteBuffer sizes_, addresses_, stack_ids_, scratch_;
  ByteBuffer folded_[kFoldedColumns];
  uint64_t last_address_ = 0;
  size_t count_ = 0;         // events sent
  size_t folded_count_ = 0;  // events folded
  size_t last_adjust_before_ = 0;
};

// Appends the 8-byte stream header (proto/framing.h).
void EncodeStreamHeader(ByteBuffer* out);
// Appends one frame: u32 compressed size, u32 raw size, LZ4 block of `msg`.
bool EncodeFrame(const ByteBuffer& msg, ByteBuffer* out);

}  // namespace leakscope::preload
