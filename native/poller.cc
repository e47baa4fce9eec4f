// Poller: readiness events for one fd on the calling environment's own libuv loop, built so that
// a worker exiting (process.exit() inside it, or worker.terminate()) cannot abort the process.
// The rules come from node-systems-notes.md §4; each is marked (§4.n) where it is applied.
#include <uv.h>

#include <cstdlib>

#include "common.h"

namespace lvsd {
namespace {

class Poller;

// Every live poller of one environment (main thread or a worker), so a failed callback can close
// them all and let that environment's loop finish (§4.2). Reference-counted by the instance data
// and by each poller, because the order in which Node-API finalizes instance data and wrapped
// objects at teardown is unspecified. A plain counter (one environment = one thread) instead of
// std::shared_ptr, whose GCC 12 code pulls in __libc_single_threaded (GLIBC_2.32, not on RHEL 8).
// The pollers form an intrusive list: no std container, whose GCC 12 allocation code needs
// GLIBCXX_3.4.29 (__throw_bad_array_new_length) while RHEL 8's libstdc++ stops at 3.4.25.
struct Registry {
  Poller* head = nullptr;
  size_t count = 0;
  int refs = 0;
};

Registry* Acquire(Registry* r) {
  r->refs++;
  return r;
}

void Drop(Registry* r) {
  if (r != nullptr && --r->refs == 0) delete r;
}

Registry* EnvRegistry(napi_env env) {
  void* data = nullptr;
  if (napi_get_instance_data(env, &data) == napi_ok && data != nullptr) return static_cast<Registry*>(data);
  Registry* r = Acquire(new Registry);
  napi_set_instance_data(env, r, [](napi_env, void* d, void*) { Drop(static_cast<Registry*>(d)); }, nullptr);
  return r;
}

class Poller : public Napi::ObjectWrap<Poller> {
 public:
  static void Define(Napi::Env env, Napi::Object exports) {
    Napi::Function ctor = DefineClass(env, "Poller",
                                      {InstanceMethod<&Poller::Start>("start"), InstanceMethod<&Poller::Stop>("stop"),
                                       InstanceMethod<&Poller::Close>("close"), InstanceMethod<&Poller::RefJs>("ref"),
                                       InstanceMethod<&Poller::UnrefJs>("unref")});
    exports.Set("Poller", ctor);
    exports.Set("UV_READABLE", Napi::Number::New(env, UV_READABLE));
    exports.Set("UV_WRITABLE", Napi::Number::New(env, UV_WRITABLE));
    exports.Set("UV_DISCONNECT", Napi::Number::New(env, UV_DISCONNECT));
    exports.Set("UV_PRIORITIZED", Napi::Number::New(env, UV_PRIORITIZED));
  }

  // new Poller(fd, callback(status, events)); status < 0 is a negated errno from libuv.
  explicit Poller(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Poller>(info), env_(info.Env()) {
    Napi::Env env = info.Env();
    int32_t fd;
    if (!Int(env, info[0], "fd", &fd)) return;
    if (!info[1].IsFunction()) {
      ThrowType(env, "callback");
      return;
    }
    handle_ = OpenPoll(env, fd, this);
    if (handle_ == nullptr) return;
    napi_create_reference(env, info[1], 1, &callback_);
    napi_async_init(env, info.This(), Napi::String::New(env, "lvsd.Poller"), &async_);
    registry_ = Acquire(EnvRegistry(env));
    Link();
    // (§4.3) the environment may be torn down with this handle open; the hook closes it first.
    if (napi_add_env_cleanup_hook(env, OnEnvCleanup, this) == napi_ok) hooked_ = true;
  }

  ~Poller() override {
    Shutdown();
    if (hooked_) napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
    Unlink();
    Drop(registry_);
    if (async_ != nullptr) napi_async_destroy(env_, async_);
    if (callback_ != nullptr) napi_delete_reference(env_, callback_);
  }

 private:
  // Closes the libuv handle (freed in its close callback, which may run after this object is
  // gone) and drops the keep-alive reference. Idempotent; never calls into JavaScript.
  void Shutdown() {
    ClosePoll(&handle_);
    Release();
  }

  // (§4.5) while polling, the JS object is held so GC cannot collect a poller with events due.
  void Retain() {
    if (retained_) return;
    uint32_t n;
    if (napi_reference_ref(env_, static_cast<napi_ref>(*this), &n) == napi_ok) retained_ = true;
  }

  void Release() {
    if (!retained_) return;
    uint32_t n;
    napi_reference_unref(env_, static_cast<napi_ref>(*this), &n);
    retained_ = false;
  }

  static void OnEnvCleanup(void* arg) {
    auto* self = static_cast<Poller*>(arg);
    self->hooked_ = false;  // a hook that has run is already gone from Node's list
    self->Shutdown();
  }

  static void CloseAll(Registry* registry) {
    // A snapshot, in case a shutdown ends in a destructor that unlinks from the list.
    auto** all = static_cast<Poller**>(std::malloc((registry->count > 0 ? registry->count : 1) * sizeof(Poller*)));
    if (all == nullptr) return;
    size_t n = 0;
    for (Poller* p = registry->head; p != nullptr && n < registry->count; p = p->next_) all[n++] = p;
    for (size_t i = 0; i < n; i++) all[i]->Shutdown();
    std::free(all);
  }

  void Link() {
    next_ = registry_->head;
    if (next_ != nullptr) next_->prev_ = this;
    registry_->head = this;
    registry_->count++;
    linked_ = true;
  }

  void Unlink() {
    if (!linked_ || registry_ == nullptr) return;
    if (prev_ != nullptr) prev_->next_ = next_;
    else registry_->head = next_;
    if (next_ != nullptr) next_->prev_ = prev_;
    prev_ = next_ = nullptr;
    registry_->count--;
    linked_ = false;
  }

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<Poller*>(handle->data);
    if (self == nullptr) return;
    // Locals only from here: the callback may close this poller, and failure handling must not
    // depend on it.
    napi_env env = self->env_;
    Registry* registry = Acquire(self->registry_);
    if (CallBack(env, self->async_, static_cast<napi_ref>(*self), self->callback_, status, events) ==
        CallOutcome::kCannotRun) {
      // JavaScript can no longer run here (the environment is stopping): stop all its pollers
      // so its loop can drain and the thread can end.
      CloseAll(registry);
    }
    Drop(registry);
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int32_t events;
    if (!Int(env, info[0], "events", &events)) return env.Undefined();
    if (handle_ == nullptr) return ThrowErrno(env, "uv_poll_start", EBADF);
    int rc = uv_poll_start(handle_, events, OnPoll);
    if (rc < 0) return ThrowErrno(env, "uv_poll_start", -rc);
    Retain();
    return env.Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr) uv_poll_stop(handle_);
    Release();
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    if (hooked_) {
      napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
      hooked_ = false;
    }
    return info.Env().Undefined();
  }

  Napi::Value RefJs(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(handle_));
    return info.Env().Undefined();
  }

  Napi::Value UnrefJs(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(handle_));
    return info.Env().Undefined();
  }

  napi_env env_;
  uv_poll_t* handle_ = nullptr;
  napi_ref callback_ = nullptr;
  napi_async_context async_ = nullptr;
  Registry* registry_ = nullptr;
  bool hooked_ = false;
  bool retained_ = false;
  Poller* prev_ = nullptr;
  Poller* next_ = nullptr;
  bool linked_ = false;
};

}  // namespace

void InitPoller(Napi::Env env, Napi::Object exports) {
  EnvRegistry(env);  // created at load, so instance data exists before any poller
  Poller::Define(env, exports);
}

}  // namespace lvsd
