/* lvsd-pacer: a master's routine VRRP adverts sent from a process of ~1 MiB instead of from
 * lvsd's own (docs/vrrp-runtime.md, "The pacer helper"). Where page tables are shadowed by the
 * hypervisor, what waking a process costs grows with the memory it maps (~7 µs per MiB,
 * docs/benchmarks.md): each advert woke a 64 MiB Node process, now it wakes this one.
 *
 * Spawned by the addon (pacer_remote.cc) with fd 3 a SOCK_SEQPACKET control socket and fd 4 the
 * shared page of slots (pacer_wire.h). Single-threaded: one epoll over the control socket and one
 * timerfd per running slot. It exits when the control socket closes (lvsd is gone or let go of it),
 * when the thread that spawned it ends (PR_SET_PDEATHSIG), and on any request it cannot trust. It
 * sends nothing while lvsd is stopped (SIGSTOP, a debugger): a frozen master must fall silent for
 * its backup to take over, as keepalived's does and lvsd's own in-process pacer did. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/futex.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "pacer_wire.h"

struct target {
  uint8_t *packet;
  size_t packet_len;
  struct sockaddr_storage to;
  socklen_t to_len;
};

struct slot {
  int socket; /* this process's copy, -1 when stopped */
  int timer;
  struct target targets[LVSD_PACER_MAX_TARGETS];
  uint32_t count;
  double interval_ns;
  double late_ns;
};

static struct slot slots[LVSD_PACER_SLOTS];
static struct lvsd_pacer_slot *shared;
static int epfd;

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* How often at most lvsd's state is read: a frozen lvsd falls silent this much later at worst. */
#define FROZEN_CHECK_NS 250e6

/* lvsd's /proc/<pid>/stat, kept open and read again at offset 0; -1 when it could not be opened
 * (then lvsd is never taken as frozen, as before this check). */
static int parent_stat = -1;
static double frozen_checked_ns = -1e18;
static int frozen;

/* Whether lvsd is stopped (state T, or t under a tracer), read at most every FROZEN_CHECK_NS. */
static int parent_frozen(double now) {
  if (parent_stat < 0 || now - frozen_checked_ns < FROZEN_CHECK_NS) return frozen;
  frozen_checked_ns = now;
  char buf[1024];
  ssize_t n = pread(parent_stat, buf, sizeof buf - 1, 0);
  if (n <= 0) return frozen = 0;
  buf[n] = 0;
  /* pid (comm) state ...: comm may hold spaces and parentheses, the last ')' ends it */
  const char *p = strrchr(buf, ')');
  frozen = p != NULL && p[1] == ' ' && (p[2] == 'T' || p[2] == 't');
  return frozen;
}

/* whole 8-byte stores: the addon reads these words while the helper runs */
static void put(double *at, double v) { __atomic_store(at, &v, __ATOMIC_RELAXED); }

static int arm(int fd, double at_ns) {
  struct itimerspec its = {0};
  double ns = ceil(at_ns < 1 ? 1 : at_ns);
  its.it_value.tv_sec = (time_t)(ns / 1e9);
  its.it_value.tv_nsec = (long)(ns - (double)its.it_value.tv_sec * 1e9);
  if (its.it_value.tv_nsec >= 1000000000L) its.it_value.tv_nsec = 999999999L;
  return timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void event(uint32_t kind, uint32_t slot, double value) {
  struct lvsd_pacer_event e = {kind, slot, value};
  /* the addon reads these on its loop; a full queue drops a report, never blocks a round */
  send(LVSD_PACER_CONTROL_FD, &e, sizeof e, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void acknowledge(uint32_t i, uint32_t seq) {
  __atomic_store_n(&shared[i].ack_seq, seq, __ATOMIC_RELEASE);
  syscall(SYS_futex, &shared[i].ack_seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static void clear(struct slot *s) {
  for (uint32_t i = 0; i < s->count; i++) free(s->targets[i].packet);
  s->count = 0;
  if (s->socket >= 0) close(s->socket);
  s->socket = -1;
}

static void stop(uint32_t i) {
  struct itimerspec off = {0};
  timerfd_settime(slots[i].timer, 0, &off, NULL);
  clear(&slots[i]);
  put(&shared[i].next_ns, -1.0);
}

/* One round: every target, then the next an interval after the send (RFC 5798 §6.4.3). */
static void tick(uint32_t i) {
  struct slot *s = &slots[i];
  uint64_t expirations;
  if (read(s->timer, &expirations, sizeof expirations) != sizeof expirations || s->socket < 0) return;
  struct lvsd_pacer_slot *sh = &shared[i];
  double now = now_ns();
  double late = now - sh->next_ns;
  /* the next deadline first: killed mid-round, the addon resumes at the next round, never
   * repeating this one (a round cut short is one advert late, a repeated one a double) */
  put(&sh->next_ns, now + s->interval_ns);
  if (parent_frozen(now)) {
    /* no advert from a stopped lvsd; the rounds go on, and resume with it (SIGCONT) */
    if (arm(s->timer, now + s->interval_ns) < 0) exit(3);
    return;
  }
  int failed = 0;
  for (uint32_t t = 0; t < s->count; t++) {
    struct target *x = &s->targets[t];
    if (sendto(s->socket, x->packet, x->packet_len, 0, (struct sockaddr *)&x->to, x->to_len) < 0) {
      failed = errno;
      __atomic_store_n(&sh->errors, sh->errors + 1, __ATOMIC_RELAXED);
    } else {
      __atomic_store_n(&sh->sent, sh->sent + 1, __ATOMIC_RELAXED);
    }
  }
  if (late > sh->max_late_ns) put(&sh->max_late_ns, late);
  if (arm(s->timer, now + s->interval_ns) < 0) exit(3);
  if (late > s->late_ns) {
    __atomic_store_n(&sh->late_rounds, sh->late_rounds + 1, __ATOMIC_RELAXED);
    event(LVSD_PACER_LATE, i, late);
  }
  if (failed != 0) event(LVSD_PACER_SEND_ERROR, i, failed);
}

static void follow_scheduling(int policy, int priority) {
  struct sched_param sp = {.sched_priority = priority};
  if (sched_getscheduler(0) == policy) {
    struct sched_param cur;
    if (sched_getparam(0, &cur) == 0 && cur.sched_priority == priority) return;
  }
  /* within RLIMIT_RTPRIO (the unit's LimitRTPRIO); refused, the rounds go on at what it has */
  sched_setscheduler(0, policy, &sp);
}

/* Applies a START whose bytes were all checked; false (nothing changed) when they do not add up. */
static int start(const struct lvsd_pacer_request *r, const uint8_t *body, size_t len, int socket) {
  struct slot *s = &slots[r->slot];
  struct target fresh[LVSD_PACER_MAX_TARGETS];
  size_t off = 0;
  for (uint32_t t = 0; t < r->targets; t++) {
    uint16_t pl, al;
    if (off + 4 > len) goto bad;
    memcpy(&pl, body + off, 2);
    memcpy(&al, body + off + 2, 2);
    off += 4;
    if (pl == 0 || al == 0 || al > sizeof(struct sockaddr_storage) || off + al + pl > len) goto bad;
    memset(&fresh[t].to, 0, sizeof fresh[t].to);
    memcpy(&fresh[t].to, body + off, al);
    fresh[t].to_len = al;
    fresh[t].packet = malloc(pl);
    if (!fresh[t].packet) goto bad;
    memcpy(fresh[t].packet, body + off + al, pl);
    fresh[t].packet_len = pl;
    off += (size_t)al + pl;
    continue;
  bad:
    for (uint32_t j = 0; j < t; j++) free(fresh[j].packet);
    return 0;
  }
  clear(s);
  memcpy(s->targets, fresh, sizeof(struct target) * r->targets);
  s->count = r->targets;
  s->socket = socket;
  s->interval_ns = r->interval_ns;
  s->late_ns = r->late_ns;
  follow_scheduling(r->policy, r->priority);
  put(&shared[r->slot].next_ns, r->first_ns);
  if (arm(s->timer, r->first_ns) < 0) exit(3);
  return 1;
}

/* One request from the addon, 0 when none is queued; a malformed one ends the helper (the addon
 * then falls back in-process). */
static int request(void) {
  static uint8_t buf[LVSD_PACER_MAX_MESSAGE];
  char control[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {buf, sizeof buf};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  ssize_t n = recvmsg(LVSD_PACER_CONTROL_FD, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
  if (n <= 0) exit(0); /* lvsd closed its end */
  int socket = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) memcpy(&socket, CMSG_DATA(c), sizeof socket);
  struct lvsd_pacer_request r;
  if ((size_t)n < sizeof r || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) exit(4);
  memcpy(&r, buf, sizeof r);
  if (r.version != LVSD_PACER_WIRE_VERSION || r.slot >= LVSD_PACER_SLOTS) exit(4);
  if (r.op == LVSD_PACER_START) {
    if (socket < 0 || r.targets == 0 || r.targets > LVSD_PACER_MAX_TARGETS || !isfinite(r.first_ns) ||
        !(r.interval_ns >= 1e6) || !start(&r, buf + sizeof r, (size_t)n - sizeof r, socket))
      exit(4);
  } else if (r.op == LVSD_PACER_STOP) {
    if (socket >= 0) close(socket);
    stop(r.slot);
  } else {
    exit(4);
  }
  acknowledge(r.slot, r.seq);
  return 1;
}

static void drop_privileges(void) {
  /* the sockets come open: sending on them needs no capability, so keep none */
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  memset(d, 0, sizeof d);
  if (syscall(SYS_capset, &h, d) < 0) exit(5);
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

int main(int argc, char **argv) {
  /* gone with the thread that spawned it; if that happened before this line, getppid() shows it */
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (argc < 2 || getppid() != (pid_t)strtol(argv[1], NULL, 10)) return 1;
  char stat_path[64];
  snprintf(stat_path, sizeof stat_path, "/proc/%ld/stat", strtol(argv[1], NULL, 10));
  parent_stat = open(stat_path, O_RDONLY | O_CLOEXEC);
  drop_privileges();
  shared = mmap(NULL, sizeof(struct lvsd_pacer_slot) * LVSD_PACER_SLOTS, PROT_READ | PROT_WRITE, MAP_SHARED,
                LVSD_PACER_SHARED_FD, 0);
  if (shared == MAP_FAILED) return 2;
  close(LVSD_PACER_SHARED_FD);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) return 2;
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = LVSD_PACER_SLOTS};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, LVSD_PACER_CONTROL_FD, &ev) < 0) return 2;
  for (uint32_t i = 0; i < LVSD_PACER_SLOTS; i++) {
    slots[i].socket = -1;
    slots[i].timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct epoll_event te = {.events = EPOLLIN, .data.u32 = i};
    if (slots[i].timer < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, slots[i].timer, &te) < 0) return 2;
  }
  for (;;) {
    struct epoll_event ready[LVSD_PACER_SLOTS + 1];
    int n = epoll_wait(epfd, ready, LVSD_PACER_SLOTS + 1, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return 2;
    }
    /* requests first: a STOP that arrived with an expiry is honoured before that round */
    for (int i = 0; i < n; i++)
      if (ready[i].data.u32 == LVSD_PACER_SLOTS) {
        if (ready[i].events & (EPOLLHUP | EPOLLERR) && !(ready[i].events & EPOLLIN)) return 0;
        while (request()) {
        }
      }
    for (int i = 0; i < n; i++)
      if (ready[i].data.u32 < LVSD_PACER_SLOTS) tick(ready[i].data.u32);
  }
}
