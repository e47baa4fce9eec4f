// TCP connect probes in bulk: non-blocking connects registered on one epoll set, and their
// outcomes collected many at a time. One JavaScript call starts a probe, one call collects a batch;
// there is no per-probe libuv handle, stream or JS object (docs/native.md, "TCP probes").
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "common.h"

namespace lvsd {
namespace {

using Napi::CallbackInfo;
using Napi::Value;

// Most events taken by one collect call; the epoll fd stays readable while more are ready.
constexpr int kMaxBatch = 512;
constexpr int32_t kNoFinalAck = 1;

// epollCreate() → fd (close-on-exec). The JS side watches it with a Poller: an epoll fd is
// readable while any of its descriptors has an event.
Value EpollCreate(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return ThrowErrno(env, "epoll_create1", errno);
  return Napi::Number::New(env, fd);
}

// Optional byte argument: null/undefined → nullptr.
bool OptionalBytes(Napi::Env env, const Napi::Value& v, const char* what, uint8_t** data, size_t* len) {
  *data = nullptr;
  *len = 0;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return false;
  if (t == napi_null || t == napi_undefined) return true;
  return Bytes(env, v, what, data, len);
}

// tcpProbeStart(epfd, sockaddr, source | null, device | null, flags) → fd of the connecting socket,
// or a negative errno when the connect failed at once (no route, no such source address…; the socket
// is already closed then). `device` is a NUL-terminated interface name for SO_BINDTODEVICE.
// flags & kNoFinalAck: TCP_QUICKACK off before connect, so the kernel delays the handshake's final
// ACK (tcp_rcv_synsent_state_process: pingpong mode "saves one ACK"); the RST on close goes first.
// The SYN-ACK has proved the listener; the server never builds a full connection or wakes its
// application, and each probe costs three packets instead of four.
Value TcpProbeStart(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t epfd;
  if (!Int(env, info[0], "epfd", &epfd)) return env.Undefined();
  uint8_t *to, *source, *device;
  size_t to_len, source_len, device_len;
  if (!Bytes(env, info[1], "sockaddr", &to, &to_len)) return env.Undefined();
  if (!OptionalBytes(env, info[2], "source", &source, &source_len)) return env.Undefined();
  if (!OptionalBytes(env, info[3], "device", &device, &device_len)) return env.Undefined();
  int32_t flags = 0;
  if (info.Length() > 4 && !Int(env, info[4], "flags", &flags)) return env.Undefined();
  if (to_len < sizeof(sa_family_t)) {
    ThrowType(env, "sockaddr (a sockaddr_in or sockaddr_in6)");
    return env.Undefined();
  }
  int family = reinterpret_cast<sockaddr*>(to)->sa_family;
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Napi::Number::New(env, -errno);
  int err = 0;
  int off = 0;
  if ((flags & kNoFinalAck) != 0 && setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &off, sizeof off) < 0) {
    err = errno;
  } else if (device != nullptr && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device, static_cast<socklen_t>(device_len)) < 0) {
    err = errno;
  } else if (source != nullptr && bind(fd, reinterpret_cast<sockaddr*>(source), static_cast<socklen_t>(source_len)) < 0) {
    err = errno;
  } else if (connect(fd, reinterpret_cast<sockaddr*>(to), static_cast<socklen_t>(to_len)) < 0 && errno != EINPROGRESS) {
    err = errno;
  } else {
    epoll_event ev{};
    ev.events = EPOLLOUT;  // writable = handshake done; EPOLLERR/EPOLLHUP = failed (always reported)
    ev.data.fd = fd;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) err = errno;
  }
  if (err != 0) {
    close(fd);
    return Napi::Number::New(env, -err);
  }
  return Napi::Number::New(env, fd);
}

// tcpProbeCollect(epfd, out) → n: takes up to out.length / 2 finished probes, writes
// out[2i] = fd and out[2i + 1] = 0 (connected) or the errno of the failure, and closes each
// socket. A connected one is closed with SO_LINGER 0: an RST instead of a FIN, so no TIME_WAIT.
// Closing removes the fd from the epoll set, so a number the kernel reuses never sees a stale event.
Value TcpProbeCollect(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t epfd;
  if (!Int(env, info[0], "epfd", &epfd)) return env.Undefined();
  int32_t* out;
  size_t out_len;
  if (!Ints(env, info[1], "out", &out, &out_len)) return env.Undefined();
  int max = static_cast<int>(out_len / 2 < kMaxBatch ? out_len / 2 : kMaxBatch);
  if (max < 1) {
    ThrowType(env, "out (an Int32Array of at least 2)");
    return env.Undefined();
  }
  epoll_event events[kMaxBatch];
  int n;
  do {
    n = epoll_wait(epfd, events, max, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ThrowErrno(env, "epoll_wait", errno);
  for (int i = 0; i < n; i++) {
    int fd = events[i].data.fd;
    int err = 0;
    // writable without error or hang-up is a completed handshake: no getsockopt needed
    if ((events[i].events & (EPOLLERR | EPOLLHUP)) != 0) {
      socklen_t len = sizeof err;
      if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
      // HUP without a pending error: the peer reset right after the handshake; still not a pass
      if (err == 0) err = ECONNRESET;
    }
    if (err == 0) {
      linger l{1, 0};
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    close(fd);
    out[2 * i] = fd;
    out[2 * i + 1] = err;
  }
  return Napi::Number::New(env, n);
}

}  // namespace

void InitTcpProbe(Napi::Env env, Napi::Object exports) {
  exports.Set("epollCreate", Napi::Function::New(env, EpollCreate, "epollCreate"));
  exports.Set("tcpProbeStart", Napi::Function::New(env, TcpProbeStart, "tcpProbeStart"));
  exports.Set("tcpProbeCollect", Napi::Function::New(env, TcpProbeCollect, "tcpProbeCollect"));
  exports.Set("TCP_PROBE_NO_FINAL_ACK", Napi::Number::New(env, kNoFinalAck));
}

}  // namespace lvsd
