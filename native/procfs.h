// Reading /proc without allocating: open/read into caller or stack buffers, files streamed line
// by line or number by number however large they grow, decimal parsing by hand. Used by
// proc_linux.cc; every failure fills a ProcError with the errno, the call and the file.
#ifndef TERACRON_NATIVE_PROCFS_H_
#define TERACRON_NATIVE_PROCFS_H_

#include <dirent.h>
#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "proc.h"

namespace teracron {
namespace procfs {

inline void SetError(ProcError* err, int code, const char* syscall, const char* path, const char* detail = nullptr) {
  err->code = code;
  err->syscall = syscall;
  snprintf(err->path, sizeof err->path, "%s", path);
  err->detail = detail;
}

// ENOENT on open or ESRCH on read: the process (or one of its threads) exited meanwhile.
inline bool Vanished(const ProcError& err) {
  return err.code == ENOENT || err.code == ESRCH;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

class Dir {
 public:
  explicit Dir(DIR* dir) : dir_(dir) {}
  ~Dir() {
    if (dir_ != nullptr) closedir(dir_);
  }
  Dir(const Dir&) = delete;
  Dir& operator=(const Dir&) = delete;
  DIR* get() const { return dir_; }

 private:
  DIR* dir_;
};

inline int OpenFile(const char* path, ProcError* err) {
  int fd;
  do {
    fd = open(path, O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) SetError(err, errno, "open", path);
  return fd;
}

inline ssize_t ReadSome(int fd, char* buf, size_t cap, const char* path, ProcError* err) {
  ssize_t n;
  do {
    n = read(fd, buf, cap);
  } while (n < 0 && errno == EINTR);
  if (n < 0) SetError(err, errno, "read", path);
  return n;
}

// A small file whole (stat, statm). procfs builds the text on the first read; loop in case it
// comes in pieces. Returns the length, or -1 with *err filled.
inline ssize_t ReadSmall(const char* path, char* buf, size_t cap, ProcError* err) {
  Fd fd(OpenFile(path, err));
  if (fd.get() < 0) return -1;
  size_t len = 0;
  while (len < cap) {
    ssize_t n = ReadSome(fd.get(), buf + len, cap - len, path, err);
    if (n < 0) return -1;
    if (n == 0) break;
    len += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(len);
}

// Calls on_line(begin, end) for every line of a file of any size (smaps runs to megabytes, the
// intr line of /proc/stat to tens of kilobytes) through one stack buffer. A line longer than the
// buffer is passed cut short: every key read here is at the start of its line.
template <typename OnLine>
bool ForEachLine(int fd, const char* path, OnLine on_line, ProcError* err) {
  char buf[8192];
  size_t start = 0;
  size_t end = 0;
  bool skipping = false;  // inside the rest of a line already passed cut short
  for (;;) {
    ssize_t n = ReadSome(fd, buf + end, sizeof buf - end, path, err);
    if (n < 0) return false;
    if (n == 0) break;
    end += static_cast<size_t>(n);
    for (;;) {
      char* newline = static_cast<char*>(memchr(buf + start, '\n', end - start));
      if (newline == nullptr) break;
      if (!skipping) on_line(buf + start, newline);
      skipping = false;
      start = static_cast<size_t>(newline + 1 - buf);
    }
    if (skipping) {
      start = end = 0;
    } else if (start == 0 && end == sizeof buf) {
      on_line(buf, buf + end);
      skipping = true;
      start = end = 0;
    } else {
      memmove(buf, buf + start, end - start);
      end -= start;
      start = 0;
    }
  }
  if (end > start && !skipping) on_line(buf + start, buf + end);
  return true;
}

// Calls on_number for every decimal number in a file of any size (a children file lists one
// PID per child).
template <typename OnNumber>
bool ForEachNumber(int fd, const char* path, OnNumber on_number, ProcError* err) {
  char buf[4096];
  uint64_t value = 0;
  bool in_number = false;
  for (;;) {
    ssize_t n = ReadSome(fd, buf, sizeof buf, path, err);
    if (n < 0) return false;
    if (n == 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      char c = buf[i];
      if (c >= '0' && c <= '9') {
        value = value * 10 + static_cast<uint64_t>(c - '0');
        in_number = true;
      } else if (in_number) {
        on_number(value);
        value = 0;
        in_number = false;
      }
    }
  }
  if (in_number) on_number(value);
  return true;
}

// An unsigned decimal after optional blanks; *p moves past it. False when there is no digit.
inline bool ParseU64(const char** p, const char* end, uint64_t* out) {
  const char* s = *p;
  while (s < end && (*s == ' ' || *s == '\t')) ++s;
  if (s == end || *s < '0' || *s > '9') return false;
  uint64_t value = 0;
  while (s < end && *s >= '0' && *s <= '9') value = value * 10 + static_cast<uint64_t>(*s++ - '0');
  *p = s;
  *out = value;
  return true;
}

// A PID from a /proc directory entry name; 0 for "self", "thread-self" and other non-PIDs.
inline int32_t PidFromName(const char* name) {
  int64_t value = 0;
  for (const char* s = name; *s != '\0'; ++s) {
    if (*s < '0' || *s > '9') return 0;
    value = value * 10 + (*s - '0');
    if (value > 0x7fffffff) return 0;
  }
  return static_cast<int32_t>(value);
}

}  // namespace procfs
}  // namespace teracron

#endif  // TERACRON_NATIVE_PROCFS_H_
