// PacerHelper (pacer_remote.h): spawning lvsd-pacer, its requests, its shared page and its loss.
#include "pacer_remote.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

extern char** environ;

namespace lvsd {
namespace {

// The helper answers a request within microseconds; this long without an answer means it hangs.
constexpr long kStopWaitNs = 200L * 1000 * 1000;
constexpr size_t kSharedBytes = sizeof(lvsd_pacer_slot) * LVSD_PACER_SLOTS;

// One helper per environment (the main thread and each worker are their own): a short list, not a
// std::unordered_map, whose allocator needs a newer libstdc++ than RHEL 8's (docs/native.md).
struct Entry {
  napi_env env;
  PacerHelper* helper;
  // an environment whose helper was lost keeps its pacers in-process from then on
  bool lost;
  Entry* next;
};
std::mutex helpersLock;
Entry* helpers = nullptr;

Entry* Find(napi_env env) {
  for (Entry* e = helpers; e != nullptr; e = e->next)
    if (e->env == env) return e;
  return nullptr;
}

Entry* FindOrAdd(napi_env env) {
  Entry* e = Find(env);
  if (e != nullptr) return e;
  e = static_cast<Entry*>(std::calloc(1, sizeof(Entry)));
  if (e == nullptr) return nullptr;
  e->env = env;
  e->next = helpers;
  helpers = e;
  return e;
}

void Forget(napi_env env) {
  for (Entry** p = &helpers; *p != nullptr; p = &(*p)->next) {
    if ((*p)->env != env) continue;
    Entry* e = *p;
    *p = e->next;
    std::free(e);
    return;
  }
}

}  // namespace

PacerHelper* PacerHelper::Join(napi_env env, const char* path, RemoteUser* user, uint32_t* slot) {
  PacerHelper* h = nullptr;
  {
    std::lock_guard<std::mutex> g(helpersLock);
    Entry* e = Find(env);
    if (e != nullptr && e->lost) {
      errno = ECHILD;
      return nullptr;
    }
    if (e != nullptr) h = e->helper;
  }
  if (h == nullptr) {
    h = new PacerHelper();
    if (!h->Spawn(env, path)) {
      int err = errno;
      delete h;
      errno = err;
      return nullptr;
    }
    std::lock_guard<std::mutex> g(helpersLock);
    Entry* e = FindOrAdd(env);
    if (e == nullptr) {
      delete h;
      errno = ENOMEM;
      return nullptr;
    }
    e->helper = h;
  }
  if (!h->alive()) {
    errno = ECHILD;
    return nullptr;
  }
  for (uint32_t i = 0; i < LVSD_PACER_SLOTS; i++) {
    if (h->users_[i] != nullptr) continue;
    h->users_[i] = user;
    h->userCount_++;
    *slot = i;
    return h;
  }
  errno = ENOSPC;
  return nullptr;
}

bool PacerHelper::Spawn(napi_env env, const char* path) {
  env_ = env;
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) return false;
  int mem = static_cast<int>(syscall(SYS_memfd_create, "lvsd-pacer", MFD_CLOEXEC));
  void* page = MAP_FAILED;
  if (mem >= 0 && ftruncate(mem, kSharedBytes) == 0)
    page = mmap(nullptr, kSharedBytes, PROT_READ | PROT_WRITE, MAP_SHARED, mem, 0);
  if (page == MAP_FAILED) {
    int err = errno;
    if (mem >= 0) close(mem);
    close(pair[0]);
    close(pair[1]);
    errno = err;
    return false;
  }
  shared_ = static_cast<lvsd_pacer_slot*>(page);
  for (uint32_t i = 0; i < LVSD_PACER_SLOTS; i++) shared_[i].next_ns = -1;
  // above the helper's fd numbers, so each dup2 below really copies (and clears close-on-exec)
  int childControl = fcntl(pair[1], F_DUPFD_CLOEXEC, 10);
  int childShared = fcntl(mem, F_DUPFD_CLOEXEC, 10);
  close(pair[1]);
  close(mem);
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_adddup2(&fa, childControl, LVSD_PACER_CONTROL_FD);
  posix_spawn_file_actions_adddup2(&fa, childShared, LVSD_PACER_SHARED_FD);
  // Node ignores SIGPIPE and blocks signals in its threads: the helper starts from the defaults
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  char parent[24];
  std::snprintf(parent, sizeof parent, "%ld", static_cast<long>(getpid()));
  char* argv[] = {const_cast<char*>(path), parent, nullptr};
  char* envp[] = {nullptr};
  // posix_spawn runs on the calling thread: the helper starts with its scheduling (SCHED_RR)
  int rc = childControl < 0 || childShared < 0 ? EMFILE : posix_spawn(&pid_, path, &fa, &attr, argv, envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (childControl >= 0) close(childControl);
  if (childShared >= 0) close(childShared);
  if (rc != 0) {
    close(pair[0]);
    munmap(shared_, kSharedBytes);
    shared_ = nullptr;
    pid_ = -1;
    errno = rc;
    return false;
  }
  control_ = pair[0];
  fcntl(control_, F_SETFL, fcntl(control_, F_GETFL) | O_NONBLOCK);
  poll_ = OpenPoll(env, control_, this);
  if (poll_ == nullptr || uv_poll_start(poll_, UV_READABLE | UV_DISCONNECT, OnPoll) < 0) {
    // OpenPoll threw; the caller reports errno instead
    bool pending = false;
    napi_value exc;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &exc);
    Fail();
    errno = EIO;
    return false;
  }
  // an idle helper must not keep the thread's loop alive; a running slot refs it (Running)
  uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  if (napi_add_env_cleanup_hook(env, OnEnvCleanup, this) == napi_ok) hooked_ = true;
  return true;
}

PacerHelper::~PacerHelper() {
  Shutdown();
  if (hooked_) napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
  if (shared_ != nullptr) munmap(shared_, kSharedBytes);
}

bool PacerHelper::Send(const void* data, size_t len, int fd) {
  if (!alive()) return false;
  iovec iov{const_cast<void*>(data), len};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  char control[CMSG_SPACE(sizeof(int))];
  if (fd >= 0) {
    std::memset(control, 0, sizeof control);
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  ssize_t n;
  do n = sendmsg(control_, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(len)) return true;
  // EPIPE: gone; EAGAIN: its queue is full, so it is not reading: either way it cannot be trusted
  Fail();
  return false;
}

bool PacerHelper::Start(uint32_t slot, int socket, const RemoteTarget* targets, uint32_t n, double firstNs,
                        double intervalNs, double lateNs) {
  size_t size = sizeof(lvsd_pacer_request);
  for (uint32_t i = 0; i < n; i++) size += 4 + targets[i].toLen + targets[i].packetLen;
  if (size > LVSD_PACER_MAX_MESSAGE) {
    Fail();
    return false;
  }
  // malloc, not std::vector: its allocator needs a newer libstdc++ than RHEL 8's
  auto* msg = static_cast<uint8_t*>(std::malloc(size));
  if (msg == nullptr) {
    Fail();
    return false;
  }
  lvsd_pacer_request r{};
  r.version = LVSD_PACER_WIRE_VERSION;
  r.op = LVSD_PACER_START;
  r.slot = slot;
  r.seq = ++seq_[slot];
  r.first_ns = firstNs;
  r.interval_ns = intervalNs;
  r.late_ns = lateNs;
  sched_param sp{};
  r.policy = sched_getscheduler(0);
  if (sched_getparam(0, &sp) == 0) r.priority = sp.sched_priority;
  r.targets = n;
  std::memcpy(msg, &r, sizeof r);
  size_t off = sizeof r;
  for (uint32_t i = 0; i < n; i++) {
    const RemoteTarget& t = targets[i];
    uint16_t lens[2] = {static_cast<uint16_t>(t.packetLen), static_cast<uint16_t>(t.toLen)};
    std::memcpy(msg + off, lens, sizeof lens);
    off += sizeof lens;
    std::memcpy(msg + off, t.to, t.toLen);
    off += t.toLen;
    std::memcpy(msg + off, t.packet, t.packetLen);
    off += t.packetLen;
  }
  bool sent = Send(msg, size, socket);
  std::free(msg);
  if (!sent) return false;
  Running(slot, true);
  return true;
}

bool PacerHelper::Applied(uint32_t slot) const {
  return __atomic_load_n(&shared_[slot].ack_seq, __ATOMIC_ACQUIRE) == seq_[slot];
}

bool PacerHelper::Stop(uint32_t slot) {
  if (!running_[slot]) return true;
  Running(slot, false);
  lvsd_pacer_request r{};
  r.version = LVSD_PACER_WIRE_VERSION;
  r.op = LVSD_PACER_STOP;
  r.slot = slot;
  r.seq = ++seq_[slot];
  if (!Send(&r, sizeof r, -1)) return false;
  timespec start{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    uint32_t seen = __atomic_load_n(&shared_[slot].ack_seq, __ATOMIC_ACQUIRE);
    if (seen == r.seq) return true;
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    long left = kStopWaitNs - ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec));
    if (left <= 0) break;
    timespec wait{left / 1000000000L, left % 1000000000L};
    // a shared (not private) futex: the word lives in a page the helper writes
    syscall(SYS_futex, &shared_[slot].ack_seq, FUTEX_WAIT, seen, &wait, nullptr, 0);
  }
  Fail();
  return false;
}

lvsd_pacer_slot PacerHelper::Read(uint32_t slot) const {
  lvsd_pacer_slot s{};
  const lvsd_pacer_slot& x = shared_[slot];
  s.sent = __atomic_load_n(&x.sent, __ATOMIC_RELAXED);
  s.errors = __atomic_load_n(&x.errors, __ATOMIC_RELAXED);
  s.late_rounds = __atomic_load_n(&x.late_rounds, __ATOMIC_RELAXED);
  __atomic_load(&x.max_late_ns, &s.max_late_ns, __ATOMIC_RELAXED);
  __atomic_load(&x.next_ns, &s.next_ns, __ATOMIC_RELAXED);
  s.ack_seq = __atomic_load_n(&x.ack_seq, __ATOMIC_ACQUIRE);
  return s;
}

void PacerHelper::Running(uint32_t slot, bool running) {
  if (running_[slot] == running) return;
  running_[slot] = running;
  runningCount_ += running ? 1 : -1;
  // the loop stays alive while adverts are being sent, as with an in-process pacer's timer
  if (poll_ == nullptr) return;
  if (runningCount_ > 0)
    uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
  else
    uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
}

void PacerHelper::Leave(uint32_t slot) {
  if (users_[slot] == nullptr) return;
  if (alive()) Stop(slot);
  Running(slot, false);
  users_[slot] = nullptr;
  userCount_--;
  if (userCount_ == 0 && (lost_ || env_ == nullptr)) delete this;
}

void PacerHelper::Reap() {
  if (pid_ <= 0 || reaped_) return;
  int st = 0;
  pid_t r;
  do r = waitpid(pid_, &st, 0);
  while (r < 0 && errno == EINTR);
  reaped_ = true;
  if (r == pid_) status_ = st;
}

void PacerHelper::Fail() {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    // waited for: a helper killed mid-round finishes that round's sends, then nothing
    Reap();
  }
  lost_ = true;
  {
    std::lock_guard<std::mutex> g(helpersLock);
    Entry* e = FindOrAdd(env_);
    if (e != nullptr) {
      e->lost = true;
      if (e->helper == this) e->helper = nullptr;
    }
  }
  // the users hear of it from the poll, which sees the closed socket on the loop's next turn
}

void PacerHelper::Lost() {
  Fail();
  if (poll_ != nullptr) ClosePoll(&poll_);
  for (uint32_t i = 0; i < LVSD_PACER_SLOTS; i++) {
    RemoteUser* u = users_[i];
    if (u == nullptr) continue;
    users_[i] = nullptr;
    running_[i] = false;
    userCount_--;
    u->OnHelperLost(status_);
  }
  runningCount_ = 0;
}

void PacerHelper::OnPoll(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<PacerHelper*>(handle->data);
  if (self == nullptr) return;
  for (;;) {
    lvsd_pacer_event e{};
    ssize_t n = recv(self->control_, &e, sizeof e, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN && status >= 0 && !(events & UV_DISCONNECT)) return;
    if (n != static_cast<ssize_t>(sizeof e)) break;
    if (e.slot < LVSD_PACER_SLOTS && self->users_[e.slot] != nullptr) self->users_[e.slot]->OnRemoteEvent(e.kind, e.value);
    // a user may have closed its pacer from the callback; the helper itself is still here
  }
  self->Lost();
  if (self->userCount_ == 0) delete self;
}

void PacerHelper::Shutdown() {
  if (poll_ != nullptr) ClosePoll(&poll_);
  if (control_ >= 0) {
    close(control_);
    control_ = -1;
  }
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    Reap();
  }
  lost_ = true;
}

void PacerHelper::OnEnvCleanup(void* arg) {
  auto* self = static_cast<PacerHelper*>(arg);
  self->hooked_ = false;
  {
    std::lock_guard<std::mutex> g(helpersLock);
    Forget(self->env_);
  }
  self->Shutdown();
  self->env_ = nullptr;
  // pacers still holding slots free it when they go (their destructors run after the hooks)
  if (self->userCount_ == 0) delete self;
}

}  // namespace lvsd
