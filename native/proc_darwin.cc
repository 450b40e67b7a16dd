// macOS reader, through libproc: proc_pidinfo for the BSD and task views of a process,
// proc_pid_rusage for its physical footprint (the figure Activity Monitor shows as Memory, used
// here for both uss and pss; macOS has no proportional count) and proc_listchildpids.
// Another user's process answers EPERM unless we are root; an exited one or a zombie ESRCH.
#if defined(__APPLE__)

#include "proc.h"

#include <libproc.h>
#include <mach/kern_return.h>
#include <mach/mach_time.h>
#include <signal.h>
#include <sys/proc.h>
#include <sys/proc_info.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace teracron {
namespace {

// No file is involved on macOS, so path stays empty and the call names itself.
void SetError(ProcError* err, int code, const char* call, const char* detail = nullptr) {
  err->code = code;
  err->syscall = call;
  err->path[0] = '\0';
  err->detail = detail;
}

// proc_pidinfo answers the size it wrote, or 0 with errno set; anything short of the full
// struct means this kernel does not know the flavour the way our headers do.
bool PidInfo(int32_t pid, int flavor, void* buf, int size, const char* call, ProcError* err) {
  errno = 0;
  int written = proc_pidinfo(pid, flavor, 0, buf, size);
  if (written == size) return true;
  if (written <= 0 && errno != 0) {
    SetError(err, errno, call);
  } else {
    SetError(err, EIO, call, "short answer");
  }
  return false;
}

// pti_total_user and pti_total_system count Mach absolute time units, which are nanoseconds on
// Intel but 125/3 ns on Apple silicon.
double NanosPerMachTick() {
  static const double ratio = [] {
    mach_timebase_info_data_t timebase;
    if (mach_timebase_info(&timebase) != KERN_SUCCESS || timebase.denom == 0) return 1.0;
    return static_cast<double>(timebase.numer) / timebase.denom;
  }();
  return ratio;
}

// Appends pid's direct children. proc_listchildpids answers a count of PIDs; with no buffer, an
// estimate (all processes plus some), and a full buffer means more may have been cut off.
bool DirectChildren(int32_t pid, std::vector<pid_t>* scratch, std::vector<int32_t>* out, ProcError* err) {
  errno = 0;
  int estimate = proc_listchildpids(pid, nullptr, 0);
  if (estimate < 0 || (estimate == 0 && errno != 0)) {
    SetError(err, errno != 0 ? errno : EIO, "proc_listchildpids");
    return false;
  }
  size_t capacity = std::max<size_t>(static_cast<size_t>(estimate), 64);
  for (;;) {
    scratch->resize(capacity);
    errno = 0;
    int count = proc_listchildpids(pid, scratch->data(), static_cast<int>(capacity * sizeof(pid_t)));
    if (count < 0 || (count == 0 && errno != 0)) {
      SetError(err, errno != 0 ? errno : EIO, "proc_listchildpids");
      return false;
    }
    if (static_cast<size_t>(count) < capacity) {
      out->insert(out->end(), scratch->begin(), scratch->begin() + count);
      return true;
    }
    capacity *= 2;
  }
}

}  // namespace

bool ReadProcess(int32_t pid, ProcSample* out, ProcError* err) {
  // The BSD view first: it fails with ESRCH for a PID that is gone or a zombie.
  struct proc_bsdinfo bsd;
  if (!PidInfo(pid, PROC_PIDTBSDINFO, &bsd, static_cast<int>(sizeof bsd), "proc_pidinfo(PROC_PIDTBSDINFO)", err)) return false;
  if (bsd.pbi_status == SZOMB) {
    SetError(err, ESRCH, "proc_pidinfo(PROC_PIDTBSDINFO)", "zombie");
    return false;
  }

  struct proc_taskinfo task;
  if (!PidInfo(pid, PROC_PIDTASKINFO, &task, static_cast<int>(sizeof task), "proc_pidinfo(PROC_PIDTASKINFO)", err)) return false;

  struct rusage_info_v2 usage;
  if (proc_pid_rusage(pid, RUSAGE_INFO_V2, reinterpret_cast<rusage_info_t*>(&usage)) != 0) {
    SetError(err, errno != 0 ? errno : EIO, "proc_pid_rusage(RUSAGE_INFO_V2)");
    return false;
  }

  const double nanos_per_tick = NanosPerMachTick();
  out->pid = pid;
  out->ppid = static_cast<int32_t>(bsd.pbi_ppid);
  out->rss = task.pti_resident_size;
  out->vms = task.pti_virtual_size;
  out->uss = usage.ri_phys_footprint;
  out->pss = usage.ri_phys_footprint;
  out->swap = 0;
  out->cpu_user_us = std::floor(static_cast<double>(task.pti_total_user) * nanos_per_tick / 1000);
  out->cpu_system_us = std::floor(static_cast<double>(task.pti_total_system) * nanos_per_tick / 1000);
  out->threads = static_cast<uint64_t>(std::max(task.pti_threadnum, 0));
  out->start_time_ms = static_cast<double>(bsd.pbi_start_tvsec) * 1000 + std::round(static_cast<double>(bsd.pbi_start_tvusec) / 1000);
  out->command_len = std::min(strnlen(bsd.pbi_comm, sizeof bsd.pbi_comm), sizeof out->command);
  memcpy(out->command, bsd.pbi_comm, out->command_len);
  return true;
}

bool ListChildren(int32_t pid, bool recursive, std::vector<int32_t>* out, ProcError* err) {
  out->clear();
  // proc_listchildpids answers 0 children for a PID that does not exist; kill(pid, 0) tells
  // (EPERM means it exists but is not ours to signal).
  if (kill(pid, 0) != 0 && errno == ESRCH) {
    SetError(err, ESRCH, "kill");
    return false;
  }
  std::vector<pid_t> scratch;
  std::vector<int32_t> seen;
  std::vector<int32_t> generation;
  std::vector<int32_t> next;
  if (!DirectChildren(pid, &scratch, &generation, err)) return false;
  for (;;) {
    AppendGeneration(&generation, pid, &seen, out);
    if (!recursive || generation.empty()) return true;
    next.clear();
    // A descendant that exited meanwhile just lists no children.
    for (int32_t parent : generation) {
      if (!DirectChildren(parent, &scratch, &next, err)) return false;
    }
    generation.swap(next);
  }
}

}  // namespace teracron

#endif  // defined(__APPLE__)
