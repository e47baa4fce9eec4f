// Who is at the other end of a unix socket connection (SO_PEERCRED, unix(7)): the pid, uid and gid the
// kernel recorded when the peer connected, so the control API can log who drained a server. Node has
// no API for it; the addon's plain getsockopt reads the struct ucred from the connection's descriptor.

import { SO_PEERCRED, SOL_SOCKET } from './constants.js'
import { sys, sysErrorCode } from './errno.js'
import { i32h, u32h } from './hostorder.js'
import { type NativeAddon, native } from './native.js'

export interface PeerCred {
  pid: number
  uid: number
  gid: number
}

/** struct ucred { pid_t pid; uid_t uid; gid_t gid; } */
const UCRED_SIZE = 12

/** The credentials of the peer of unix socket `fd`; undefined when the kernel gives none (not a unix socket, closed). */
export function peerCred(fd: number, addon: NativeAddon = native()): PeerCred | undefined {
  const buf = Buffer.alloc(UCRED_SIZE)
  let len: number
  try {
    len = sys(() => addon.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, buf))
  } catch (e) {
    if (sysErrorCode(e) !== undefined) return undefined
    throw e
  }
  if (len < UCRED_SIZE) return undefined
  return { pid: i32h(buf, 0), uid: u32h(buf, 4), gid: u32h(buf, 8) }
}

/** The descriptor under a net.Socket (Node keeps it on the internal handle; undefined if it has none). */
export function socketFd(socket: unknown): number | undefined {
  const fd = (socket as { _handle?: { fd?: unknown } })._handle?.fd
  return typeof fd === 'number' && fd >= 0 ? fd : undefined
}
