// A growable byte buffer on the shim's own memory, with the protobuf
// primitives the wire writer needs (varints, tags, length-delimited fields).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "shim_memory.h"

namespace leakscope::preload {

class ByteBuffer {
 public:
  ByteBuffer() = default;
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;
  ~ByteBuffer() {
    if (data_ != inline_) ShimFree(data_);
  }

  const char* data() const { return data_; }
  char* data() { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void Clear() {
    size_ = 0;
    failed_ = false;
  }
  // A write was lost for want of memory since the last Clear(): the contents
  // are not a valid message and must not be sent.
  bool failed() const { return failed_; }
  void Fail() { failed_ = true; }

  // Returns false if memory ran out; the buffer is then unchanged, and
  // failed(). The first kInline bytes need no memory at all, so the small
  // messages of a process's last moments (stats, goodbye) can be written at
  // its memory limit.
  bool Reserve(size_t extra) {
    if (size_ + extra <= cap_) return true;
    size_t cap = cap_ * 2;
    while (cap < size_ + extra) cap *= 2;
    char* p;
    if (data_ == inline_) {
      p = static_cast<char*>(ShimAlloc(cap));
      if (p) std::memcpy(p, inline_, size_);
    } else {
      p = static_cast<char*>(ShimRealloc(data_, cap));
    }
    if (!p) {
      failed_ = true;
      return false;
    }
    data_ = p;
    cap_ = cap;
    return true;
  }
  void Resize(size_t n) {
    if (n > size_ && !Reserve(n - size_)) return;
    size_ = n;
  }

  void PutBytes(const void* p, size_t n) {
    if (!Reserve(n)) return;
    std::memcpy(data_ + size_, p, n);
    size_ += n;
  }
  void PutVarint(uint64_t v) {
    if (!Reserve(10)) return;
    size_ = WriteVarint(data_ + size_, v) - data_;
  }
  // Writes a varint at `out` (room for 10 bytes), returns its end. Through a
  // local pointer: stores to char alias the buffer's own fields, which
  // would otherwise be reloaded after every byte.
  static char* WriteVarint(char* out, uint64_t v) {
    while (v >= 0x80) {
      *out++ = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    *out++ = static_cast<char>(v);
    return out;
  }
  static uint64_t ZigZag(int64_t v) { return (uint64_t(v) << 1) ^ uint64_t(v >> 63); }

  // Protobuf fields (wire types: 0 varint, 2 length-delimited).
  void PutTag(uint32_t field, uint32_t wire_type) { PutVarint((uint64_t{field} << 3) | wire_type); }
  void PutVarintField(uint32_t field, uint64_t v) {
    PutTag(field, 0);
    PutVarint(v);
  }
  void PutBytesField(uint32_t field, const void* p, size_t n) {
    PutTag(field, 2);
    PutVarint(n);
    PutBytes(p, n);
  }
  void PutStringField(uint32_t field, const char* s) { PutBytesField(field, s, std::strlen(s)); }
  void PutMessageField(uint32_t field, const ByteBuffer& body) {
    if (body.failed()) failed_ = true;
    PutBytesField(field, body.data(), body.size());
  }

 private:
  static constexpr size_t kInline = 256;
  char inline_[kInline];
  char* data_ = inline_;
  size_t size_ = 0;
  size_t cap_ = kInline;
  bool failed_ = false;
};

}  // namespace leakscope::preload
