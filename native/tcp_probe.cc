// TCP connect probes in bulk: non-blocking connects registered on one epoll set, and their
// outcomes collected many at a time. One JavaScript call starts a probe, one call collects a batch;
// there is no per-probe libuv handle, stream or JS object (docs/native.md, "TCP probes").
// A socket whose probe passed can be kept and connected again: connect(AF_UNSPEC) resets the
// connection (tcp_disconnect sends the RST) and leaves the socket unbound, still in the epoll set
// (EPOLLONESHOT, re-armed by the next start). A reused probe then costs connect + epoll_ctl +
// connect(AF_UNSPEC) instead of socket, setsockopt, connect, epoll_ctl, setsockopt and close, and no
// socket is allocated and freed per probe.
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
// Values per collected probe: fd, errno, kept (1 = disconnected and open for reuse, 0 = closed).
constexpr int kPerProbe = 3;

// epollCreate() → fd (close-on-exec). The JS side watches it with a Poller: an epoll fd is
// readable while any of its descriptors has an event.
Value EpollCreate(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return ThrowErrno(env, "epoll_create1", errno);
  return Napi::Number::New(env, fd);
}

// tcpProbeStart(epfd, sockaddr, source | null, device | null, flags, reuseFd = -1) → fd of the
// connecting socket, or a negative errno when the connect failed at once (no route, no such source
// address…; the socket is already closed then). `device` is a NUL-terminated interface name for
// SO_BINDTODEVICE. `reuseFd` is a socket kept by tcpProbeCollect for a target of the same family,
// source, device and flags: only connect and re-arm it.
// flags & kNoFinalAck: TCP_DEFER_ACCEPT on the connecting socket, so the kernel delays the
// handshake's final ACK (tcp_rcv_synsent_state_process "saves one ACK" while rskq_defer_accept is
// set) and the RST on close or disconnect goes first. Unlike TCP_QUICKACK off, it survives
// connect(AF_UNSPEC), so a reused socket needs no setsockopt. The SYN-ACK has proved the listener;
// the server never builds a full connection or wakes its application, and each probe costs three
// packets instead of four.
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
  int32_t reuse = -1;
  if (info.Length() > 5 && !Int(env, info[5], "reuseFd", &reuse)) return env.Undefined();
  if (to_len < sizeof(sa_family_t)) {
    ThrowType(env, "sockaddr (a sockaddr_in or sockaddr_in6)");
    return env.Undefined();
  }
  int err = 0;
  int fd = reuse;
  if (fd < 0) {
    int family = reinterpret_cast<sockaddr*>(to)->sa_family;
    fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Napi::Number::New(env, -errno);
    int defer = 1;
    if ((flags & kNoFinalAck) != 0 &&
        setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof defer) < 0) {
      err = errno;
    } else if (device != nullptr && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device, static_cast<socklen_t>(device_len)) < 0) {
      err = errno;
    } else if (source != nullptr && bind(fd, reinterpret_cast<sockaddr*>(source), static_cast<socklen_t>(source_len)) < 0) {
      err = errno;
    }
  }
  if (err == 0 && connect(fd, reinterpret_cast<sockaddr*>(to), static_cast<socklen_t>(to_len)) < 0 && errno != EINPROGRESS) {
    err = errno;
  }
  if (err == 0) {
    epoll_event ev{};
    // writable = handshake done; EPOLLERR/EPOLLHUP = failed (always reported). One event per
    // connect: a kept socket stays in the set, disarmed, until the next start re-arms it.
    ev.events = EPOLLOUT | EPOLLONESHOT;
    ev.data.fd = fd;
    if (epoll_ctl(epfd, reuse >= 0 ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) < 0) err = errno;
  }
  if (err != 0) {
    close(fd);
    return Napi::Number::New(env, -err);
  }
  return Napi::Number::New(env, fd);
}

// tcpProbeCollect(epfd, out, keep = false) → n: takes up to out.length / 3 finished probes and writes
// out[3i] = fd, out[3i + 1] = 0 (connected) or the errno of the failure, out[3i + 2] = kept.
// A connected socket is reset: with `keep`, by connect(AF_UNSPEC), which sends the RST and leaves the
// socket open for tcpProbeStart's reuseFd (kept = 1); otherwise it is closed with SO_LINGER 0, an RST
// instead of a FIN. Either way no TIME_WAIT. A failed socket is closed (kept = 0). Closing removes
// the fd from the epoll set, so a number the kernel reuses never sees a stale event.
Value TcpProbeCollect(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t epfd;
  int32_t* out;
  epoll_event events[kMaxBatch];
  int n = ReadyProbes(info, kPerProbe, kMaxBatch, events, &epfd, &out);
  if (n < 0) return env.Undefined();
  bool keep = info.Length() > 2 && info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
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
    int kept = 0;
    if (err == 0 && keep) {
      // the RST goes out here; the ECONNRESET this leaves in sk_err is cleared by the next connect
      sockaddr unspec{};
      unspec.sa_family = AF_UNSPEC;
      kept = connect(fd, &unspec, sizeof unspec) == 0 ? 1 : 0;
    }
    if (kept == 0) {
      if (err == 0) {
        linger l{1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      }
      close(fd);
    }
    out[kPerProbe * i] = fd;
    out[kPerProbe * i + 1] = err;
    out[kPerProbe * i + 2] = kept;
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
