// LoopTimer (loop_timer.h): the timerfd, its poll handle, the JS object held while armed, the
// environment's cleanup hook and the way back into JavaScript, once for every native timer.
#include "loop_timer.h"

#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdint>

namespace lvsd {

double ClockNs(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<double>(ts.tv_sec) * kNsPerSec + static_cast<double>(ts.tv_nsec);
}

bool NonNegative(Napi::Env env, const Napi::Value& v, const char* what, double* out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number || napi_get_value_double(env, v, out) != napi_ok ||
      !std::isfinite(*out) || *out < 0)
    return ThrowType(env, what);
  return true;
}

bool LoopTimer::Open(napi_env env, napi_ref self, napi_value callback, const char* name, int32_t errorKind,
                     OnExpiry onExpiry, void* owner) {
  env_ = env;
  self_ = self;
  errorKind_ = errorKind;
  onExpiry_ = onExpiry;
  owner_ = owner;
  fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd_ < 0) {
    ThrowErrno(env, "timerfd_create", errno);
    return false;
  }
  handle_ = OpenPoll(env, fd_, this);
  if (handle_ == nullptr) {
    close(fd_);
    fd_ = -1;
    return false;
  }
  napi_value resource;
  napi_create_reference(env, callback, 1, &callback_);
  if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource) == napi_ok) {
    napi_value object = nullptr;
    napi_get_reference_value(env, self, &object);
    napi_async_init(env, object, resource, &async_);
  }
  if (napi_add_env_cleanup_hook(env, OnEnvCleanup, this) == napi_ok) hooked_ = true;
  return true;
}

LoopTimer::~LoopTimer() {
  Shutdown();
  if (hooked_) napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
  if (async_ != nullptr) napi_async_destroy(env_, async_);
  if (callback_ != nullptr) napi_delete_reference(env_, callback_);
}

bool LoopTimer::SetAt(double atNs) {
  itimerspec its{};
  // at least 1 ns: 0 would disarm
  double ns = std::ceil(atNs < 1 ? 1 : atNs);
  double whole = std::floor(ns / kNsPerSec);
  its.it_value.tv_sec = static_cast<time_t>(whole);
  its.it_value.tv_nsec = static_cast<long>(ns - whole * kNsPerSec);
  if (its.it_value.tv_nsec >= 1000000000L) its.it_value.tv_nsec = 999999999L;
  if (timerfd_settime(fd_, TFD_TIMER_ABSTIME, &its, nullptr) < 0) return false;
  at_ = atNs;
  return true;
}

bool LoopTimer::Start(napi_env env) {
  int rc = uv_poll_start(handle_, UV_READABLE, OnPoll);
  if (rc < 0) {
    Stop();
    ThrowErrno(env, "uv_poll_start", -rc);
    return false;
  }
  armed_ = true;
  if (!retained_) {
    uint32_t refs;
    if (napi_reference_ref(env, self_, &refs) == napi_ok) retained_ = true;
  }
  return true;
}

void LoopTimer::Stop() {
  armed_ = false;
  if (fd_ >= 0) {
    itimerspec off{};
    timerfd_settime(fd_, TFD_TIMER_ABSTIME, &off, nullptr);
  }
  if (handle_ != nullptr) uv_poll_stop(handle_);
  if (retained_) {
    uint32_t n;
    napi_reference_unref(env_, self_, &n);
    retained_ = false;
  }
}

void LoopTimer::Shutdown() {
  Stop();
  ClosePoll(&handle_);
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
}

void LoopTimer::Close() {
  Shutdown();
  if (hooked_) {
    napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
    hooked_ = false;
  }
}

void LoopTimer::Report(int32_t kind, double value) {
  if (CallBack(env_, async_, self_, callback_, kind, value) == CallOutcome::kCannotRun) Stop();
}

void LoopTimer::OnEnvCleanup(void* arg) {
  auto* self = static_cast<LoopTimer*>(arg);
  self->hooked_ = false;
  self->Shutdown();
}

void LoopTimer::OnPoll(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<LoopTimer*>(handle->data);
  if (self == nullptr || !self->armed_) return;
  if (status < 0) {
    // libuv keeps reporting a broken fd: stop rather than spin, and say so
    self->Stop();
    self->Report(self->errorKind_, -status);
    return;
  }
  uint64_t expirations = 0;
  // EAGAIN: a re-arm already discarded the expiry behind this event; the fd is still armed
  if (read(self->fd_, &expirations, sizeof expirations) != sizeof expirations || expirations == 0) return;
  self->onExpiry_(self->owner_);
}

}  // namespace lvsd
