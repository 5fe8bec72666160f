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
  ~ByteBuffer() { ShimFree(data_); }

  const char* data() const { return data_; }
  char* data() { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void Clear() { size_ = 0; }

  // Returns false if memory ran out; the buffer is then unchanged.
  bool Reserve(size_t extra) {
    if (size_ + extra <= cap_) return true;
    size_t cap = cap_ ? cap_ * 2 : 4096;
    while (cap < size_ + extra) cap *= 2;
    char* p = static_cast<char*>(ShimRealloc(data_, cap));
    if (!p) return false;
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
    PutBytesField(field, body.data(), body.size());
  }

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
  size_t cap_ = 0;
};

}  // namespace leakscope::preload
