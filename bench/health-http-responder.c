// Minimal HTTP responder for bench/health-scale (http mode): one epoll loop, one listener on
// 0.0.0.0:<port> answering every 10.21.x.y address. It reads a request up to its blank line, answers
// "200 healthy" (or "503 dead" for an address that was killed) with Connection: close and closes.
// It is C so that the responders are not what limits the bench: the shared Node HTTP server topped
// out near 1,000 requests/s, less than the prober asks for. SIGUSR2 kills every tenth address (as
// bench/health-scale-server.ts does) and prints {"event":"killed","at":<ms since epoch>,"killed":n}.
//   cc -O2 -o responder health-http-responder.c && responder <servers> <port>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXEV 256
#define MAXFD 65536

static volatile sig_atomic_t kill_now = 0;
static unsigned char dead[65536];
static unsigned char seen[MAXFD];  // request bytes matched so far of "\r\n\r\n"

static void on_usr2(int sig) {
  (void)sig;
  kill_now = 1;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// 10.21.x.y → the bench's server index (x − 1) × 250 + (y − 1)
static int index_of(int fd) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  if (getsockname(fd, (struct sockaddr*)&a, &len) < 0) return -1;
  unsigned char* b = (unsigned char*)&a.sin_addr;
  if (b[0] != 10 || b[1] != 21 || b[2] < 1 || b[3] < 1) return -1;
  return (b[2] - 1) * 250 + (b[3] - 1);
}

static const char ok[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 7\r\nConnection: close\r\n\r\nhealthy";
static const char down[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndead";

static void answer(int fd) {
  int i = index_of(fd);
  const char* r = (i >= 0 && dead[i]) ? down : ok;
  size_t n = (i >= 0 && dead[i]) ? sizeof down - 1 : sizeof ok - 1;
  ssize_t w = write(fd, r, n);
  (void)w;
  close(fd);
}

int main(int argc, char** argv) {
  int servers = argc > 1 ? atoi(argv[1]) : 1000;
  int port = argc > 2 ? atoi(argv[2]) : 80;
  signal(SIGUSR2, on_usr2);
  signal(SIGPIPE, SIG_IGN);
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = {htonl(INADDR_ANY)}};
  if (bind(ls, (struct sockaddr*)&a, sizeof a) < 0 || listen(ls, 4096) < 0) {
    perror("listen");
    return 1;
  }
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  printf("{\"event\":\"ready\",\"pid\":%d,\"servers\":%d,\"mode\":\"http\"}\n", getpid(), servers);
  fflush(stdout);
  struct epoll_event evs[MAXEV];
  char buf[4096];
  for (;;) {
    if (kill_now) {
      kill_now = 0;
      int killed = 0;
      for (int i = 0; i < servers && i < 65536; i += 10, killed++) dead[i] = 1;
      printf("{\"event\":\"killed\",\"at\":%lld,\"killed\":%d}\n", now_ms(), killed);
      fflush(stdout);
    }
    int n = epoll_wait(ep, evs, MAXEV, 100);
    for (int k = 0; k < n; k++) {
      int fd = evs[k].data.fd;
      if (fd == ls) {
        for (;;) {
          int c = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) break;
          if (c >= MAXFD) {
            close(c);
            continue;
          }
          seen[c] = 0;
          struct epoll_event ce = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
        }
        continue;
      }
      ssize_t r = read(fd, buf, sizeof buf);
      if (r <= 0) {
        if (r < 0 && errno == EAGAIN) continue;
        close(fd);
        continue;
      }
      // the end of the request head: "\r\n\r\n", possibly split over reads
      static const char end[] = "\r\n\r\n";
      unsigned char s = seen[fd];
      for (ssize_t j = 0; j < r && s < 4; j++) s = buf[j] == end[s] ? s + 1 : (buf[j] == '\r' ? 1 : 0);
      seen[fd] = s;
      if (s == 4) answer(fd);
    }
  }
}
