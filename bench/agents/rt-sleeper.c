// A SCHED_RR thread that only sleeps to absolute deadlines and records when it wakes: the floor for
// any real-time VRRP sender on this machine, with no Node, no V8, no page faults (mlockall) and no
// shared address space. bench/vrrp-interval-load.js runs it beside lvsd and keepalived so that the
// kernel's and the hypervisor's lateness can be told from lvsd's own (docs/benchmarks.md).
// Build: cc -O2 -o rt-sleeper bench/agents/rt-sleeper.c
// Usage: rt-sleeper <seconds> [periodMs=100] [rtPriority=10] [busyUs=0]. After each wake-up it spins
// busyUs (lvsd's worker is on a CPU ~0.7 ms per advert, docs/benchmarks.md "Idle cost") and records
// the time then, so that it is exposed to stalls while running as the worker is. Prints one JSON
// line at the end: {"wakeMs":[...],"lateMaxMs":x,"realtime":bool}, times on CLOCK_MONOTONIC in ms.
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static double ms(const struct timespec* t) { return t->tv_sec * 1e3 + t->tv_nsec / 1e6; }

int main(int argc, char** argv) {
  int seconds = argc > 1 ? atoi(argv[1]) : 70;
  int period_ms = argc > 2 ? atoi(argv[2]) : 100;
  struct sched_param sp = {.sched_priority = argc > 3 ? atoi(argv[3]) : 10};
  int realtime = sched_setscheduler(0, SCHED_RR, &sp) == 0;
  mlockall(MCL_CURRENT | MCL_FUTURE);
  double busy_ms = argc > 4 ? atoi(argv[4]) / 1e3 : 0;
  int n = seconds * 1000 / period_ms;
  double* wake = calloc(n, sizeof *wake);
  double late_max = 0;
  struct timespec next, now;
  clock_gettime(CLOCK_MONOTONIC, &next);
  for (int i = 0; i < n; i++) {
    next.tv_nsec += period_ms * 1000000L;
    while (next.tv_nsec >= 1000000000L) next.tv_nsec -= 1000000000L, next.tv_sec++;
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    clock_gettime(CLOCK_MONOTONIC, &now);
    double woke = ms(&now);
    if (woke - ms(&next) > late_max) late_max = woke - ms(&next);
    do clock_gettime(CLOCK_MONOTONIC, &now);
    while (ms(&now) - woke < busy_ms);
    wake[i] = ms(&now);
  }
  printf("{\"wakeMs\":[");
  for (int i = 0; i < n; i++) printf("%s%.4f", i ? "," : "", wake[i]);
  printf("],\"lateMaxMs\":%.4f,\"realtime\":%s}\n", late_max, realtime ? "true" : "false");
  return 0;
}
