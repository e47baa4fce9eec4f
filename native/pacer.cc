// A master's routine adverts, sent without JavaScript. Entering JavaScript once a second costs a
// Node thread ~0.4 ms of CPU here, 5× a C program's whole wake-up (docs/benchmarks.md,
// "the floor of one wake-up a second"), so an idle master whose every advert ran JavaScript could
// not come near keepalived's idle cost. The pacer owns a timerfd on the thread's own event loop; at
// each expiry it sends the prepared datagrams on the VRRP socket and re-arms one interval after
// the send (RFC 5798 §6.4.3: Adver_Timer reset to Advertisement_Interval), all in C++. JavaScript
// starts it with the advert of the current priority, restarts it when anything it sends changes,
// and stops it when the instance leaves MASTER; it hears back only about a late advert or a failed
// send (rare), through one callback.
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "common.h"

namespace lvsd {
namespace {

constexpr double kNsPerSec = 1e9;
// Targets of one advert: the multicast group, or each unicast peer. More is a config error upstream.
constexpr uint32_t kMaxTargets = 64;
// What the callback reports (its first argument).
constexpr int32_t kEventLate = 1;
constexpr int32_t kEventSendError = 2;

double MonotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * kNsPerSec + static_cast<double>(ts.tv_nsec);
}

// One datagram and where it goes, copied out of JavaScript's buffers at start().
struct Target {
  uint8_t* packet = nullptr;
  size_t packetLen = 0;
  sockaddr_storage to{};
  socklen_t toLen = 0;
};

class Pacer : public Napi::ObjectWrap<Pacer> {
 public:
  static void Define(Napi::Env env, Napi::Object exports) {
    Napi::Function ctor =
        DefineClass(env, "Pacer",
                    {InstanceMethod<&Pacer::Start>("start"), InstanceMethod<&Pacer::Stop>("stop"),
                     InstanceMethod<&Pacer::Stats>("stats"), InstanceMethod<&Pacer::NextNs>("nextNs"),
                     InstanceMethod<&Pacer::Close>("close")});
    exports.Set("Pacer", ctor);
  }

  // new Pacer(socketFd, onEvent(kind, value)): kind 1 a late advert (value: ms late), 2 a failed
  // send (value: errno). The socket stays the caller's: the pacer never closes it.
  explicit Pacer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Pacer>(info), env_(info.Env()) {
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
    napi_async_init(env, info.This(), Napi::String::New(env, "lvsd.Pacer"), &async_);
    if (napi_add_env_cleanup_hook(env, OnEnvCleanup, this) == napi_ok) hooked_ = true;
  }

  ~Pacer() override {
    Shutdown();
    if (hooked_) napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
    if (async_ != nullptr) napi_async_destroy(env_, async_);
    if (callback_ != nullptr) napi_delete_reference(env_, callback_);
  }

 private:
  // Stops sending, closes the timerfd and the libuv handle (freed in its close callback, which may
  // run after this object is gone). Idempotent; never calls into JavaScript.
  void Shutdown() {
    Disarm();
    FreeTargets();
    ClosePoll(&handle_);
    if (timer_ >= 0) {
      close(timer_);
      timer_ = -1;
    }
  }

  void FreeTargets() {
    for (uint32_t i = 0; i < count_; i++) std::free(targets_[i].packet);
    count_ = 0;
  }

  // Not sending: the timer disarmed, the handle stopped and the JS object free to be collected.
  void Disarm() {
    running_ = false;
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

  bool Arm(double atNs) {
    itimerspec its{};
    // at least 1 ns: 0 would disarm; rounded up, so the expiry never comes before the deadline
    double ns = std::ceil(atNs < 1 ? 1 : atNs);
    its.it_value.tv_sec = static_cast<time_t>(ns / kNsPerSec);
    its.it_value.tv_nsec = static_cast<long>(ns - static_cast<double>(its.it_value.tv_sec) * kNsPerSec);
    if (timerfd_settime(timer_, TFD_TIMER_ABSTIME, &its, nullptr) < 0) return false;
    next_ = atNs;
    return true;
  }

  static void OnEnvCleanup(void* arg) {
    auto* self = static_cast<Pacer*>(arg);
    self->hooked_ = false;
    self->Shutdown();
  }

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<Pacer*>(handle->data);
    if (self == nullptr || !self->running_) return;
    if (status < 0) {
      // libuv keeps reporting a broken fd: stop rather than spin, and say so
      self->Disarm();
      self->Report(kEventSendError, -status);
      return;
    }
    uint64_t expirations = 0;
    // EAGAIN: a re-arm already discarded the expiry behind this event; the fd is still armed
    if (read(self->timer_, &expirations, sizeof expirations) != sizeof expirations || expirations == 0) return;
    self->Tick();
  }

  // One advert round: every target, then the next expiry an interval after the send.
  void Tick() {
    double now = MonotonicNs();
    double late = now - next_;
    int failed = 0;
    for (uint32_t i = 0; i < count_; i++) {
      Target& t = targets_[i];
      ssize_t n = sendto(socket_, t.packet, t.packetLen, 0, reinterpret_cast<sockaddr*>(&t.to), t.toLen);
      if (n < 0) {
        errors_++;
        failed = errno;
      } else {
        sent_++;
      }
    }
    if (late > maxLateNs_) maxLateNs_ = late;
    if (!Arm(now + interval_)) {
      int err = errno;
      Disarm();
      Report(kEventSendError, err);
      return;
    }
    if (late > lateNs_) {
      lateCount_++;
      Report(kEventLate, late / 1e6);
    }
    if (failed != 0) Report(kEventSendError, failed);
  }

  // The rare way back into JavaScript: a throwing callback becomes an uncaught exception; an
  // environment that cannot run JavaScript any more gets no more adverts from this pacer.
  void Report(int32_t kind, double value) {
    if (CallBack(env_, async_, static_cast<napi_ref>(*this), callback_, kind, value) == CallOutcome::kCannotRun) Disarm();
  }

  // start(packets: Buffer[], addrs: Buffer[], firstNs, intervalNs, lateNs): the datagrams are
  // copied (the caller may reuse its buffers); the first round at firstNs (CLOCK_MONOTONIC),
  // then one every intervalNs after each send; a round more than lateNs after its deadline is
  // reported. Replaces whatever ran before.
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (handle_ == nullptr || timer_ < 0) return ThrowErrno(env, "pacer start", EBADF);
    if (!info[0].IsArray() || !info[1].IsArray()) {
      ThrowType(env, "packets and addrs");
      return env.Undefined();
    }
    Napi::Array packets = info[0].As<Napi::Array>();
    Napi::Array addrs = info[1].As<Napi::Array>();
    uint32_t n = packets.Length();
    if (n == 0 || n > kMaxTargets || addrs.Length() != n) {
      ThrowType(env, "packets and addrs (1 to 64 of each, as many of both)");
      return env.Undefined();
    }
    double first, interval, late;
    if (!Ns(env, info[2], "firstNs", &first) || !Ns(env, info[3], "intervalNs", &interval) ||
        !Ns(env, info[4], "lateNs", &late))
      return env.Undefined();
    if (interval < 1e6) {
      ThrowType(env, "intervalNs (1 ms at least)");
      return env.Undefined();
    }
    // validated whole before anything changes: a bad argument leaves a running pacer running
    Target fresh[kMaxTargets];
    for (uint32_t i = 0; i < n; i++) {
      uint8_t *p, *a;
      size_t pl, al;
      if (!Bytes(env, packets.Get(i), "packet", &p, &pl) || !Bytes(env, addrs.Get(i), "sockaddr", &a, &al) ||
          pl == 0 || al == 0 || al > sizeof(sockaddr_storage)) {
        for (uint32_t j = 0; j < i; j++) std::free(fresh[j].packet);
        if (!env.IsExceptionPending()) ThrowType(env, "packet and sockaddr");
        return env.Undefined();
      }
      fresh[i].packet = static_cast<uint8_t*>(std::malloc(pl));
      if (fresh[i].packet == nullptr) {
        for (uint32_t j = 0; j < i; j++) std::free(fresh[j].packet);
        return ThrowErrno(env, "malloc", ENOMEM);
      }
      std::memcpy(fresh[i].packet, p, pl);
      fresh[i].packetLen = pl;
      std::memcpy(&fresh[i].to, a, al);
      fresh[i].toLen = static_cast<socklen_t>(al);
    }
    FreeTargets();
    for (uint32_t i = 0; i < n; i++) targets_[i] = fresh[i];
    count_ = n;
    interval_ = interval;
    lateNs_ = late;
    if (!Arm(first)) {
      int err = errno;
      Disarm();
      return ThrowErrno(env, "timerfd_settime", err);
    }
    int rc = uv_poll_start(handle_, UV_READABLE, OnPoll);
    if (rc < 0) {
      Disarm();
      return ThrowErrno(env, "uv_poll_start", -rc);
    }
    running_ = true;
    // while sending, the JS object is held, so GC cannot collect a pacer with adverts due
    if (!retained_) {
      uint32_t refs;
      if (napi_reference_ref(env, static_cast<napi_ref>(*this), &refs) == napi_ok) retained_ = true;
    }
    return env.Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    Disarm();
    return info.Env().Undefined();
  }

  // stats() → [datagrams sent, send errors, late rounds, the worst lateness of a round so far in ms]
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env, 4);
    out.Set(0u, Napi::Number::New(env, static_cast<double>(sent_)));
    out.Set(1u, Napi::Number::New(env, static_cast<double>(errors_)));
    out.Set(2u, Napi::Number::New(env, static_cast<double>(lateCount_)));
    out.Set(3u, Napi::Number::New(env, maxLateNs_ > 0 ? maxLateNs_ / 1e6 : 0));
    return out;
  }

  // nextNs() → the next round's deadline (CLOCK_MONOTONIC ns), or -1 when stopped.
  Napi::Value NextNs(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), running_ ? next_ : -1);
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
  bool running_ = false;
  Target targets_[kMaxTargets];
  uint32_t count_ = 0;
  double next_ = 0;
  double interval_ = 0;
  double lateNs_ = 0;
  double maxLateNs_ = 0;
  uint64_t sent_ = 0;
  uint64_t errors_ = 0;
  uint64_t lateCount_ = 0;
};

}  // namespace

void InitPacer(Napi::Env env, Napi::Object exports) { Pacer::Define(env, exports); }

}  // namespace lvsd
