// What the platform readers (proc_linux.cc, proc_darwin.cc) hand to the addon glue (addon.cc).
// Plain structs and an error record instead of exceptions: the readers know nothing of N-API,
// and the glue turns a ProcError into a JS Error shaped like node:fs's.
#ifndef TERACRON_NATIVE_PROC_H_
#define TERACRON_NATIVE_PROC_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace teracron {

struct ProcSample {
  int32_t pid = 0;
  int32_t ppid = 0;
  uint64_t rss = 0;
  uint64_t vms = 0;
  uint64_t uss = 0;
  uint64_t pss = 0;
  uint64_t swap = 0;
  double cpu_user_us = 0;
  double cpu_system_us = 0;
  uint64_t threads = 0;
  double start_time_ms = 0;
  // Linux comm is 16 bytes, but kernel worker threads can show up to 64.
  char command[128] = {0};
  size_t command_len = 0;
};

// The failing call, as node:fs reports it: errno value, syscall name and the file (or, on macOS,
// the libproc call) it concerned. `detail` adds why an errno was chosen when no syscall set it.
struct ProcError {
  int code = 0;
  const char* syscall = "";
  char path[96] = {0};
  const char* detail = nullptr;
};

// Each returns false and fills *err on failure.
bool ReadProcess(int32_t pid, ProcSample* out, ProcError* err);
// Children of pid, each generation sorted ascending; with recursive, every descendant breadth
// first. pid itself is never included.
bool ListChildren(int32_t pid, bool recursive, std::vector<int32_t>* out, ProcError* err);

// One breadth-first step shared by the readers: sorts a generation, drops duplicates, the root
// and PIDs already listed (a race can show a reparented process twice), then appends it to out.
inline void AppendGeneration(std::vector<int32_t>* generation, int32_t root, std::vector<int32_t>* seen,
                             std::vector<int32_t>* out) {
  std::sort(generation->begin(), generation->end());
  generation->erase(std::unique(generation->begin(), generation->end()), generation->end());
  generation->erase(std::remove_if(generation->begin(), generation->end(),
                                   [&](int32_t pid) { return pid == root || std::binary_search(seen->begin(), seen->end(), pid); }),
                    generation->end());
  out->insert(out->end(), generation->begin(), generation->end());
  const auto middle = static_cast<std::ptrdiff_t>(seen->size());
  seen->insert(seen->end(), generation->begin(), generation->end());
  std::inplace_merge(seen->begin(), seen->begin() + middle, seen->end());
}

}  // namespace teracron

#endif  // TERACRON_NATIVE_PROC_H_
