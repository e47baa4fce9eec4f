// A master's routine adverts, sent without JavaScript. Entering JavaScript once a second costs a
// Node thread ~0.4 ms of CPU here, 5× a C program's whole wake-up (docs/benchmarks.md,
// "the floor of one wake-up a second"), so an idle master whose every advert ran JavaScript could
// not come near keepalived's idle cost. The pacer owns a timerfd on the thread's own event loop; at
// each expiry it sends the prepared datagrams on the VRRP socket and re-arms one interval after
// the send (RFC 5798 §6.4.3: Adver_Timer reset to Advertisement_Interval), all in C++. JavaScript
// starts it with the advert of the current priority, restarts it when anything it sends changes,
// and stops it when the instance leaves MASTER; it hears back only about a late advert or a failed
// send (rare), through one callback.
//
// Given the path of lvsd-pacer, the rounds go to that helper process instead (pacer_remote.h):
// the same rounds, counters and reports, sent from a process of ~1 MiB. If the helper cannot be
// used, or is lost later, the rounds come back here without a gap (the helper's next deadline is
// in the shared page), and callback(3, wait status) says so.
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common.h"
#include "loop_timer.h"
#include "pacer_remote.h"

namespace lvsd {
namespace {

// Targets of one advert: the multicast group, or each unicast peer. More is a config error upstream.
constexpr uint32_t kMaxTargets = 64;
// What the callback reports (its first argument).
constexpr int32_t kEventLate = 1;
constexpr int32_t kEventSendError = 2;
constexpr int32_t kEventHelperLost = 3;

// One datagram and where it goes, copied out of JavaScript's buffers at start().
struct Target {
  uint8_t* packet = nullptr;
  size_t packetLen = 0;
  sockaddr_storage to{};
  socklen_t toLen = 0;
};

class Pacer : public Napi::ObjectWrap<Pacer>, public RemoteUser {
 public:
  static void Define(Napi::Env env, Napi::Object exports) {
    Napi::Function ctor =
        DefineClass(env, "Pacer",
                    {InstanceMethod<&Pacer::Start>("start"), InstanceMethod<&Pacer::Stop>("stop"),
                     InstanceMethod<&Pacer::Stats>("stats"), InstanceMethod<&Pacer::NextNs>("nextNs"),
                     InstanceMethod<&Pacer::Helper>("helper"), InstanceMethod<&Pacer::Close>("close")});
    exports.Set("Pacer", ctor);
  }

  // new Pacer(socketFd, onEvent(kind, value), helperPath?): kind 1 a late advert (value: ms late),
  // 2 a failed send (value: errno), 3 the helper lost (value: its wait status, -1 unknown). With
  // helperPath the rounds go to that helper, spawned on first use; if it cannot start, the
  // constructor throws (the caller may make an in-process pacer instead). The socket stays the
  // caller's: the pacer never closes it (the helper's copy is closed at each stop).
  explicit Pacer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Pacer>(info) {
    Napi::Env env = info.Env();
    env_ = env;
    if (!Int(env, info[0], "socket fd", &socket_)) return;
    if (!info[1].IsFunction()) {
      ThrowType(env, "callback");
      return;
    }
    if (!timer_.Open(env, static_cast<napi_ref>(*this), info[1], "lvsd.Pacer", kEventSendError, OnExpiry, this))
      return;
    if (info[2].IsString()) {
      std::string path = info[2].As<Napi::String>().Utf8Value();
      helper_ = PacerHelper::Join(env, path.c_str(), this, &slot_);
      if (helper_ == nullptr) ThrowErrno(env, "pacer helper", errno);
    }
  }

  ~Pacer() override {
    Detach();
    timer_.Shutdown();
    FreeTargets();
  }

  void OnRemoteEvent(uint32_t kind, double value) override {
    if (kind == LVSD_PACER_LATE) timer_.Report(kEventLate, value / 1e6);
    else if (kind == LVSD_PACER_SEND_ERROR) timer_.Report(kEventSendError, value);
  }

  void OnHelperLost(int status) override {
    double at = remoteRunning_ ? RemoteNext() : -1;
    Fold();
    helper_ = nullptr;
    bool wasRunning = remoteRunning_;
    Unretain();
    // the round the helper had next, here: no advert is skipped and none is doubled
    if (wasRunning && at >= 0 && timer_.open() && timer_.SetAt(at)) timer_.Start(env_);
    timer_.Report(kEventHelperLost, status);
  }

 private:
  bool Remote() const { return helper_ != nullptr && helper_->alive(); }

  // The helper's next deadline; the one just requested while it has not applied it yet.
  double RemoteNext() const { return helper_->Applied(slot_) ? helper_->Read(slot_).next_ns : remoteFirst_; }

  // The helper's counts into this pacer's own (before it lets go of the slot).
  void Fold() {
    if (helper_ == nullptr) return;
    lvsd_pacer_slot s = helper_->Read(slot_);
    sent_ += s.sent;
    errors_ += s.errors;
    lateCount_ += s.late_rounds;
    if (s.max_late_ns > maxLateNs_) maxLateNs_ = s.max_late_ns;
  }

  void Detach() {
    if (helper_ == nullptr) return;
    // stopped first, so the counts folded are final (Leave may free the helper and its page)
    StopRemote();
    Fold();
    PacerHelper* h = helper_;
    helper_ = nullptr;
    h->Leave(slot_);
  }

  // While the helper sends for it, the JS object is held (as LoopTimer holds it while armed).
  void Retain() {
    if (retained_) return;
    uint32_t refs;
    if (napi_reference_ref(env_, static_cast<napi_ref>(*this), &refs) == napi_ok) retained_ = true;
  }

  void Unretain() {
    remoteRunning_ = false;
    if (!retained_) return;
    uint32_t refs;
    napi_reference_unref(env_, static_cast<napi_ref>(*this), &refs);
    retained_ = false;
  }

  // Stops the helper's rounds for this slot; once this returns it sends nothing more for it.
  void StopRemote() {
    if (helper_ != nullptr && remoteRunning_) helper_->Stop(slot_);
    Unretain();
  }
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
    if (Remote()) {
      RemoteTarget to[kMaxTargets];
      for (uint32_t i = 0; i < n; i++)
        to[i] = {targets_[i].packet, targets_[i].packetLen, reinterpret_cast<const uint8_t*>(&targets_[i].to),
                 targets_[i].toLen};
      if (helper_->Start(slot_, socket_, to, n, first, interval, late)) {
        timer_.Stop();
        remoteFirst_ = first;
        remoteRunning_ = true;
        Retain();
        return env.Undefined();
      }
      // the helper was killed (and waited for): these rounds are sent here; the loop's next turn
      // tells the callback the helper is gone
      Unretain();
    }
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
    StopRemote();
    timer_.Stop();
    return info.Env().Undefined();
  }

  // helper() → the helper's pid while this pacer's rounds go there, else 0.
  Napi::Value Helper(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), Remote() ? helper_->pid() : 0);
  }

  // stats() → [datagrams sent, send errors, late rounds, the worst lateness of a round so far in ms]
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    lvsd_pacer_slot s{};
    if (helper_ != nullptr) s = helper_->Read(slot_);
    double maxLate = s.max_late_ns > maxLateNs_ ? s.max_late_ns : maxLateNs_;
    Napi::Array out = Napi::Array::New(env, 4);
    out.Set(0u, Napi::Number::New(env, static_cast<double>(sent_ + s.sent)));
    out.Set(1u, Napi::Number::New(env, static_cast<double>(errors_ + s.errors)));
    out.Set(2u, Napi::Number::New(env, static_cast<double>(lateCount_ + s.late_rounds)));
    out.Set(3u, Napi::Number::New(env, maxLate > 0 ? maxLate / 1e6 : 0));
    return out;
  }

  // nextNs() → the next round's deadline (CLOCK_MONOTONIC ns), or -1 when stopped.
  Napi::Value NextNs(const Napi::CallbackInfo& info) {
    if (remoteRunning_ && helper_ != nullptr) return Napi::Number::New(info.Env(), RemoteNext());
    return Napi::Number::New(info.Env(), timer_.armed() ? timer_.at() : -1);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Detach();
    timer_.Close();
    FreeTargets();
    return info.Env().Undefined();
  }

  napi_env env_ = nullptr;
  int32_t socket_ = -1;
  LoopTimer timer_;
  PacerHelper* helper_ = nullptr;
  uint32_t slot_ = 0;
  bool remoteRunning_ = false;
  bool retained_ = false;
  double remoteFirst_ = -1;
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
