// Helpers shared by the addon's translation units: errno errors and argument access. All of them
// use raw Node-API calls whose failures are tolerated: a worker can be stopped (JavaScript can no
// longer run there) in the middle of any call, and node-addon-api's checked wrappers would then
// abort the process (docs/native.md).
#pragma once

#include <napi.h>
#include <sys/epoll.h>
#include <uv.h>

#include <cstddef>
#include <cstdint>

namespace lvsd {

// Name of an errno value ("EEXIST"), or nullptr if the table does not know it. A switch instead of
// strerrorname_np, which needs glibc 2.32 (RHEL 8 has 2.28).
const char* ErrnoName(int err);

// Throws a JS Error carrying code (errno name), errno (positive number) and syscall; returns undefined.
Napi::Value ThrowErrno(Napi::Env env, const char* syscall, int err);

// Throws a TypeError naming the argument; returns false so callers can `return` on it.
bool ThrowType(Napi::Env env, const char* what);

// Views a Uint8Array/Buffer argument without copying. False (with a TypeError thrown) otherwise.
bool Bytes(Napi::Env env, const Napi::Value& v, const char* what, uint8_t** data, size_t* len);

// Bytes(), or nullptr and 0 for null/undefined.
bool OptionalBytes(Napi::Env env, const Napi::Value& v, const char* what, uint8_t** data, size_t* len);

// Views an Int32Array argument (used for out-parameters, which need no JS calls to fill).
bool Ints(Napi::Env env, const Napi::Value& v, const char* what, int32_t** data, size_t* len);

// Reads an integer argument. False (with a TypeError thrown) if it is not a number.
bool Int(Napi::Env env, const Napi::Value& v, const char* what, int32_t* out);

// The start of a batched prober's collect call (tcp_probe.cc, http_probe.cc): reads its (epfd, out)
// arguments and takes the ready events, at most kMaxBatch and as many as `out` has room for at
// `perProbe` values each. Returns how many, or -1 with a JS exception pending.
int ReadyProbes(const Napi::CallbackInfo& info, int perProbe, int maxBatch, epoll_event* events,
                int32_t* epfd, int32_t** out);

// A uv_poll_t on fd in the calling thread's loop, `data` its owner; nullptr (a JS error thrown) on failure.
uv_poll_t* OpenPoll(napi_env env, int fd, void* data);

// Closes the handle (freed once libuv is done with it, maybe after the owner) and clears the pointer.
void ClosePoll(uv_poll_t** handle);

enum class CallOutcome {
  kOk,
  // the callback threw: handed to process 'uncaughtException'
  kThrew,
  // JavaScript can no longer run in this environment (it is stopping): the owner should let go
  kCannotRun,
};

// From a libuv callback: callback(a, b) with the wrapper referenced by `self` as `this` (the
// global if it is gone), inside a handle scope of its own, never throwing (docs/native.md §4).
CallOutcome CallBack(napi_env env, napi_async_context async, napi_ref self, napi_ref callback, double a, double b);

void InitPoller(Napi::Env env, Napi::Object exports);

void InitTcpProbe(Napi::Env env, Napi::Object exports);

void InitHttpProbe(Napi::Env env, Napi::Object exports);

void InitPacer(Napi::Env env, Napi::Object exports);

void InitSilenceTimer(Napi::Env env, Napi::Object exports);

void InitSendMany(Napi::Env env, Napi::Object exports);

}  // namespace lvsd
