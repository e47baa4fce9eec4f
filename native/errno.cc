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

Napi::Value ThrowErrno(Napi::Env env, const char* syscall, int err) {
  const char* name = ErrnoName(err);
  std::string code = name != nullptr ? name : "E" + std::to_string(err);
  std::string msg = std::string(syscall) + ": " + std::strerror(err) + " (" + code + ")";
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

bool ThrowType(Napi::Env env, const char* what) {
  Napi::TypeError::New(env, std::string("invalid argument: ") + what).ThrowAsJavaScriptException();
  return false;
}

bool Bytes(Napi::Env env, const Napi::Value& v, const char* what, uint8_t** data, size_t* len) {
  if (!v.IsTypedArray()) return ThrowType(env, what);
  napi_typedarray_type type;
  size_t length;
  void* ptr;
  napi_value ab;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, &length, &ptr, &ab, &offset) != napi_ok ||
      type != napi_uint8_array) {
    return ThrowType(env, what);
  }
  *data = static_cast<uint8_t*>(ptr);
  *len = length;
  return true;
}

bool Int(Napi::Env env, const Napi::Value& v, const char* what, int32_t* out) {
  if (!v.IsNumber()) return ThrowType(env, what);
  *out = v.As<Napi::Number>().Int32Value();
  return true;
}

}  // namespace lvsd
