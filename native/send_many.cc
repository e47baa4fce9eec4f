// sendMany(fds, datas, tos, out): datagrams sent back to back in one call, each with sendto on its
// own socket, in order, whatever became of the one before. out[i] receives bytes sent or -errno
// (-EAGAIN for a full queue, as sendto() reports it). Every argument is read before the first send,
// so nothing but the syscalls lies between them: a VRRP takeover's advert, VIP addition and first
// GARP/NA leave this way (src/sys/sent-ahead.ts).
#include <errno.h>
#include <sys/socket.h>

#include "common.h"

namespace lvsd {

namespace {

using Napi::CallbackInfo;
using Napi::Value;

// A takeover sends one advert per peer, one rtnetlink datagram and one GARP/NA per VIP and repeat.
constexpr uint32_t kMaxSends = 256;

struct Send {
  int32_t fd;
  uint8_t* data;
  size_t len;
  uint8_t* to;
  size_t to_len;
};

bool Element(napi_env env, napi_value array, uint32_t i, napi_value* out) {
  return napi_get_element(env, array, i, out) == napi_ok;
}

Value SendMany(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t* fds;
  size_t n;
  if (!Ints(env, info[0], "fds", &fds, &n)) return env.Undefined();
  int32_t* out;
  size_t out_len;
  if (!Ints(env, info[3], "out", &out, &out_len)) return env.Undefined();
  bool is_array = false;
  uint32_t datas_len = 0;
  uint32_t tos_len = 0;
  napi_value datas = info[1];
  napi_value tos = info[2];
  if (napi_is_array(env, datas, &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, datas, &datas_len) != napi_ok) {
    ThrowType(env, "datas");
    return env.Undefined();
  }
  if (napi_is_array(env, tos, &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, tos, &tos_len) != napi_ok) {
    ThrowType(env, "tos");
    return env.Undefined();
  }
  if (n > kMaxSends || datas_len != n || tos_len != n || out_len < n) {
    ThrowType(env, "fds, datas, tos and out (as many of each, at most 256)");
    return env.Undefined();
  }
  Send sends[kMaxSends];
  for (uint32_t i = 0; i < n; i++) {
    napi_value d;
    napi_value t;
    if (!Element(env, datas, i, &d) || !Element(env, tos, i, &t)) return env.Undefined();
    Send& s = sends[i];
    s.fd = fds[i];
    if (!Bytes(env, Value(env, d), "datas[i]", &s.data, &s.len)) return env.Undefined();
    if (!OptionalBytes(env, Value(env, t), "tos[i]", &s.to, &s.to_len)) return env.Undefined();
  }
  for (uint32_t i = 0; i < n; i++) {
    const Send& s = sends[i];
    ssize_t r;
    do {
      r = sendto(s.fd, s.data, s.len, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(s.to),
                 static_cast<socklen_t>(s.to_len));
    } while (r < 0 && errno == EINTR);
    out[i] = r >= 0 ? static_cast<int32_t>(r) : (errno == EWOULDBLOCK ? -EAGAIN : -errno);
  }
  return env.Undefined();
}

}  // namespace

void InitSendMany(Napi::Env env, Napi::Object exports) {
  exports.Set("sendMany", Napi::Function::New(env, SendMany, "sendMany"));
}

}  // namespace lvsd
