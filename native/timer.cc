// Timer deadlines in nanoseconds: a timerfd armed at an absolute CLOCK_MONOTONIC time, and that
// clock read. libuv's own timers wait in epoll_wait with a whole-millisecond timeout, so a thread
// that must act at a deadline (the VRRP worker's adverts) woke 0.1–0.9 ms after it; a timerfd
// watched by a Poller wakes the same loop within the kernel's hrtimer precision (docs/native.md).
// Absolute, not relative: a relative timer would start counting at the syscall, after whatever
// JavaScript ran between computing the delay and arming, and that lateness would accumulate.
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdint>

#include "common.h"

namespace lvsd {
namespace {

using Napi::CallbackInfo;
using Napi::Value;

constexpr double kNsPerSec = 1e9;

// Reads a finite, non-negative number argument (nanoseconds). False (with a TypeError thrown) otherwise.
bool Nanoseconds(Napi::Env env, const Napi::Value& v, const char* what, double* out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number || napi_get_value_double(env, v, out) != napi_ok ||
      !std::isfinite(*out) || *out < 0) {
    return ThrowType(env, what);
  }
  return true;
}

// monotonicNs() → CLOCK_MONOTONIC in ns, as a double: exact up to 2^53 ns (104 days of uptime),
// then within 2^k ns, far below a timer's precision. process.hrtime() and performance.now() read
// the same clock (libuv's uv_hrtime), performance.now() minus the environment's time origin.
Value MonotonicNs(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  timespec ts{};
  if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0) return ThrowErrno(env, "clock_gettime", errno);
  return Napi::Number::New(env, static_cast<double>(ts.tv_sec) * kNsPerSec + static_cast<double>(ts.tv_nsec));
}

// realtimeNs() → CLOCK_REALTIME in ns, as a double (within 256 ns today): the clock of the
// kernel's receive timestamps (SO_TIMESTAMPNS), read to learn how long ago a packet arrived.
Value RealtimeNs(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  timespec ts{};
  if (clock_gettime(CLOCK_REALTIME, &ts) < 0) return ThrowErrno(env, "clock_gettime", errno);
  return Napi::Number::New(env, static_cast<double>(ts.tv_sec) * kNsPerSec + static_cast<double>(ts.tv_nsec));
}

// timerfdCreate() → fd: CLOCK_MONOTONIC, non-blocking (read returns EAGAIN before expiry, so a
// spurious readiness event costs nothing) and close-on-exec, like every fd of the addon.
Value TimerfdCreate(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) return ThrowErrno(env, "timerfd_create", errno);
  return Napi::Number::New(env, fd);
}

// timerfdSetAbs(fd, deadlineNs): one-shot expiry at that CLOCK_MONOTONIC time (a time already
// past expires at once); 0 disarms. Arming also discards an expiry not yet read.
Value TimerfdSetAbs(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  if (!Int(env, info[0], "fd", &fd)) return env.Undefined();
  double ns;
  if (!Nanoseconds(env, info[1], "deadlineNs (a finite number >= 0)", &ns)) return env.Undefined();
  itimerspec its{};
  double whole = std::floor(ns / kNsPerSec);
  its.it_value.tv_sec = static_cast<time_t>(whole);
  its.it_value.tv_nsec = static_cast<long>(ns - whole * kNsPerSec);
  // floating-point rounding must not yield an invalid tv_nsec (EINVAL)
  if (its.it_value.tv_nsec >= 1000000000L) its.it_value.tv_nsec = 999999999L;
  if (its.it_value.tv_nsec < 0) its.it_value.tv_nsec = 0;
  // {0, 0} disarms, and ns in (0, 1) would round to it: the earliest armed time is 1 ns
  if (ns > 0 && its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) its.it_value.tv_nsec = 1;
  if (timerfd_settime(fd, ns > 0 ? TFD_TIMER_ABSTIME : 0, &its, nullptr) < 0) {
    return ThrowErrno(env, "timerfd_settime", errno);
  }
  return env.Undefined();
}

// timerfdRead(fd) → expirations since the last read, or 0 when there were none (EAGAIN).
Value TimerfdRead(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  if (!Int(env, info[0], "fd", &fd)) return env.Undefined();
  uint64_t expirations = 0;
  ssize_t n;
  do {
    n = read(fd, &expirations, sizeof expirations);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Napi::Number::New(env, 0);
    return ThrowErrno(env, "read", errno);
  }
  return Napi::Number::New(env, static_cast<double>(expirations));
}

}  // namespace

void InitTimer(Napi::Env env, Napi::Object exports) {
  exports.Set("monotonicNs", Napi::Function::New(env, MonotonicNs, "monotonicNs"));
  exports.Set("realtimeNs", Napi::Function::New(env, RealtimeNs, "realtimeNs"));
  exports.Set("timerfdCreate", Napi::Function::New(env, TimerfdCreate, "timerfdCreate"));
  exports.Set("timerfdSetAbs", Napi::Function::New(env, TimerfdSetAbs, "timerfdSetAbs"));
  exports.Set("timerfdRead", Napi::Function::New(env, TimerfdRead, "timerfdRead"));
}

}  // namespace lvsd
