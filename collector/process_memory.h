// Another process's memory, read with process_vm_readv (no stop needed to
// read, but a consistent view needs the process stopped: process_stopper.h).
#pragma once

#include <sys/types.h>

#include "reachability.h"

namespace leakscope::collector {

class ProcessMemory : public MemoryReader {
 public:
  explicit ProcessMemory(pid_t pid) : pid_(pid) {}
  size_t Read(uint64_t address, size_t size, uint8_t* out) override;

 private:
  pid_t pid_;
};

}  // namespace leakscope::collector
