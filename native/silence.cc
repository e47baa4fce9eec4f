// A deadline that datagrams push back, checked without JavaScript: a VRRP backup's Master_Down
// timer over the queue of the master's exact repeats (src/vrrp/worker/advert-filters.ts). At each
// expiry the timer reads what the socket holds; a datagram heard at t moves the deadline to
// t + extend, and only a deadline that passes in silence calls JavaScript. A backup hearing its
// master every second used to enter JavaScript at each expiry (~20 a minute, ~1.5 ms of CPU each);
// a wake-up that stays in C++ costs what the process's size makes any wake-up cost
// (docs/benchmarks.md, "what a wake-up costs here"). The newest datagram read is kept whole and
// handed over with the count of those read before it (take()), so JavaScript still sees the
// advert that moved its deadline, and its counters stay exact when read.
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <new>

#include "common.h"

namespace lvsd {
namespace {

constexpr double kNsPerSec = 1e9;
// A VRRP advert with 255 IPv6 addresses is 4,088 bytes; an exact repeat is never longer than the
// advert it repeats. A longer datagram is kept truncated (MSG_TRUNC) and never moves the deadline.
constexpr size_t kDataSize = 8192;
constexpr size_t kNameSize = sizeof(sockaddr_storage);
constexpr size_t kControlSize = 256;
// At most this many datagrams read per expiry: a flood cannot hold the thread here.
constexpr int kMaxReads = 1024;
// A receive stamp older than the time since the queue was last emptied, plus this, is not a
// queueing delay but a step of the wall clock: the datagram counts as heard when read (rx-age.ts).
constexpr double kStampSlackNs = 5e6;
// What the callback reports (its first argument).
constexpr int32_t kEventDue = 1;
constexpr int32_t kEventError = 2;

double ClockNs(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<double>(ts.tv_sec) * kNsPerSec + static_cast<double>(ts.tv_nsec);
}

// One datagram as recvmsg stored it.
struct Datagram {
  uint8_t data[kDataSize];
  uint8_t name[kNameSize];
  uint8_t control[kControlSize];
  size_t dataLen = 0;
  socklen_t nameLen = 0;
  size_t controlLen = 0;
  int flags = 0;
};

// SCM_TIMESTAMPNS (CLOCK_REALTIME), or -1 when the datagram carries none.
double StampNs(const Datagram& d) {
  msghdr msg{};
  msg.msg_control = const_cast<uint8_t*>(d.control);
  msg.msg_controllen = d.controlLen;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS && c->cmsg_len >= CMSG_LEN(sizeof(timespec))) {
      timespec ts;
      std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
      return static_cast<double>(ts.tv_sec) * kNsPerSec + static_cast<double>(ts.tv_nsec);
    }
  }
  return -1;
}

class SilenceTimer : public Napi::ObjectWrap<SilenceTimer> {
 public:
  static void Define(Napi::Env env, Napi::Object exports) {
    Napi::Function ctor = DefineClass(
        env, "SilenceTimer",
        {InstanceMethod<&SilenceTimer::Arm>("arm"), InstanceMethod<&SilenceTimer::Disarm>("disarm"),
         InstanceMethod<&SilenceTimer::Take>("take"), InstanceMethod<&SilenceTimer::DueNs>("dueNs"),
         InstanceMethod<&SilenceTimer::Stats>("stats"), InstanceMethod<&SilenceTimer::Close>("close")});
    exports.Set("SilenceTimer", ctor);
  }

  // new SilenceTimer(socketFd, onEvent(kind, value)): kind 1 the deadline passed in silence
  // (value: datagrams held for take()), 2 the timer or a read failed (value: errno; disarmed).
  // The socket stays the caller's: the timer never closes it.
  explicit SilenceTimer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SilenceTimer>(info), env_(info.Env()) {
    Napi::Env env = info.Env();
    if (!Int(env, info[0], "socket fd", &socket_)) return;
    if (!info[1].IsFunction()) {
      ThrowType(env, "callback");
      return;
    }
    timer_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (timer_ < 0) {
      ThrowErrno(env, "timerfd_create", errno);
      return;
    }
    handle_ = OpenPoll(env, timer_, this);
    if (handle_ == nullptr) {
      close(timer_);
      timer_ = -1;
      return;
    }
    napi_create_reference(env, info[1], 1, &callback_);
    napi_async_init(env, info.This(), Napi::String::New(env, "lvsd.SilenceTimer"), &async_);
    if (napi_add_env_cleanup_hook(env, OnEnvCleanup, this) == napi_ok) hooked_ = true;
  }

  ~SilenceTimer() override {
    Shutdown();
    delete held_;
    delete scratch_;
    if (hooked_) napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
    if (async_ != nullptr) napi_async_destroy(env_, async_);
    if (callback_ != nullptr) napi_delete_reference(env_, callback_);
  }

 private:
  // Idempotent; never calls into JavaScript. The libuv handle is freed in its close callback.
  void Shutdown() {
    Stop();
    ClosePoll(&handle_);
    if (timer_ >= 0) {
      close(timer_);
      timer_ = -1;
    }
  }

  // Not watching: the timer disarmed, the handle stopped, the JS object free to be collected.
  // What was read and not yet taken stays for take().
  void Stop() {
    armed_ = false;
    if (timer_ >= 0) {
      itimerspec off{};
      timerfd_settime(timer_, TFD_TIMER_ABSTIME, &off, nullptr);
    }
    if (handle_ != nullptr) uv_poll_stop(handle_);
    if (retained_) {
      uint32_t n;
      napi_reference_unref(env_, static_cast<napi_ref>(*this), &n);
      retained_ = false;
    }
  }

  bool SetTimer(double atNs) {
    itimerspec its{};
    // rounded up and at least 1 ns (0 disarms): the expiry never comes before the deadline
    double ns = std::ceil(atNs < 1 ? 1 : atNs);
    double whole = std::floor(ns / kNsPerSec);
    its.it_value.tv_sec = static_cast<time_t>(whole);
    its.it_value.tv_nsec = static_cast<long>(ns - whole * kNsPerSec);
    if (its.it_value.tv_nsec >= 1000000000L) its.it_value.tv_nsec = 999999999L;
    if (timerfd_settime(timer_, TFD_TIMER_ABSTIME, &its, nullptr) < 0) return false;
    due_ = atNs;
    return true;
  }

  static void OnEnvCleanup(void* arg) {
    auto* self = static_cast<SilenceTimer*>(arg);
    self->hooked_ = false;
    self->Shutdown();
  }

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<SilenceTimer*>(handle->data);
    if (self == nullptr || !self->armed_) return;
    if (status < 0) {
      self->Fail(-status);
      return;
    }
    uint64_t expirations = 0;
    // EAGAIN: a re-arm already discarded the expiry behind this event; the fd is still armed
    if (read(self->timer_, &expirations, sizeof expirations) != sizeof expirations || expirations == 0) return;
    self->Expired();
  }

  // The deadline came: what arrived since the last read moves it, or JavaScript hears of it.
  void Expired() {
    wakeups_++;
    double heard = -1;
    bool truncated = false;
    int err = Drain(&heard, &truncated);
    if (err != 0) {
      Fail(err);
      return;
    }
    double now = ClockNs(CLOCK_MONOTONIC);
    if (heard >= 0 && !truncated) {
      if (heard < heard_) heard = heard_;  // never before the advert the deadline already counts from
      double next = heard + extend_;
      if (next > now && SetTimer(next)) {
        heard_ = heard;
        extensions_++;
        return;
      }
    }
    Stop();
    Report(kEventDue, static_cast<double>(count_));
  }

  // Reads everything queued (at most kMaxReads): the newest datagram kept in held_, each one
  // counted; `heard` the newest one's arrival on CLOCK_MONOTONIC (its kernel stamp where it can
  // be trusted, else now). 0, or the errno of a failed read.
  int Drain(double* heard, bool* truncated) {
    for (int i = 0; i < kMaxReads; i++) {
      Datagram* d = scratch_;
      iovec iov{d->data, kDataSize};
      msghdr msg{};
      msg.msg_name = d->name;
      msg.msg_namelen = kNameSize;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = d->control;
      msg.msg_controllen = kControlSize;
      ssize_t n;
      do {
        n = recvmsg(socket_, &msg, MSG_DONTWAIT);
      } while (n < 0 && errno == EINTR);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        return errno;
      }
      d->dataLen = static_cast<size_t>(n) < kDataSize ? static_cast<size_t>(n) : kDataSize;
      d->nameLen = msg.msg_namelen;
      d->controlLen = msg.msg_controllen;
      d->flags = msg.msg_flags;
      scratch_ = held_;
      held_ = d;
      count_++;
      read_++;
      double monoNow = ClockNs(CLOCK_MONOTONIC);
      double stamp = StampNs(*d);
      double age = ClockNs(CLOCK_REALTIME) - stamp;
      bool trusted = stamp >= 0 && age >= 0 && age <= monoNow - since_ + kStampSlackNs;
      *heard = trusted ? monoNow - age : monoNow;
      *truncated = (d->flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
    }
    since_ = ClockNs(CLOCK_MONOTONIC);
    return 0;
  }

  void Fail(int err) {
    Stop();
    Report(kEventError, err);
  }

  // The way back into JavaScript: a throwing callback becomes an uncaught exception; an
  // environment that cannot run JavaScript any more is not watched any more.
  void Report(int32_t kind, double value) {
    if (CallBack(env_, async_, static_cast<napi_ref>(*this), callback_, kind, value) == CallOutcome::kCannotRun) Stop();
  }

  // arm(dueNs, extendNs, heardNs, sinceNs), CLOCK_MONOTONIC ns: the deadline, how far a datagram
  // moves it past its arrival, when the datagram the deadline counts from arrived, and when the
  // socket's queue was last emptied (a datagram read later cannot have arrived before it).
  // Replaces the deadline of an armed timer.
  Napi::Value Arm(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (handle_ == nullptr || timer_ < 0) return ThrowErrno(env, "silence timer arm", EBADF);
    double due, extend, heard, since;
    if (!Ns(env, info[0], "dueNs", &due) || !Ns(env, info[1], "extendNs", &extend) ||
        !Ns(env, info[2], "heardNs", &heard) || !Ns(env, info[3], "sinceNs", &since))
      return env.Undefined();
    if (extend < 1e6) {
      ThrowType(env, "extendNs (1 ms at least)");
      return env.Undefined();
    }
    if (held_ == nullptr) held_ = new (std::nothrow) Datagram;
    if (scratch_ == nullptr) scratch_ = new (std::nothrow) Datagram;
    if (held_ == nullptr || scratch_ == nullptr) return ThrowErrno(env, "new", ENOMEM);
    if (!SetTimer(due)) {
      int err = errno;
      Stop();
      return ThrowErrno(env, "timerfd_settime", err);
    }
    int rc = uv_poll_start(handle_, UV_READABLE, OnPoll);
    if (rc < 0) {
      Stop();
      return ThrowErrno(env, "uv_poll_start", -rc);
    }
    extend_ = extend;
    heard_ = heard;
    since_ = since;
    armed_ = true;
    // while armed the JS object is held, so GC cannot collect a timer with a deadline pending
    if (!retained_) {
      uint32_t refs;
      if (napi_reference_ref(env, static_cast<napi_ref>(*this), &refs) == napi_ok) retained_ = true;
    }
    return env.Undefined();
  }

  Napi::Value Disarm(const Napi::CallbackInfo& info) {
    Stop();
    return info.Env().Undefined();
  }

  // take(data, name, control, out: Int32Array(4)) → how many datagrams were read since the last
  // take; the newest of them copied into the buffers (each cut to its length), out = [data
  // length, name length, control length, msg_flags]. 0: nothing read, the buffers untouched.
  Napi::Value Take(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint8_t *data, *name, *control;
    size_t dataLen, nameLen, controlLen, outLen;
    int32_t* out;
    if (!Bytes(env, info[0], "data", &data, &dataLen) || !Bytes(env, info[1], "name", &name, &nameLen) ||
        !Bytes(env, info[2], "control", &control, &controlLen) || !Ints(env, info[3], "out", &out, &outLen))
      return env.Undefined();
    if (outLen < 4) {
      ThrowType(env, "out (an Int32Array of 4)");
      return env.Undefined();
    }
    uint64_t n = count_;
    if (n > 0 && held_ != nullptr) {
      const Datagram& d = *held_;
      size_t dl = d.dataLen < dataLen ? d.dataLen : dataLen;
      size_t nl = d.nameLen < nameLen ? d.nameLen : nameLen;
      size_t cl = d.controlLen < controlLen ? d.controlLen : controlLen;
      std::memcpy(data, d.data, dl);
      std::memcpy(name, d.name, nl);
      std::memcpy(control, d.control, cl);
      out[0] = static_cast<int32_t>(dl);
      out[1] = static_cast<int32_t>(nl);
      out[2] = static_cast<int32_t>(cl);
      out[3] = d.flags | (dl < d.dataLen ? MSG_TRUNC : 0) | (cl < d.controlLen ? MSG_CTRUNC : 0);
    }
    count_ = 0;
    return Napi::Number::New(env, static_cast<double>(n));
  }

  // dueNs() → the deadline (CLOCK_MONOTONIC ns) as it stands, moved or not; -1 when not armed.
  Napi::Value DueNs(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), armed_ ? due_ : -1); }

  // stats() → [expiries, of them moved by a datagram, datagrams read]
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env, 3);
    out.Set(0u, Napi::Number::New(env, static_cast<double>(wakeups_)));
    out.Set(1u, Napi::Number::New(env, static_cast<double>(extensions_)));
    out.Set(2u, Napi::Number::New(env, static_cast<double>(read_)));
    return out;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    if (hooked_) {
      napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
      hooked_ = false;
    }
    return info.Env().Undefined();
  }

  static bool Ns(Napi::Env env, const Napi::Value& v, const char* what, double* out) {
    napi_valuetype t;
    if (napi_typeof(env, v, &t) != napi_ok || t != napi_number || napi_get_value_double(env, v, out) != napi_ok ||
        !std::isfinite(*out) || *out < 0)
      return ThrowType(env, what);
    return true;
  }

  napi_env env_;
  int32_t socket_ = -1;
  int timer_ = -1;
  uv_poll_t* handle_ = nullptr;
  napi_ref callback_ = nullptr;
  napi_async_context async_ = nullptr;
  bool hooked_ = false;
  bool retained_ = false;
  bool armed_ = false;
  // two datagram buffers, allocated at the first arm (about 17 KiB): the newest read and the next
  Datagram* held_ = nullptr;
  Datagram* scratch_ = nullptr;
  // datagrams read since the last take
  uint64_t count_ = 0;
  double due_ = 0;
  double extend_ = 0;
  double heard_ = 0;
  double since_ = 0;
  uint64_t wakeups_ = 0;
  uint64_t extensions_ = 0;
  uint64_t read_ = 0;
};

}  // namespace

void InitSilenceTimer(Napi::Env env, Napi::Object exports) { SilenceTimer::Define(env, exports); }

}  // namespace lvsd
