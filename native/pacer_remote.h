// The pacer helper process (lvsd-pacer, pacer_helper.c) as the addon sees it: one per environment
// (the VRRP worker), spawned on first use, shared by that environment's pacers through numbered
// slots. Requests go over a SOCK_SEQPACKET pair; the helper's counters and next deadline are read
// from a shared page; a stop waits (bounded) on the slot's futex word, so once Stop() returns the
// helper sends nothing more for that slot. docs/vrrp-runtime.md, "The pacer helper".
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "common.h"
#include "pacer_wire.h"

namespace lvsd {

// A pacer using the helper (pacer.cc).
class RemoteUser {
 public:
  // A late round or a failed send the helper reported (lvsd_pacer_event_kind, its value).
  virtual void OnRemoteEvent(uint32_t kind, double value) = 0;
  // The helper is gone (`status` as waitpid gave it, -1 if unknown): take the rounds back
  // in-process. The user is detached when this returns; it must not call the helper again.
  virtual void OnHelperLost(int status) = 0;

 protected:
  ~RemoteUser() = default;
};

// One datagram and where it goes (the caller's bytes, copied into the request).
struct RemoteTarget {
  const uint8_t* packet;
  size_t packetLen;
  const uint8_t* to;
  size_t toLen;
};

class PacerHelper {
 public:
  // The environment's helper, spawned from `path` the first time; a slot for `user`. nullptr with
  // errno set when it cannot (no slot left, the binary missing, a helper already lost here).
  static PacerHelper* Join(napi_env env, const char* path, RemoteUser* user, uint32_t* slot);

  // Sends START for the slot (the socket passed along). False: the helper could not take it and
  // has been killed (its users hear OnHelperLost from the loop); the caller goes in-process.
  bool Start(uint32_t slot, int socket, const RemoteTarget* targets, uint32_t n, double firstNs, double intervalNs,
             double lateNs);
  // STOP, waiting until the helper applied it. False: it did not answer in time and was killed
  // (waited for: it sends nothing more either way).
  bool Stop(uint32_t slot);
  // The slot's counters and deadline as the helper last wrote them.
  lvsd_pacer_slot Read(uint32_t slot) const;
  // True once the helper has applied every request sent for the slot.
  bool Applied(uint32_t slot) const;
  // Gives the slot back (stopping it first if running). May delete the helper.
  void Leave(uint32_t slot);

  bool alive() const { return pid_ > 0 && !lost_; }
  pid_t pid() const { return pid_; }

 private:
  PacerHelper() = default;
  ~PacerHelper();
  bool Spawn(napi_env env, const char* path);
  bool Send(const void* data, size_t len, int fd);
  // Kills the helper and waits for it; the poll's next turn tells the users.
  void Fail();
  // The helper is gone: every user falls back, the process is reaped.
  void Lost();
  void Reap();
  void Shutdown();
  void Running(uint32_t slot, bool running);
  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnEnvCleanup(void* arg);

  napi_env env_ = nullptr;
  pid_t pid_ = -1;
  int status_ = -1;
  bool reaped_ = false;
  bool lost_ = false;
  bool hooked_ = false;
  int control_ = -1;
  uv_poll_t* poll_ = nullptr;
  lvsd_pacer_slot* shared_ = nullptr;
  RemoteUser* users_[LVSD_PACER_SLOTS] = {};
  uint32_t seq_[LVSD_PACER_SLOTS] = {};
  bool running_[LVSD_PACER_SLOTS] = {};
  uint32_t userCount_ = 0;
  uint32_t runningCount_ = 0;
};

}  // namespace lvsd
