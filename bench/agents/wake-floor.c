/* The machine's floor for a thread woken once a second (bench/wake-floor.ts): a timerfd in an
   epoll set, as keepalived's scheduler and lvsd's DeadlineTimers use, and with "send" one 40-byte
   raw VRRP datagram to 224.0.0.18 on eth0 per wake-up. No JavaScript, no event loop of Node's. */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int send_too = argc > 1 && strcmp(argv[1], "send") == 0;
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
