// errno → name table and the JS Error shape ({code, errno, syscall}) every failed call throws.
#include <cerrno>
#include <cstring>
#include <string>

#include "common.h"

namespace lvsd {

const char* ErrnoName(int err) {
  switch (err) {
#define E(x) \
  case x:    \
    return #x;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC) E(EBADF) E(ECHILD)
    E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR)
    E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(EFBIG) E(ENOSPC) E(ESPIPE) E(EROFS)
    E(EMLINK) E(EPIPE) E(EDOM) E(ERANGE) E(EDEADLK) E(ENAMETOOLONG) E(ENOLCK) E(ENOSYS)
    E(ENOTEMPTY) E(ELOOP) E(ENOMSG) E(EIDRM) E(ENODATA) E(ETIME) E(ENOLINK) E(EPROTO)
    E(EBADMSG) E(EOVERFLOW) E(EILSEQ) E(ENOTSOCK) E(EDESTADDRREQ) E(EMSGSIZE) E(EPROTOTYPE)
    E(ENOPROTOOPT) E(EPROTONOSUPPORT) E(ESOCKTNOSUPPORT) E(EOPNOTSUPP) E(EPFNOSUPPORT)
    E(EAFNOSUPPORT) E(EADDRINUSE) E(EADDRNOTAVAIL) E(ENETDOWN) E(ENETUNREACH) E(ENETRESET)
    E(ECONNABORTED) E(ECONNRESET) E(ENOBUFS) E(EISCONN) E(ENOTCONN) E(ESHUTDOWN)
    E(ETIMEDOUT) E(ECONNREFUSED) E(EHOSTDOWN) E(EHOSTUNREACH) E(EALREADY) E(EINPROGRESS)
    E(ETXTBSY) E(ECANCELED) E(ESTALE) E(ENOTUNIQ) E(ERFKILL)
#undef E
    default:
      return nullptr;
  }
}

// Raw Node-API with statuses ignored: these run while a worker may be stopping (JavaScript can
// no longer run there), when node-addon-api's checked calls would abort the whole process.
static void SetString(napi_env env, napi_value obj, const char* key, const std::string& value) {
  napi_value v;
  if (napi_create_string_utf8(env, value.c_str(), value.size(), &v) == napi_ok) napi_set_named_property(env, obj, key, v);
}

Napi::Value ThrowErrno(Napi::Env env, const char* syscall, int err) {
  const char* name = ErrnoName(err);
  std::string code = name != nullptr ? name : "E" + std::to_string(err);
  std::string msg = std::string(syscall) + ": " + std::strerror(err) + " (" + code + ")";
  napi_value message;
  napi_value error;
  napi_value num;
  if (napi_create_string_utf8(env, msg.c_str(), msg.size(), &message) == napi_ok &&
      napi_create_error(env, nullptr, message, &error) == napi_ok) {
    SetString(env, error, "code", code);
    if (napi_create_int32(env, err, &num) == napi_ok) napi_set_named_property(env, error, "errno", num);
    SetString(env, error, "syscall", syscall);
    napi_throw(env, error);
  }
  return env.Undefined();
}

bool ThrowType(Napi::Env env, const char* what) {
  std::string msg = std::string("invalid argument: ") + what;
  napi_throw_type_error(env, nullptr, msg.c_str());
  return false;
}

static bool TypedArray(Napi::Env env, const Napi::Value& v, napi_typedarray_type want, void** data, size_t* len) {
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  bool is = false;
  return napi_is_typedarray(env, v, &is) == napi_ok && is &&
         napi_get_typedarray_info(env, v, &type, len, data, &ab, &offset) == napi_ok && type == want;
}

bool Bytes(Napi::Env env, const Napi::Value& v, const char* what, uint8_t** data, size_t* len) {
  void* p;
  if (!TypedArray(env, v, napi_uint8_array, &p, len)) return ThrowType(env, what);
  *data = static_cast<uint8_t*>(p);
  return true;
}

bool OptionalBytes(Napi::Env env, const Napi::Value& v, const char* what, uint8_t** data, size_t* len) {
  *data = nullptr;
  *len = 0;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return false;
  if (t == napi_null || t == napi_undefined) return true;
  return Bytes(env, v, what, data, len);
}

bool Ints(Napi::Env env, const Napi::Value& v, const char* what, int32_t** data, size_t* len) {
  void* p;
  if (!TypedArray(env, v, napi_int32_array, &p, len)) return ThrowType(env, what);
  *data = static_cast<int32_t*>(p);
  return true;
}

bool Int(Napi::Env env, const Napi::Value& v, const char* what, int32_t* out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number || napi_get_value_int32(env, v, out) != napi_ok) {
    return ThrowType(env, what);
  }
  return true;
}

}  // namespace lvsd

namespace lvsd {

int ReadyProbes(const Napi::CallbackInfo& info, int perProbe, int maxBatch, epoll_event* events,
                int32_t* epfd, int32_t** out) {
  Napi::Env env = info.Env();
  size_t out_len;
  if (!Int(env, info[0], "epfd", epfd) || !Ints(env, info[1], "out", out, &out_len)) return -1;
  const size_t room = out_len / static_cast<size_t>(perProbe);
  const int max = static_cast<int>(room < static_cast<size_t>(maxBatch) ? room : static_cast<size_t>(maxBatch));
  if (max < 1) {
    ThrowType(env, "out (an Int32Array with room for one probe)");
    return -1;
  }
  int n;
  do {
    n = epoll_wait(*epfd, events, max, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    ThrowErrno(env, "epoll_wait", errno);
    return -1;
  }
  return n;
}

}  // namespace lvsd
