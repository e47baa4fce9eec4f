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

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <new>

#include "common.h"
#include "loop_timer.h"

namespace lvsd {
namespace {

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
  explicit SilenceTimer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SilenceTimer>(info) {
    Napi::Env env = info.Env();
    if (!Int(env, info[0], "socket fd", &socket_)) return;
    if (!info[1].IsFunction()) {
      ThrowType(env, "callback");
      return;
    }
    timer_.Open(env, static_cast<napi_ref>(*this), info[1], "lvsd.SilenceTimer", kEventError, OnExpiry, this);
  }

  ~SilenceTimer() override {
    timer_.Shutdown();
    delete held_;
    delete scratch_;
  }

 private:
  static void OnExpiry(void* self) { static_cast<SilenceTimer*>(self)->Expired(); }

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
      if (next > now && timer_.SetAt(next)) {
        heard_ = heard;
        extensions_++;
        return;
      }
    }
    // not watching any more; what was read and not yet taken stays for take()
    timer_.Stop();
    timer_.Report(kEventDue, static_cast<double>(count_));
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
    timer_.Stop();
    timer_.Report(kEventError, err);
  }

  // arm(dueNs, extendNs, heardNs, sinceNs), CLOCK_MONOTONIC ns: the deadline, how far a datagram
  // moves it past its arrival, when the datagram the deadline counts from arrived, and when the
  // socket's queue was last emptied (a datagram read later cannot have arrived before it).
  // Replaces the deadline of an armed timer.
  Napi::Value Arm(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!timer_.open()) return ThrowErrno(env, "silence timer arm", EBADF);
    double due, extend, heard, since;
    if (!NonNegative(env, info[0], "dueNs", &due) || !NonNegative(env, info[1], "extendNs", &extend) ||
        !NonNegative(env, info[2], "heardNs", &heard) || !NonNegative(env, info[3], "sinceNs", &since))
      return env.Undefined();
    if (extend < 1e6) {
      ThrowType(env, "extendNs (1 ms at least)");
      return env.Undefined();
    }
    if (held_ == nullptr) held_ = new (std::nothrow) Datagram;
    if (scratch_ == nullptr) scratch_ = new (std::nothrow) Datagram;
    if (held_ == nullptr || scratch_ == nullptr) return ThrowErrno(env, "new", ENOMEM);
    if (!timer_.SetAt(due)) {
      int err = errno;
      timer_.Stop();
      return ThrowErrno(env, "timerfd_settime", err);
    }
    extend_ = extend;
    heard_ = heard;
    since_ = since;
    // while armed the JS object is held, so GC cannot collect a timer with a deadline pending
    timer_.Start(env);
    return env.Undefined();
  }

  Napi::Value Disarm(const Napi::CallbackInfo& info) {
    timer_.Stop();
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
  Napi::Value DueNs(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), timer_.armed() ? timer_.at() : -1);
  }

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
    timer_.Close();
    return info.Env().Undefined();
  }

  int32_t socket_ = -1;
  LoopTimer timer_;
  // two datagram buffers, allocated at the first arm (about 17 KiB): the newest read and the next
  Datagram* held_ = nullptr;
  Datagram* scratch_ = nullptr;
  // datagrams read since the last take
  uint64_t count_ = 0;
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
