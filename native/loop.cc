// What the addon's libuv-driven objects (poller.cc, pacer.cc) share: a poll handle on the calling
// thread's own loop, its closing, and the call back into JavaScript from a libuv callback.
#include <uv.h>

#include <cerrno>

#include "common.h"

namespace lvsd {

uv_poll_t* OpenPoll(napi_env env, int fd, void* data) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    ThrowErrno(env, "napi_get_uv_event_loop", EINVAL);
    return nullptr;
  }
  auto* handle = new uv_poll_t;
  int rc = uv_poll_init(loop, handle, fd);
  if (rc < 0) {
    delete handle;
    ThrowErrno(env, "uv_poll_init", -rc);
    return nullptr;
  }
  handle->data = data;
  return handle;
}

void ClosePoll(uv_poll_t** handle) {
  if (*handle == nullptr) return;
  (*handle)->data = nullptr;
  // freed in the close callback, which may run after the owner is gone
  uv_close(reinterpret_cast<uv_handle_t*>(*handle), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
  *handle = nullptr;
}

CallOutcome CallBack(napi_env env, napi_async_context async, napi_ref self, napi_ref callback, double a, double b) {
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return CallOutcome::kCannotRun;
  napi_value fn = nullptr;
  napi_value recv = nullptr;
  napi_value argv[2];
  napi_value result;
  bool ready = napi_get_reference_value(env, callback, &fn) == napi_ok && fn != nullptr &&
               napi_get_reference_value(env, self, &recv) == napi_ok && napi_create_double(env, a, &argv[0]) == napi_ok &&
               napi_create_double(env, b, &argv[1]) == napi_ok;
  // (§4.4) napi_make_callback needs an object receiver: the wrapper itself, else the global.
  if (ready && recv == nullptr) ready = napi_get_global(env, &recv) == napi_ok;
  // (§4.1) raw napi_make_callback, status checked, nothing thrown from here on failure.
  napi_status st = ready ? napi_make_callback(env, async, recv, fn, 2, argv, &result) : napi_generic_failure;
  CallOutcome out = CallOutcome::kOk;
  if (st != napi_ok) {
    bool pending = false;
    napi_value exc;
    if (st == napi_pending_exception && napi_is_exception_pending(env, &pending) == napi_ok && pending &&
        napi_get_and_clear_last_exception(env, &exc) == napi_ok) {
      // A handler threw: report it like any other uncaught exception (process 'uncaughtException').
      napi_fatal_exception(env, exc);
      out = CallOutcome::kThrew;
    } else {
      out = CallOutcome::kCannotRun;
    }
  }
  napi_close_handle_scope(env, scope);
  return out;
}

}  // namespace lvsd
