// HTTP/1.1 checks in bulk on one epoll set, as the TCP probes are (tcp_probe.cc): a non-blocking
// connect, a request made once per target and copied in, the reply read up to the end of its header
// (or, when a body is to be matched, up to its Content-Length, the final chunk, the end of the
// connection or a byte cap), and the status code collected in batches. There is no libuv stream,
// JavaScript object or promise per check; the reply's bytes cross into JavaScript only when its
// body is to be matched (docs/native.md, "HTTP probes"). TLS and digests stay with Node.
#include <netinet/in.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "common.h"

namespace lvsd {
namespace {

using Napi::CallbackInfo;
using Napi::Value;

constexpr int kMaxBatch = 512;
// Values per collected probe: fd, outcome, status, held (1: the reply is kept for httpProbeTake).
constexpr int kPerProbe = 4;
// Node's own limit for a response header: past it the reply is refused, not read on.
constexpr size_t kMaxHeader = 16 * 1024;
// Outcomes other than 0 (a reply) and a positive errno.
constexpr int32_t kClosedEarly = -1;    // the connection ended before the header did
constexpr int32_t kHeaderTooLong = -2;  // no end of header within kMaxHeader
constexpr int32_t kNotHttp = -3;        // the reply does not start with an HTTP/1.x status line

enum class Phase { kConnecting, kSending, kReading };

struct Probe {
  std::vector<uint8_t> request;
  size_t sent = 0;
  std::vector<uint8_t> reply;
  // Body bytes wanted after the header (0: the header is enough).
  size_t body_max = 0;
  size_t header_end = 0;  // offset just past "\r\n\r\n", 0 until seen
  long long content_length = -1;
  bool chunked = false;
  Phase phase = Phase::kConnecting;
  int status = 0;
};

// By fd, per thread (a worker may load the addon too).
thread_local std::vector<std::unique_ptr<Probe>> probes;

Probe* Find(int fd) {
  if (fd < 0 || static_cast<size_t>(fd) >= probes.size()) return nullptr;
  return probes[fd].get();
}

// An RST instead of a FIN: the director keeps no TIME_WAIT per check (10,000 a second would be
// 600,000 sockets in TIME_WAIT).
void Abort(int fd) {
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close(fd);
}

void Forget(int fd) {
  if (Find(fd) != nullptr) probes[fd].reset();
}

// The value of a header (name without the colon, case-insensitive) in the header bytes, or nullptr.
const char* HeaderValue(const uint8_t* head, size_t len, const char* name, size_t* value_len) {
  const size_t name_len = strlen(name);
  const char* p = reinterpret_cast<const char*>(head);
  const char* end = p + len;
  // skip the status line
  const char* line = static_cast<const char*>(memchr(p, '\n', len));
  while (line != nullptr && line + 1 < end) {
    line++;
    const char* eol = static_cast<const char*>(memchr(line, '\n', end - line));
    if (eol == nullptr) return nullptr;
    if (static_cast<size_t>(eol - line) > name_len && line[name_len] == ':' &&
        strncasecmp(line, name, name_len) == 0) {
      const char* v = line + name_len + 1;
      while (v < eol && (*v == ' ' || *v == '\t')) v++;
      const char* ve = eol;
      while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t')) ve--;
      *value_len = static_cast<size_t>(ve - v);
      return v;
    }
    line = eol;
  }
  return nullptr;
}

// After the header ended: the status line's code and, for a wanted body, how it is framed.
int32_t ParseHeader(Probe* p) {
  const uint8_t* r = p->reply.data();
  // "HTTP/1.x NNN"
  if (p->header_end < 12 || memcmp(r, "HTTP/1.", 7) != 0 || r[8] != ' ') return kNotHttp;
  for (int i = 9; i < 12; i++)
    if (r[i] < '0' || r[i] > '9') return kNotHttp;
  if (p->header_end > 12 && r[12] != ' ' && r[12] != '\r') return kNotHttp;
  p->status = (r[9] - '0') * 100 + (r[10] - '0') * 10 + (r[11] - '0');
  if (p->body_max == 0) return 0;
  size_t n = 0;
  const char* te = HeaderValue(r, p->header_end, "transfer-encoding", &n);
  p->chunked = te != nullptr && n >= 7 && strncasecmp(te + n - 7, "chunked", 7) == 0;
  const char* cl = HeaderValue(r, p->header_end, "content-length", &n);
  if (cl != nullptr && !p->chunked) {
    long long v = 0;
    size_t i = 0;
    for (; i < n && cl[i] >= '0' && cl[i] <= '9' && v < (1LL << 40); i++) v = v * 10 + (cl[i] - '0');
    if (i == n && n > 0) p->content_length = v;
  }
  // a status without a body (RFC 9112 §6.3)
  if (p->status == 204 || p->status == 304 || p->status < 200) p->content_length = 0;
  return 0;
}

// Whether the reply read so far is all that is wanted.
bool Complete(const Probe* p) {
  if (p->header_end == 0) return false;
  if (p->body_max == 0) return true;
  const size_t body = p->reply.size() - p->header_end;
  if (body >= p->body_max) return true;
  if (p->content_length >= 0) return body >= static_cast<unsigned long long>(p->content_length);
  if (p->chunked) {
    // the last chunk and an empty trailer
    static const char kEnd[] = "0\r\n\r\n";
    const size_t e = sizeof kEnd - 1;
    return body >= e && memcmp(p->reply.data() + p->reply.size() - e, kEnd, e) == 0 &&
           (body == e || p->reply[p->reply.size() - e - 1] == '\n');
  }
  return false;  // to the end of the connection
}

// Reads what has arrived. Returns 1 when the probe is finished (its outcome in *outcome), 0 to wait.
int Read(int fd, Probe* p, int32_t* outcome) {
  uint8_t buf[16 * 1024];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      *outcome = errno;
      return 1;
    }
    if (n == 0) {
      // the end of the connection ends a body read to it; before the header's end it is a failure
      *outcome = p->header_end == 0 ? kClosedEarly : 0;
      return 1;
    }
    const size_t cap = (p->header_end == 0 ? kMaxHeader : p->header_end) + p->body_max;
    const size_t take = std::min(static_cast<size_t>(n), cap > p->reply.size() ? cap - p->reply.size() : 0);
    const size_t from = p->reply.size() >= 3 ? p->reply.size() - 3 : 0;
    p->reply.insert(p->reply.end(), buf, buf + take);
    if (p->header_end == 0) {
      const uint8_t* r = p->reply.data();
      for (size_t i = from; i + 4 <= p->reply.size(); i++) {
        if (r[i] == '\r' && r[i + 1] == '\n' && r[i + 2] == '\r' && r[i + 3] == '\n') {
          p->header_end = i + 4;
          break;
        }
      }
      if (p->header_end == 0) {
        if (p->reply.size() >= kMaxHeader) {
          *outcome = kHeaderTooLong;
          return 1;
        }
        continue;
      }
      // the bytes past the header the cap did not count yet are read on the next turn
      *outcome = ParseHeader(p);
      if (*outcome != 0) return 1;
      if (p->reply.size() > p->header_end + p->body_max) p->reply.resize(p->header_end + p->body_max);
    }
    if (Complete(p)) {
      *outcome = 0;
      return 1;
    }
  }
}

// Sends what is left of the request. Returns 1 when finished with an error, 0 otherwise.
int Send(int fd, int epfd, Probe* p, int32_t* outcome) {
  while (p->sent < p->request.size()) {
    ssize_t n = send(fd, p->request.data() + p->sent, p->request.size() - p->sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;  // EPOLLOUT stays armed
      *outcome = errno;
      return 1;
    }
    p->sent += static_cast<size_t>(n);
  }
  p->phase = Phase::kReading;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) < 0) {
    *outcome = errno;
    return 1;
  }
  return 0;
}

// httpProbeStart(epfd, sockaddr, source | null, device | null, request, bodyMax) → fd of the check's
// socket, or a negative errno when it could not start (the socket is closed then). `request` is the
// whole HTTP request (copied); `bodyMax` the body bytes wanted after the header (0: the header is
// enough, and the reply is not kept).
Value HttpProbeStart(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t epfd;
  if (!Int(env, info[0], "epfd", &epfd)) return env.Undefined();
  uint8_t *to, *source, *device, *request;
  size_t to_len, source_len, device_len, request_len;
  if (!Bytes(env, info[1], "sockaddr", &to, &to_len)) return env.Undefined();
  if (!OptionalBytes(env, info[2], "source", &source, &source_len)) return env.Undefined();
  if (!OptionalBytes(env, info[3], "device", &device, &device_len)) return env.Undefined();
  if (!Bytes(env, info[4], "request", &request, &request_len)) return env.Undefined();
  int32_t body_max;
  if (!Int(env, info[5], "bodyMax", &body_max)) return env.Undefined();
  if (to_len < sizeof(sa_family_t) || request_len == 0 || body_max < 0) {
    ThrowType(env, "sockaddr, a request and bodyMax >= 0");
    return env.Undefined();
  }
  int family = reinterpret_cast<sockaddr*>(to)->sa_family;
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Napi::Number::New(env, -errno);
  int err = 0;
  if (device != nullptr && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device, static_cast<socklen_t>(device_len)) < 0) {
    err = errno;
  } else if (source != nullptr && bind(fd, reinterpret_cast<sockaddr*>(source), static_cast<socklen_t>(source_len)) < 0) {
    err = errno;
  } else if (connect(fd, reinterpret_cast<sockaddr*>(to), static_cast<socklen_t>(to_len)) < 0 && errno != EINPROGRESS) {
    err = errno;
  } else {
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.fd = fd;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) err = errno;
  }
  if (err != 0) {
    close(fd);
    return Napi::Number::New(env, -err);
  }
  if (static_cast<size_t>(fd) >= probes.size()) probes.resize(static_cast<size_t>(fd) + 64);
  auto p = std::make_unique<Probe>();
  p->request.assign(request, request + request_len);
  p->body_max = static_cast<size_t>(body_max);
  p->reply.reserve(512);
  probes[fd] = std::move(p);
  return Napi::Number::New(env, fd);
}

// httpProbeCollect(epfd, out) → n: advances every check with an event and writes the finished ones
// as out[4i] = fd, out[4i + 1] = outcome (0: a reply; > 0: errno; < 0: kClosedEarly, kHeaderTooLong,
// kNotHttp), out[4i + 2] = status code, out[4i + 3] = 1 when the reply is kept for httpProbeTake (a
// reply with a wanted body; the socket stays open until then), else 0 (socket closed, state freed).
Value HttpProbeCollect(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t epfd;
  int32_t* out;
  epoll_event events[kMaxBatch];
  int n = ReadyProbes(info, kPerProbe, kMaxBatch, events, &epfd, &out);
  if (n < 0) return env.Undefined();
  int done = 0;
  for (int i = 0; i < n; i++) {
    int fd = events[i].data.fd;
    Probe* p = Find(fd);
    if (p == nullptr) continue;  // cannot happen: a cancelled check's socket is closed
    int32_t outcome = 0;
    int finished = 0;
    // while reading, an error or reset comes after the data that arrived before it: Read takes the
    // data first (a complete reply then counts) and meets the error in recv
    const bool failed = (events[i].events & (EPOLLERR | EPOLLHUP)) != 0;
    if (failed && p->phase != Phase::kReading) {
      socklen_t len = sizeof outcome;
      if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &outcome, &len) < 0) outcome = errno;
      if (outcome == 0) outcome = ECONNRESET;
      finished = 1;
    } else {
      if (p->phase == Phase::kConnecting) p->phase = Phase::kSending;
      if (p->phase == Phase::kSending) finished = Send(fd, epfd, p, &outcome);
      // the reply may already be there: read at once, not on the next event
      if (finished == 0 && p->phase == Phase::kReading) finished = Read(fd, p, &outcome);
    }
    if (finished == 0) continue;
    const bool held = outcome == 0 && p->body_max > 0;
    out[kPerProbe * done] = fd;
    out[kPerProbe * done + 1] = outcome;
    out[kPerProbe * done + 2] = p->status;
    out[kPerProbe * done + 3] = held ? 1 : 0;
    done++;
    if (!held) {
      Forget(fd);
      Abort(fd);
    } else {
      // nothing more is read; the socket waits, disarmed, for httpProbeTake
      epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr);
    }
  }
  return Napi::Number::New(env, done);
}

// httpProbeTake(fd) → Buffer: the kept reply (header and body as read), of a check collected with
// held = 1. Closes the socket and frees the state. undefined for an fd with no kept reply.
Value HttpProbeTake(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  if (!Int(env, info[0], "fd", &fd)) return env.Undefined();
  Probe* p = Find(fd);
  if (p == nullptr) return env.Undefined();
  Napi::Buffer<uint8_t> b = Napi::Buffer<uint8_t>::Copy(env, p->reply.data(), p->reply.size());
  Forget(fd);
  Abort(fd);
  return b;
}

// httpProbeCancel(fd): abandons a check in flight (its socket reset and closed, its state freed).
Value HttpProbeCancel(const CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  if (!Int(env, info[0], "fd", &fd)) return env.Undefined();
  if (Find(fd) == nullptr) return env.Undefined();
  Forget(fd);
  Abort(fd);
  return env.Undefined();
}

}  // namespace

void InitHttpProbe(Napi::Env env, Napi::Object exports) {
  exports.Set("httpProbeStart", Napi::Function::New(env, HttpProbeStart, "httpProbeStart"));
  exports.Set("httpProbeCollect", Napi::Function::New(env, HttpProbeCollect, "httpProbeCollect"));
  exports.Set("httpProbeTake", Napi::Function::New(env, HttpProbeTake, "httpProbeTake"));
  exports.Set("httpProbeCancel", Napi::Function::New(env, HttpProbeCancel, "httpProbeCancel"));
  exports.Set("HTTP_PROBE_CLOSED_EARLY", Napi::Number::New(env, kClosedEarly));
  exports.Set("HTTP_PROBE_HEADER_TOO_LONG", Napi::Number::New(env, kHeaderTooLong));
  exports.Set("HTTP_PROBE_NOT_HTTP", Napi::Number::New(env, kNotHttp));
}

}  // namespace lvsd
