// Neither Linux nor macOS: the addon still builds, so installing the package never fails, and
// every call reports ENOSYS, which src/process/errno.ts turns into an 'unreadable' error.
#if !defined(__linux__) && !defined(__APPLE__)

#include "proc.h"

#include <cerrno>

namespace teracron {

bool ReadProcess(int32_t, ProcSample*, ProcError* err) {
  err->code = ENOSYS;
  err->syscall = "readProcess";
  err->detail = "not supported on this operating system";
  return false;
}

bool ListChildren(int32_t, bool, std::vector<int32_t>*, ProcError* err) {
  err->code = ENOSYS;
  err->syscall = "listChildren";
  err->detail = "not supported on this operating system";
  return false;
}

}  // namespace teracron

#endif
