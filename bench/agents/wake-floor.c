/* The machine's floor for a thread woken once a second (bench/wake-floor.ts): a timerfd in an
   epoll set, as keepalived's scheduler and lvsd's DeadlineTimers use, and with "send" one 40-byte
   raw VRRP datagram to 224.0.0.18 on eth0 per wake-up. No JavaScript, no event loop of Node's.
   "mem=N" first touches N MiB of anonymous memory (Node's footprint, without Node), "huge" on
   transparent huge pages: what a wake-up costs may depend on the process's size, not its work. */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int send_too = 0, huge = 0;
  size_t mem = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "send") == 0) send_too = 1;
    else if (strcmp(argv[i], "huge") == 0) huge = 1;
    else if (strncmp(argv[i], "mem=", 4) == 0) mem = (size_t)atol(argv[i] + 4) << 20;
  }
  if (mem > 0) {
    char *p = mmap(0, mem, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 1;
    if (huge) madvise(p, mem, MADV_HUGEPAGE);
    memset(p, 1, mem);
  }
  int t = timerfd_create(CLOCK_MONOTONIC, 0);
  struct itimerspec its = {{1, 0}, {1, 0}};
  timerfd_settime(t, 0, &its, 0);
  int e = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN};
  epoll_ctl(e, EPOLL_CTL_ADD, t, &ev);
  int s = -1;
  struct sockaddr_in to = {.sin_family = AF_INET};
  inet_pton(AF_INET, "224.0.0.18", &to.sin_addr);
  if (send_too) {
    s = socket(AF_INET, SOCK_RAW, 112);
    struct ip_mreqn m = {.imr_ifindex = (int)if_nametoindex("eth0")};
    setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof m);
  }
  unsigned char pkt[40];
  memset(pkt, 1, sizeof pkt);
  for (;;) {
    struct epoll_event o;
    if (epoll_wait(e, &o, 1, -1) < 1) continue;
    uint64_t n;
    if (read(t, &n, sizeof n) < 0) continue;
    if (s >= 0) sendto(s, pkt, sizeof pkt, 0, (struct sockaddr *)&to, sizeof to);
  }
}
