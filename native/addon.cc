// Module init and the generic syscalls: sockets, options, send/receive, BPF, names, scheduling.
// Only plain bytes and integers cross this boundary; all protocol knowledge lives in TypeScript.
#include <linux/filter.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "common.h"

namespace lvsd {

// native/timer.cc
void InitTimer(Napi::Env env, Napi::Object exports);

namespace {

using Napi::CallbackInfo;
using Napi::Value;

// Every argument check below throws a TypeError and returns undefined on failure.
#define ARG_INT(i, name)                                  \
  int32_t name;                                           \
  if (!Int(env, info[i], #name, &name)) return env.Undefined()
#define ARG_BYTES(i, name)                                             \
  uint8_t* name;                                                       \
  size_t name##_len;                                                   \
  if (!Bytes(env, info[i], #name, &name, &name##_len)) return env.Undefined()

pid_t GetTid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

// socket(domain, type, protocol) → fd. Non-blocking and close-on-exec always: every fd is
// driven by a poller, and helpers spawned by the daemon must not inherit raw sockets.
Value Socket(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  ARG_INT(0, domain);
  ARG_INT(1, type);
  ARG_INT(2, protocol);
  int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) return ThrowErrno(env, "socket", errno);
  return Napi::Number::New(env, fd);
}

// socketpair(domain, type) → [fd, fd], close-on-exec; blocking or not is left to whoever drives
// each end (libuv sets its own). The VRRP worker's inbox: a stream, not a uv_async wake-up.
Value SocketPair(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  ARG_INT(0, domain);
  ARG_INT(1, type);
  int fds[2];
  if (socketpair(domain, type | SOCK_CLOEXEC, 0, fds) < 0) return ThrowErrno(env, "socketpair", errno);
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(uint32_t{0}, Napi::Number::New(env, fds[0]));
  out.Set(uint32_t{1}, Napi::Number::New(env, fds[1]));
  return out;
}

Value Bind(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  ARG_INT(0, fd);
  ARG_BYTES(1, addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(addr), static_cast<socklen_t>(addr_len)) < 0) {
    ThrowErrno(env, "bind", errno);
  }
  return env.Undefined();
}

// getsockname(fd, buf) → length the kernel reports (may exceed buf.length: then truncated).
Value GetSockName(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  ARG_INT(0, fd);
  ARG_BYTES(1, buf);
  socklen_t len = static_cast<socklen_t>(buf_len);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(buf), &len) < 0) {
    return ThrowErrno(env, "getsockname", errno);
  }
  return Napi::Number::New(env, len);
}

// setsockopt(fd, level, name, value): a number is passed as a C int, bytes as they are.
Value SetSockOpt(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  ARG_INT(0, fd);
  ARG_INT(1, level);
  ARG_INT(2, name);
  int rc;
  napi_valuetype value_type;
  if (napi_typeof(env, info[3], &value_type) != napi_ok) return env.Undefined();
  if (value_type == napi_number) {
    int32_t v;
    if (!Int(env, info[3], "value", &v)) return env.Undefined();
    rc = setsockopt(fd, level, name, &v, sizeof v);
  } else {
    ARG_BYTES(3, value);
    rc = setsockopt(fd, level, name, value, static_cast<socklen_t>(value_len));
  }
  if (rc < 0) ThrowErrno(env, "setsockopt", errno);
  return env.Undefined();
}

Value GetSockOptInt(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  ARG_INT(0, fd);
  ARG_INT(1, level);
  ARG_INT(2, name);
  int v = 0;
  socklen_t len = sizeof v;
  if (getsockopt(fd, level, name, &v, &len) < 0) return ThrowErrno(env, "getsockopt", errno);
  return Napi::Number::New(env, v);
}

// getsockopt(fd, level, name, buf) → bytes written into buf.
Value GetSockOpt(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  ARG_INT(0, fd);
  ARG_INT(1, level);
  ARG_INT(2, name);
  ARG_BYTES(3, buf);
  socklen_t len = static_cast<socklen_t>(buf_len);
  if (getsockopt(fd, level, name, buf, &len) < 0) return ThrowErrno(env, "getsockopt", errno);
  return Napi::Number::New(env, len);
}

// sendto(fd, data, sockaddr | null, flags) → bytes sent, or -EAGAIN when the queue is full:
// a full queue is routine back-pressure, not an exception.
Value SendTo(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  ARG_INT(0, fd);
  ARG_BYTES(1, data);
  uint8_t* addr = nullptr;
  size_t addr_len = 0;
  napi_valuetype to_type;
  if (napi_typeof(env, info[2], &to_type) != napi_ok) return env.Undefined();
  if (to_type != napi_null && to_type != napi_undefined && !Bytes(env, info[2], "addr", &addr, &addr_len)) {
    return env.Undefined();
  }
  int32_t flags = 0;
  if (!Int(env, info[3], "flags", &flags)) return env.Undefined();
  ssize_t n;
  do {
    n = sendto(fd, data, data_len, flags | MSG_DONTWAIT, reinterpret_cast<sockaddr*>(addr),
               static_cast<socklen_t>(addr_len));
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Napi::Number::New(env, -EAGAIN);
    return ThrowErrno(env, "sendto", errno);
  }
  return Napi::Number::New(env, static_cast<double>(n));
}

// recvmsg(fd, data, name, control, flags, out) → bytes, or null when nothing is queued; out
// (Int32Array(3)) receives [namelen, controllen, msg_flags]. Results go into caller memory rather
// than a new array, so a worker being stopped mid-call cannot make this fail. The caller owns (and
// copies out of) all buffers.
Value RecvMsg(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  ARG_INT(0, fd);
  ARG_BYTES(1, data);
  ARG_BYTES(2, name);
  ARG_BYTES(3, control);
  ARG_INT(4, flags);
  int32_t* out;
  size_t out_len;
  if (!Ints(env, info[5], "out", &out, &out_len)) return env.Undefined();
  if (out_len < 3) {
    ThrowType(env, "out (an Int32Array of 3)");
    return env.Undefined();
  }
  iovec iov{data, data_len};
  msghdr msg{};
  msg.msg_name = name_len > 0 ? name : nullptr;
  msg.msg_namelen = static_cast<socklen_t>(name_len);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control_len > 0 ? control : nullptr;
  msg.msg_controllen = control_len;
  ssize_t n;
  do {
    n = recvmsg(fd, &msg, flags | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return env.Null();
    return ThrowErrno(env, "recvmsg", errno);
  }
  out[0] = static_cast<int32_t>(msg.msg_namelen);
  out[1] = static_cast<int32_t>(msg.msg_controllen);
  out[2] = msg.msg_flags;
  return Napi::Number::New(env, static_cast<double>(n));
}

Value Close(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  ARG_INT(0, fd);
  // Linux releases the fd even when close() reports EINTR, so it is never retried.
  if (close(fd) < 0 && errno != EINTR) ThrowErrno(env, "close", errno);
  return env.Undefined();
}

// attachFilter(fd, program): program is an array of 8-byte struct sock_filter. SO_ATTACH_FILTER
// takes a pointer (struct sock_fprog), which JavaScript cannot build, hence this call.
Value AttachFilter(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  ARG_INT(0, fd);
  ARG_BYTES(1, prog);
  if (prog_len == 0 || prog_len % sizeof(sock_filter) != 0 || prog_len / sizeof(sock_filter) > BPF_MAXINSNS) {
    ThrowType(env, "program (a non-empty array of 8-byte instructions)");
    return env.Undefined();
  }
  sock_fprog fprog{static_cast<unsigned short>(prog_len / sizeof(sock_filter)), reinterpret_cast<sock_filter*>(prog)};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) < 0) {
    ThrowErrno(env, "setsockopt", errno);
  }
  return env.Undefined();
}

Value IfNameToIndex(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  char name[IF_NAMESIZE + 1] = {0};
  size_t len = 0;
  if (napi_get_value_string_utf8(env, info[0], name, sizeof name, &len) != napi_ok || len >= IF_NAMESIZE) {
    ThrowType(env, "name (an interface name shorter than 16 bytes)");
    return env.Undefined();
  }
  unsigned idx = if_nametoindex(name);
  if (idx == 0) return ThrowErrno(env, "if_nametoindex", errno);
  return Napi::Number::New(env, idx);
}

Value IfIndexToName(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  ARG_INT(0, index);
  char buf[IF_NAMESIZE];
  if (if_indextoname(static_cast<unsigned>(index), buf) == nullptr) {
    return ThrowErrno(env, "if_indextoname", errno);
  }
  return Napi::String::New(env, buf);
}

// schedSetScheduler(policy, priority) → tid. pid 0 means the calling thread (Linux schedules
// threads), so a worker can raise itself without touching the main thread.
Value SchedSetScheduler(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  ARG_INT(0, policy);
  ARG_INT(1, priority);
  sched_param sp{};
  sp.sched_priority = priority;
  if (sched_setscheduler(0, policy, &sp) < 0) return ThrowErrno(env, "sched_setscheduler", errno);
  return Napi::Number::New(env, GetTid());
}

// schedGetScheduler() → policy, schedGetPriority() → priority, both of the calling thread.
Value SchedGetScheduler(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  int policy = sched_getscheduler(0);
  if (policy < 0) return ThrowErrno(env, "sched_getscheduler", errno);
  return Napi::Number::New(env, policy);
}

Value SchedGetPriority(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  sched_param sp{};
  if (sched_getparam(0, &sp) < 0) return ThrowErrno(env, "sched_getparam", errno);
  return Napi::Number::New(env, sp.sched_priority);
}

Value GetTidJs(const CallbackInfo& info) { return Napi::Number::New(info.Env(), GetTid()); }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  struct Fn {
    const char* name;
    Value (*fn)(const CallbackInfo&);
  };
  const Fn fns[] = {
      {"socket", Socket},
      {"socketPair", SocketPair},
      {"bind", Bind},
      {"getsockname", GetSockName},
      {"setsockopt", SetSockOpt},
      {"getsockoptInt", GetSockOptInt},
      {"getsockopt", GetSockOpt},
      {"sendto", SendTo},
      {"recvmsg", RecvMsg},
      {"close", Close},
      {"attachFilter", AttachFilter},
      {"ifNameToIndex", IfNameToIndex},
      {"ifIndexToName", IfIndexToName},
      {"schedSetScheduler", SchedSetScheduler},
      {"schedGetScheduler", SchedGetScheduler},
      {"schedGetPriority", SchedGetPriority},
      {"gettid", GetTidJs},
  };
  for (const Fn& f : fns) exports.Set(f.name, Napi::Function::New(env, f.fn, f.name));
  exports.Set("EAGAIN", Napi::Number::New(env, EAGAIN));
  InitPoller(env, exports);
  InitTcpProbe(env, exports);
  InitHttpProbe(env, exports);
  InitTimer(env, exports);
  InitPacer(env, exports);
  InitSilenceTimer(env, exports);
  InitSendMany(env, exports);
  return exports;
}

}  // namespace
}  // namespace lvsd

// Node-API modules are context-aware: each environment (main thread, every worker) gets its own
// exports and instance data from this one init.
static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return lvsd::Init(env, exports); }
NODE_API_MODULE(lvsd_native, InitModule)
