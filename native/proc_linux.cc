// Linux reader. Every figure comes from the /proc file psutil reads, with the same arithmetic as
// the TypeScript fallback (src/process/fallback.ts), so both readers return identical numbers.
// A sample costs a few syscalls and no heap allocation (file reading: procfs.h).
#if defined(__linux__)

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <utility>

#include "proc.h"
#include "procfs.h"

namespace teracron {
namespace {

using namespace procfs;

struct StatFields {
  char state = 0;
  uint64_t ppid = 0;
  uint64_t flags = 0;
  uint64_t utime = 0;
  uint64_t stime = 0;
  uint64_t num_threads = 0;
  uint64_t starttime = 0;
  const char* comm = nullptr;
  size_t comm_len = 0;
};

// /proc/<pid>/stat: "pid (comm) state ppid ...". comm may hold spaces and parentheses, so it
// runs from the first '(' to the last ')'; the numbered fields (proc(5)) follow.
bool ParseStat(const char* buf, size_t len, StatFields* f) {
  const char* end = buf + len;
  const char* open = static_cast<const char*>(memchr(buf, '(', len));
  if (open == nullptr) return false;
  const char* close = end;
  while (close > open && *--close != ')') {
  }
  if (close == open) return false;
  f->comm = open + 1;
  f->comm_len = static_cast<size_t>(close - open - 1);
  const char* p = close + 1;
  int field = 2;
  while (p < end) {
    while (p < end && (*p == ' ' || *p == '\n')) ++p;
    if (p == end) break;
    ++field;
    const char* token = p;
    while (p < end && *p != ' ' && *p != '\n') ++p;
    const char* cursor = token;
    switch (field) {
      case 3:
        f->state = *token;
        break;
      case 4:
        if (!ParseU64(&cursor, p, &f->ppid)) return false;
        break;
      case 9:
        if (!ParseU64(&cursor, p, &f->flags)) return false;
        break;
      case 14:
        if (!ParseU64(&cursor, p, &f->utime)) return false;
        break;
      case 15:
        if (!ParseU64(&cursor, p, &f->stime)) return false;
        break;
      case 20:
        if (!ParseU64(&cursor, p, &f->num_threads)) return false;
        break;
      case 22:
        return ParseU64(&cursor, p, &f->starttime);
      default:
        break;
    }
  }
  return false;
}

bool ReadStat(int32_t pid, char* buf, size_t cap, StatFields* f, ProcError* err) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  ssize_t len = ReadSmall(path, buf, cap, err);
  if (len < 0) return false;
  if (!ParseStat(buf, static_cast<size_t>(len), f)) {
    SetError(err, EIO, "read", path, "unexpected content");
    return false;
  }
  return true;
}

// PF_KTHREAD in the stat flags (include/linux/sched.h): a kernel thread, with no address space.
constexpr uint64_t kKernelThread = 0x00200000;

long PageSize() {
  static const long page_size = sysconf(_SC_PAGESIZE);
  return page_size;
}

long ClockTicks() {
  static const long clock_ticks = sysconf(_SC_CLK_TCK);
  return clock_ticks;
}

// Seconds since the epoch at boot, from the btime line of /proc/stat. It never changes, so it is
// read once per process; a race between threads only reads it twice.
std::atomic<int64_t> boot_time{-1};

bool BootTime(int64_t* out, ProcError* err) {
  int64_t cached = boot_time.load(std::memory_order_relaxed);
  if (cached >= 0) {
    *out = cached;
    return true;
  }
  const char* path = "/proc/stat";
  Fd fd(OpenFile(path, err));
  if (fd.get() < 0) return false;
  int64_t btime = -1;
  bool ok = ForEachLine(
      fd.get(), path,
      [&btime](const char* begin, const char* end) {
        if (end - begin > 6 && memcmp(begin, "btime ", 6) == 0) {
          const char* p = begin + 6;
          uint64_t value;
          if (ParseU64(&p, end, &value)) btime = static_cast<int64_t>(value);
        }
      },
      err);
  if (!ok) return false;
  if (btime < 0) {
    SetError(err, EIO, "read", path, "no btime line");
    return false;
  }
  boot_time.store(btime, std::memory_order_relaxed);
  *out = btime;
  return true;
}

struct SmapsTotals {
  uint64_t private_clean_kb = 0;
  uint64_t private_dirty_kb = 0;
  uint64_t pss_kb = 0;
  uint64_t swap_kb = 0;
};

// Adds one "Key:   value kB" line. Keys match whole, so Pss_Dirty or SwapPss never count as Pss
// or Swap; mapping header lines in smaps have no matching key.
void AddSmapsLine(const char* begin, const char* end, SmapsTotals* totals) {
  const char* colon = static_cast<const char*>(memchr(begin, ':', static_cast<size_t>(end - begin)));
  if (colon == nullptr) return;
  size_t key_len = static_cast<size_t>(colon - begin);
  uint64_t* slot = nullptr;
  if (key_len == 3 && memcmp(begin, "Pss", 3) == 0) {
    slot = &totals->pss_kb;
  } else if (key_len == 4 && memcmp(begin, "Swap", 4) == 0) {
    slot = &totals->swap_kb;
  } else if (key_len == 13 && memcmp(begin, "Private_Clean", 13) == 0) {
    slot = &totals->private_clean_kb;
  } else if (key_len == 13 && memcmp(begin, "Private_Dirty", 13) == 0) {
    slot = &totals->private_dirty_kb;
  }
  if (slot == nullptr) return;
  const char* p = colon + 1;
  uint64_t kb;
  if (ParseU64(&p, end, &kb)) *slot += kb;
}

// smaps_rollup (Linux 4.14+) holds the sums the kernel made; older kernels only have smaps, one
// block per mapping, summed here.
bool ReadSmaps(int32_t pid, SmapsTotals* totals, ProcError* err) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/smaps_rollup", static_cast<int>(pid));
  int raw = OpenFile(path, err);
  if (raw < 0 && err->code == ENOENT) {
    // If the process is gone too, this open fails with ENOENT and reports it.
    snprintf(path, sizeof path, "/proc/%d/smaps", static_cast<int>(pid));
    raw = OpenFile(path, err);
  }
  if (raw < 0) return false;
  Fd fd(raw);
  return ForEachLine(
      fd.get(), path, [totals](const char* begin, const char* end) { AddSmapsLine(begin, end, totals); }, err);
}

// The kernel builds the children files (CONFIG_PROC_CHILDREN) for all or none; ask once.
std::atomic<int> children_files{-1};

bool HaveChildrenFiles() {
  int known = children_files.load(std::memory_order_relaxed);
  if (known >= 0) return known == 1;
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/children", static_cast<int>(getpid()));
  int have = access(path, F_OK) == 0 ? 1 : 0;
  children_files.store(have, std::memory_order_relaxed);
  return have == 1;
}

// Appends pid's direct children from /proc/<pid>/task/<tid>/children: each thread lists the
// children it forked, so the union over threads is the process's children.
bool ChildrenFromTaskFiles(int32_t pid, std::vector<int32_t>* out, ProcError* err) {
  char path[96];
  snprintf(path, sizeof path, "/proc/%d/task", static_cast<int>(pid));
  Dir dir(opendir(path));
  if (dir.get() == nullptr) {
    SetError(err, errno, "opendir", path);
    return false;
  }
  for (;;) {
    errno = 0;
    dirent* entry = readdir(dir.get());
    if (entry == nullptr) {
      if (errno != 0 && errno != ENOENT && errno != ESRCH) {
        SetError(err, errno, "readdir", path);
        return false;
      }
      return true;
    }
    int32_t tid = PidFromName(entry->d_name);
    if (tid == 0) continue;
    char children_path[96];
    snprintf(children_path, sizeof children_path, "/proc/%d/task/%d/children", static_cast<int>(pid), static_cast<int>(tid));
    ProcError thread_err;
    int raw = OpenFile(children_path, &thread_err);
    if (raw >= 0) {
      Fd fd(raw);
      if (ForEachNumber(
              fd.get(), children_path, [out](uint64_t child) { out->push_back(static_cast<int32_t>(child)); }, &thread_err)) {
        continue;
      }
    }
    if (Vanished(thread_err)) continue;  // that thread exited; its children moved elsewhere
    *err = thread_err;
    return false;
  }
}

// Without CONFIG_PROC_CHILDREN: the parent of every process, from each /proc/<pid>/stat, as
// (ppid, pid) pairs sorted so a process's children are one ascending run.
bool ScanParents(std::vector<std::pair<int32_t, int32_t>>* pairs, ProcError* err) {
  Dir dir(opendir("/proc"));
  if (dir.get() == nullptr) {
    SetError(err, errno, "opendir", "/proc");
    return false;
  }
  char buf[4096];
  for (;;) {
    errno = 0;
    dirent* entry = readdir(dir.get());
    if (entry == nullptr) {
      if (errno != 0) {
        SetError(err, errno, "readdir", "/proc");
        return false;
      }
      break;
    }
    int32_t pid = PidFromName(entry->d_name);
    if (pid == 0) continue;
    StatFields fields;
    ProcError stat_err;
    if (!ReadStat(pid, buf, sizeof buf, &fields, &stat_err)) {
      if (Vanished(stat_err)) continue;
      *err = stat_err;
      return false;
    }
    pairs->emplace_back(static_cast<int32_t>(fields.ppid), pid);
  }
  std::sort(pairs->begin(), pairs->end());
  return true;
}

}  // namespace

bool ReadProcess(int32_t pid, ProcSample* out, ProcError* err) {
  // stat first: for a PID that is gone, this is where ENOENT comes from.
  char buf[4096];
  char path[64];
  StatFields stat;
  if (!ReadStat(pid, buf, sizeof buf, &stat, err)) return false;
  if (stat.state == 'Z' || stat.state == 'X' || stat.state == 'x') {
    snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
    SetError(err, ESRCH, "read", path, stat.state == 'Z' ? "zombie" : "dead");
    return false;
  }

  snprintf(path, sizeof path, "/proc/%d/statm", static_cast<int>(pid));
  char statm[256];
  ssize_t statm_len = ReadSmall(path, statm, sizeof statm, err);
  if (statm_len < 0) return false;
  const char* p = statm;
  uint64_t size_pages;
  uint64_t resident_pages;
  if (!ParseU64(&p, statm + statm_len, &size_pages) || !ParseU64(&p, statm + statm_len, &resident_pages)) {
    SetError(err, EIO, "read", path, "unexpected content");
    return false;
  }

  // A kernel thread has no memory map: older kernels show an empty smaps_rollup, newer ones
  // (6.x) fail the open with ESRCH, which would read as "not found". It owns nothing either way.
  SmapsTotals smaps;
  if ((stat.flags & kKernelThread) == 0 && !ReadSmaps(pid, &smaps, err)) return false;

  int64_t btime;
  if (!BootTime(&btime, err)) return false;

  const uint64_t page_size = static_cast<uint64_t>(PageSize());
  const double ticks = static_cast<double>(ClockTicks());
  out->pid = pid;
  out->ppid = static_cast<int32_t>(stat.ppid);
  out->rss = resident_pages * page_size;
  out->vms = size_pages * page_size;
  out->uss = (smaps.private_clean_kb + smaps.private_dirty_kb) * 1024;
  out->pss = smaps.pss_kb * 1024;
  out->swap = smaps.swap_kb * 1024;
  // The same double arithmetic the fallback does in JavaScript, so the results match bit for bit.
  out->cpu_user_us = static_cast<double>(stat.utime) * 1e6 / ticks;
  out->cpu_system_us = static_cast<double>(stat.stime) * 1e6 / ticks;
  out->threads = stat.num_threads;
  out->start_time_ms = static_cast<double>(btime) * 1000 + std::round(static_cast<double>(stat.starttime) * 1000 / ticks);
  out->command_len = std::min(stat.comm_len, sizeof out->command);
  memcpy(out->command, stat.comm, out->command_len);
  return true;
}

bool ListChildren(int32_t pid, bool recursive, std::vector<int32_t>* out, ProcError* err) {
  out->clear();
  std::vector<int32_t> seen;
  std::vector<int32_t> generation;

  if (HaveChildrenFiles()) {
    if (!ChildrenFromTaskFiles(pid, &generation, err)) return false;
    std::vector<int32_t> next;
    for (;;) {
      AppendGeneration(&generation, pid, &seen, out);
      if (!recursive || generation.empty()) return true;
      next.clear();
      for (int32_t parent : generation) {
        ProcError child_err;
        if (ChildrenFromTaskFiles(parent, &next, &child_err)) continue;
        if (Vanished(child_err)) continue;  // a descendant exited while we walked
        *err = child_err;
        return false;
      }
      generation.swap(next);
    }
  }

  char path[64];
  snprintf(path, sizeof path, "/proc/%d", static_cast<int>(pid));
  if (access(path, F_OK) != 0) {
    SetError(err, errno, "access", path);
    return false;
  }
  std::vector<std::pair<int32_t, int32_t>> pairs;
  if (!ScanParents(&pairs, err)) return false;
  auto children_of = [&pairs](int32_t parent, std::vector<int32_t>* into) {
    auto first = std::lower_bound(pairs.begin(), pairs.end(), std::make_pair(parent, INT32_MIN));
    for (auto it = first; it != pairs.end() && it->first == parent; ++it) into->push_back(it->second);
  };
  children_of(pid, &generation);
  std::vector<int32_t> next;
  for (;;) {
    AppendGeneration(&generation, pid, &seen, out);
    if (!recursive || generation.empty()) return true;
    next.clear();
    for (int32_t parent : generation) children_of(parent, &next);
    generation.swap(next);
  }
}

}  // namespace teracron

#endif  // defined(__linux__)
