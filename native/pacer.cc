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

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "common.h"
#include "loop_timer.h"

namespace lvsd {
namespace {

// Targets of one advert: the multicast group, or each unicast peer. More is a config error upstream.
constexpr uint32_t kMaxTargets = 64;
// What the callback reports (its first argument).
constexpr int32_t kEventLate = 1;
constexpr int32_t kEventSendError = 2;

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
  explicit Pacer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Pacer>(info) {
    Napi::Env env = info.Env();
    if (!Int(env, info[0], "socket fd", &socket_)) return;
    if (!info[1].IsFunction()) {
      ThrowType(env, "callback");
      return;
    }
    timer_.Open(env, static_cast<napi_ref>(*this), info[1], "lvsd.Pacer", kEventSendError, OnExpiry, this);
  }

  ~Pacer() override {
    timer_.Shutdown();
    FreeTargets();
  }

 private:
  void FreeTargets() {
    for (uint32_t i = 0; i < count_; i++) std::free(targets_[i].packet);
    count_ = 0;
  }

  static void OnExpiry(void* self) { static_cast<Pacer*>(self)->Tick(); }

  // One advert round: every target, then the next expiry an interval after the send.
  void Tick() {
    double now = ClockNs(CLOCK_MONOTONIC);
    double late = now - timer_.at();
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
    if (!timer_.SetAt(now + interval_)) {
      int err = errno;
      timer_.Stop();
      timer_.Report(kEventSendError, err);
      return;
    }
    // the rare ways back into JavaScript
    if (late > lateNs_) {
      lateCount_++;
      timer_.Report(kEventLate, late / 1e6);
    }
    if (failed != 0) timer_.Report(kEventSendError, failed);
  }

  // start(packets: Buffer[], addrs: Buffer[], firstNs, intervalNs, lateNs): the datagrams are
  // copied (the caller may reuse its buffers); the first round at firstNs (CLOCK_MONOTONIC),
  // then one every intervalNs after each send; a round more than lateNs after its deadline is
  // reported. Replaces whatever ran before.
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!timer_.open()) return ThrowErrno(env, "pacer start", EBADF);
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
    if (!NonNegative(env, info[2], "firstNs", &first) || !NonNegative(env, info[3], "intervalNs", &interval) ||
        !NonNegative(env, info[4], "lateNs", &late))
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
    if (!timer_.SetAt(first)) {
      int err = errno;
      timer_.Stop();
      return ThrowErrno(env, "timerfd_settime", err);
    }
    // while sending, the JS object is held, so GC cannot collect a pacer with adverts due
    timer_.Start(env);
    return env.Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    timer_.Stop();
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
    return Napi::Number::New(info.Env(), timer_.armed() ? timer_.at() : -1);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    timer_.Close();
    FreeTargets();
    return info.Env().Undefined();
  }

  int32_t socket_ = -1;
  LoopTimer timer_;
  Target targets_[kMaxTargets];
  uint32_t count_ = 0;
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
