// sendMany(fds, datas, tos, out, notBeforeNs = 0, quiet = null) → datagrams sent, or -1: datagrams
// sent back to back in one call, each with sendto on its own socket, in order, whatever became of
// the one before. out[i] receives bytes sent or -errno (-EAGAIN for a full queue, as sendto()
// reports it). Every argument is read first, then the call waits in C until CLOCK_MONOTONIC reaches
// notBeforeNs (a busy wait: at most 100 ms ahead, else a RangeError), then, if any `quiet` socket
// has something to read, returns -1 without sending anything. A VRRP takeover's advert, VIP
// addition and first GARP/NA leave this way at the deadline (src/sys/sent-ahead.ts): no JavaScript
// runs between the deadline and the wire, so no scavenge can fall in between either.
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include "common.h"

namespace lvsd {

namespace {

using Napi::CallbackInfo;
using Napi::Value;

// A takeover sends one advert per peer, one rtnetlink datagram and one GARP/NA per VIP and repeat.
constexpr uint32_t kMaxSends = 256;
// A takeover's lead is a few ms; a wait longer than this is a caller's mistake, not a deadline.
constexpr int64_t kMaxWaitNs = 100 * 1000 * 1000;
constexpr uint32_t kMaxQuiet = 16;

int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

inline void Relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

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
  double not_before = 0;
  napi_valuetype t4 = napi_undefined;
  if (info.Length() > 4 && napi_typeof(env, info[4], &t4) == napi_ok && t4 != napi_undefined) {
    if (t4 != napi_number || napi_get_value_double(env, info[4], &not_before) != napi_ok) {
      ThrowType(env, "notBeforeNs");
      return env.Undefined();
    }
  }
  pollfd quiet[kMaxQuiet];
  size_t quiet_n = 0;
  napi_valuetype t5 = napi_undefined;
  if (info.Length() > 5 && napi_typeof(env, info[5], &t5) == napi_ok && t5 != napi_undefined && t5 != napi_null) {
    int32_t* q;
    if (!Ints(env, info[5], "quiet", &q, &quiet_n)) return env.Undefined();
    if (quiet_n > kMaxQuiet) {
      ThrowType(env, "quiet (at most 16 sockets)");
      return env.Undefined();
    }
    for (size_t i = 0; i < quiet_n; i++) quiet[i] = pollfd{q[i], POLLIN, 0};
  }
  const int64_t deadline = static_cast<int64_t>(not_before);
  if (deadline - MonotonicNs() > kMaxWaitNs) {
    napi_throw_range_error(env, nullptr, "notBeforeNs is more than 100 ms ahead");
    return env.Undefined();
  }
  while (MonotonicNs() < deadline) Relax();
  if (quiet_n > 0) {
    int r;
    do {
      r = poll(quiet, quiet_n, 0);
    } while (r < 0 && errno == EINTR);
    // readable, or an error to read: the caller reads it before it acts on the silence
    if (r != 0) return Napi::Number::New(env, -1);
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
  return Napi::Number::New(env, n);
}

}  // namespace

void InitSendMany(Napi::Env env, Napi::Object exports) {
  exports.Set("sendMany", Napi::Function::New(env, SendMany, "sendMany"));
}

}  // namespace lvsd
