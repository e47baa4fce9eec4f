/* What lvsd's addon (pacer_remote.cc) and the pacer helper process (pacer_helper.c) exchange: the
 * messages on their SOCK_SEQPACKET pair and the layout of the shared page of slots. Plain C, so the
 * helper needs no C++ runtime. One slot per pacer: the helper writes it, the addon reads it. */
#ifndef LVSD_PACER_WIRE_H
#define LVSD_PACER_WIRE_H

#include <stdint.h>

/* Bump when anything below changes: the addon and the helper refuse to talk across versions. */
#define LVSD_PACER_WIRE_VERSION 1u
#define LVSD_PACER_SLOTS 128u
#define LVSD_PACER_MAX_TARGETS 64u
/* One START message at most: the header, then per target 4 bytes of lengths and its bytes. */
#define LVSD_PACER_MAX_MESSAGE 65536u
/* The helper's fds, as it is spawned: the control socket and the shared page (a memfd). */
#define LVSD_PACER_CONTROL_FD 3
#define LVSD_PACER_SHARED_FD 4

enum lvsd_pacer_op {
  /* start a slot's rounds; carries the socket to send on (SCM_RIGHTS), replaces what ran */
  LVSD_PACER_START = 1,
  /* stop a slot's rounds and close its socket copy */
  LVSD_PACER_STOP = 2,
};

enum lvsd_pacer_event_kind {
  /* a round left value ns after its deadline, more than the slot's late_ns */
  LVSD_PACER_LATE = 1,
  /* a send failed with errno value (the round's other targets were still sent) */
  LVSD_PACER_SEND_ERROR = 2,
};

struct lvsd_pacer_request {
  uint32_t version;
  uint32_t op;
  uint32_t slot;
  /* acknowledged through the slot's ack_seq once the request is applied */
  uint32_t seq;
  double first_ns; /* CLOCK_MONOTONIC */
  double interval_ns;
  double late_ns;
  /* the sending thread's scheduling, for the helper to follow (SCHED_RR for the VRRP worker) */
  int32_t policy;
  int32_t priority;
  uint32_t targets;
  uint32_t reserved;
  /* then `targets` times: uint16_t packet_len, uint16_t addr_len, the sockaddr, the packet */
};

struct lvsd_pacer_event {
  uint32_t kind;
  uint32_t slot;
  double value;
};

/* 64 bytes; written by the helper only. A reader takes the counters as of some recent round. */
struct lvsd_pacer_slot {
  uint64_t sent;
  uint64_t errors;
  uint64_t late_rounds;
  double max_late_ns;
  /* the next round's deadline (CLOCK_MONOTONIC ns), -1 when stopped */
  double next_ns;
  /* the seq of the last request applied; a futex word the addon waits on */
  uint32_t ack_seq;
  uint32_t reserved;
  uint64_t spare[2];
};

#endif
