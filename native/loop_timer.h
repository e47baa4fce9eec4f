// A deadline on the calling thread's own event loop that JavaScript need not wake for (pacer.cc,
// silence.cc): a timerfd polled by libuv whose expiry runs its owner's C++, JavaScript reached only
// through Report(). While armed it holds the wrapper's JS object, so GC cannot collect an object
// with a deadline pending; it shuts itself down when its environment is torn down.
#pragma once

#include <time.h>

#include "common.h"

namespace lvsd {

constexpr double kNsPerSec = 1e9;

double ClockNs(clockid_t id);

// A finite, non-negative number argument (a time in ns); false with a TypeError thrown otherwise.
bool NonNegative(Napi::Env env, const Napi::Value& v, const char* what, double* out);

class LoopTimer {
 public:
  using OnExpiry = void (*)(void* owner);

  LoopTimer() = default;
  LoopTimer(const LoopTimer&) = delete;
  LoopTimer& operator=(const LoopTimer&) = delete;
  ~LoopTimer();

  // From the wrapper's constructor: `self` the wrapper's own reference, `callback` the function
  // Report() calls with (kind, value), `errorKind` the kind reported when the timer's fd fails,
  // `onExpiry(owner)` what each expiry runs. False, with a JS error thrown, when it cannot open.
  bool Open(napi_env env, napi_ref self, napi_value callback, const char* name, int32_t errorKind,
            OnExpiry onExpiry, void* owner);
  // The next expiry, CLOCK_MONOTONIC ns, rounded up so it never comes early. False (errno set).
  bool SetAt(double atNs);
  // Watches the timer and holds the JS object. False, with a JS error thrown and the timer stopped.
  bool Start(napi_env env);
  // Not watching: disarmed, unpolled, the JS object free to be collected. Idempotent.
  void Stop();
  // Stop(), then the fd and the handle closed. Idempotent; never calls into JavaScript.
  void Shutdown();
  // The wrapper's close(): Shutdown() and the environment's cleanup hook removed.
  void Close();
  // callback(kind, value); a throw becomes an uncaught exception, and an environment that cannot
  // run JavaScript any more stops the timer.
  void Report(int32_t kind, double value);

  bool open() const { return handle_ != nullptr && fd_ >= 0; }
  bool armed() const { return armed_; }
  // The expiry last set (CLOCK_MONOTONIC ns).
  double at() const { return at_; }

 private:
  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnEnvCleanup(void* arg);

  napi_env env_ = nullptr;
  napi_ref self_ = nullptr;
  napi_ref callback_ = nullptr;
  napi_async_context async_ = nullptr;
  int fd_ = -1;
  uv_poll_t* handle_ = nullptr;
  bool hooked_ = false;
  bool retained_ = false;
  bool armed_ = false;
  int32_t errorKind_ = 0;
  OnExpiry onExpiry_ = nullptr;
  void* owner_ = nullptr;
  double at_ = 0;
};

}  // namespace lvsd
