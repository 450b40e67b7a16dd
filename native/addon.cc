// The addon's JavaScript face, and nothing else: argument checks, a ProcSample as a plain object,
// a ProcError as an Error shaped like node:fs's ({ code, errno, syscall, path }) for
// src/process/errno.ts to map. The readers are proc_linux.cc and proc_darwin.cc; sealGcm is seal.cc.
// Built without C++ exceptions (NAPI_DISABLE_CPP_EXCEPTIONS): a failed N-API call leaves a
// pending JavaScript exception and the function returns.
#include <napi.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <string>

#include "proc.h"
#include "seal.h"

namespace {

struct ErrnoInfo {
  int code;
  const char* name;
  const char* text;
};

// Our own table rather than strerror, which is not thread-safe (worker threads load this addon
// too) and gives no name. The first match wins where two names share a number.
const ErrnoInfo kErrnos[] = {
    {ENOENT, "ENOENT", "No such file or directory"},
    {ESRCH, "ESRCH", "No such process"},
    {EACCES, "EACCES", "Permission denied"},
    {EPERM, "EPERM", "Operation not permitted"},
    {EIO, "EIO", "Input/output error"},
    {EINTR, "EINTR", "Interrupted system call"},
    {EAGAIN, "EAGAIN", "Resource temporarily unavailable"},
    {ENOMEM, "ENOMEM", "Cannot allocate memory"},
    {EFAULT, "EFAULT", "Bad address"},
    {EBADF, "EBADF", "Bad file descriptor"},
    {ENOTDIR, "ENOTDIR", "Not a directory"},
    {EINVAL, "EINVAL", "Invalid argument"},
    {ENFILE, "ENFILE", "Too many open files in system"},
    {EMFILE, "EMFILE", "Too many open files"},
    {ENAMETOOLONG, "ENAMETOOLONG", "File name too long"},
    {ELOOP, "ELOOP", "Too many levels of symbolic links"},
    {EOVERFLOW, "EOVERFLOW", "Value too large for defined data type"},
    {ENOSYS, "ENOSYS", "Function not implemented"},
    {ENOTSUP, "ENOTSUP", "Operation not supported"},
};

void ThrowProcError(Napi::Env env, const teracron::ProcError& err) {
  const char* name = "UNKNOWN";
  char unknown_text[32];
  snprintf(unknown_text, sizeof unknown_text, "Unknown error %d", err.code);
  const char* text = unknown_text;
  for (const ErrnoInfo& info : kErrnos) {
    if (info.code == err.code) {
      name = info.name;
      text = info.text;
      break;
    }
  }
  std::string message = err.syscall;
  if (err.path[0] != '\0') message.append(" ").append(err.path);
  message.append(": ").append(text);
  if (err.detail != nullptr) message.append(" (").append(err.detail).append(")");

  Napi::Error error = Napi::Error::New(env, message);
  Napi::Object fields = error.Value();
  fields.Set("code", Napi::String::New(env, name));
  // Negative, as node:fs (libuv) reports it, so both readers' errors carry the same number.
  fields.Set("errno", Napi::Number::New(env, -err.code));
  fields.Set("syscall", Napi::String::New(env, err.syscall));
  if (err.path[0] != '\0') fields.Set("path", Napi::String::New(env, err.path));
  error.ThrowAsJavaScriptException();
}

bool PidArgument(const Napi::CallbackInfo& info, int32_t* pid) {
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(info.Env(), "pid must be a number").ThrowAsJavaScriptException();
    return false;
  }
  double value = info[0].As<Napi::Number>().DoubleValue();
  if (!(value >= 1 && value <= 2147483647) || std::floor(value) != value) {
    Napi::TypeError::New(info.Env(), "pid must be a positive 32-bit integer").ThrowAsJavaScriptException();
    return false;
  }
  *pid = static_cast<int32_t>(value);
  return true;
}

Napi::Value ReadProcess(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t pid;
  if (!PidArgument(info, &pid)) return env.Undefined();
  teracron::ProcSample sample;
  teracron::ProcError err;
  if (!teracron::ReadProcess(pid, &sample, &err)) {
    ThrowProcError(env, err);
    return env.Undefined();
  }
  // Sizes reach 2^53 only past 8 PiB, so a double holds them exactly.
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, sample.pid));
  result.Set("ppid", Napi::Number::New(env, sample.ppid));
  result.Set("rss", Napi::Number::New(env, static_cast<double>(sample.rss)));
  result.Set("vms", Napi::Number::New(env, static_cast<double>(sample.vms)));
  result.Set("uss", Napi::Number::New(env, static_cast<double>(sample.uss)));
  result.Set("pss", Napi::Number::New(env, static_cast<double>(sample.pss)));
  result.Set("swap", Napi::Number::New(env, static_cast<double>(sample.swap)));
  result.Set("cpuUserUs", Napi::Number::New(env, sample.cpu_user_us));
  result.Set("cpuSystemUs", Napi::Number::New(env, sample.cpu_system_us));
  result.Set("threads", Napi::Number::New(env, static_cast<double>(sample.threads)));
  result.Set("startTime", Napi::Number::New(env, sample.start_time_ms));
  result.Set("command", Napi::String::New(env, sample.command, sample.command_len));
  return result;
}

Napi::Value ListChildren(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t pid;
  if (!PidArgument(info, &pid)) return env.Undefined();
  bool recursive = false;
  if (info.Length() >= 2 && !info[1].IsUndefined()) {
    if (!info[1].IsBoolean()) {
      Napi::TypeError::New(env, "recursive must be a boolean").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    recursive = info[1].As<Napi::Boolean>().Value();
  }
  std::vector<int32_t> children;
  teracron::ProcError err;
  if (!teracron::ListChildren(pid, recursive, &children, &err)) {
    ThrowProcError(env, err);
    return env.Undefined();
  }
  Napi::Array result = Napi::Array::New(env, children.size());
  for (size_t i = 0; i < children.size(); ++i) {
    result.Set(static_cast<uint32_t>(i), Napi::Number::New(env, children[i]));
  }
  return result;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("readProcess", Napi::Function::New(env, ReadProcess, "readProcess"));
  exports.Set("listChildren", Napi::Function::New(env, ListChildren, "listChildren"));
  exports.Set("sealGcm", Napi::Function::New(env, teracron::SealGcm, "sealGcm"));
  return exports;
}

}  // namespace

// An N-API module: one binary for every Node version, and loadable in worker threads.
NODE_API_MODULE(NODE_GYP_MODULE_NAME, Init)
