// The real NetlinkTransport: an AF_NETLINK raw socket from src/sys, bound with sockaddr_nl, with
// extended ACKs and capped ACKs switched on where the kernel supports them (netlink(7)).
import { LvsdError } from '../errors.js'
import {
  AF_NETLINK,
  MSG_TRUNC,
  NETLINK_ADD_MEMBERSHIP,
  NETLINK_CAP_ACK,
  NETLINK_EXT_ACK,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SOCK_RAW,
  SOL_NETLINK,
  SOL_SOCKET,
} from '../sys/constants.js'
import { sockaddrNl } from '../sys/sockaddr.js'
import { Socket } from '../sys/socket.js'
import { NetlinkClient, type NetlinkClientOptions, type NetlinkTransport } from './netlink-client.js'

export interface OpenOptions extends NetlinkClientOptions {
  /** Receive buffer in bytes; event sockets want a large one (RCVBUFFORCE is tried first, as root may). */
  receiveBuffer?: number
  /** Multicast groups to join at once (RTNLGRP_*, or generic netlink group ids). */
  groups?: number[]
  /** Keep the event loop alive while the socket is open (default true). */
  ref?: boolean
}

/** Opens a socket for one netlink protocol (NETLINK_ROUTE 0, NETLINK_GENERIC 16). */
export function openTransport(protocol: number, opts: OpenOptions = {}): NetlinkTransport {
  const sock = Socket.open(AF_NETLINK, SOCK_RAW, protocol)
  try {
    sock.bind(sockaddrNl(0, 0))
    // optional features: older kernels lack them, and the client copes without
    for (const opt of [NETLINK_EXT_ACK, NETLINK_CAP_ACK]) {
      try {
        sock.setOption(SOL_NETLINK, opt, 1)
      } catch {}
    }
    if (opts.receiveBuffer !== undefined) {
      try {
        sock.setOption(SOL_SOCKET, SO_RCVBUFFORCE, opts.receiveBuffer)
      } catch {
        sock.setOption(SOL_SOCKET, SO_RCVBUF, opts.receiveBuffer)
      }
    }
    const name = sock.getSockName()
    if (name.length < 12)
      throw new LvsdError('LVSD_NL_PROTOCOL', 'getsockname gave no sockaddr_nl', { len: name.length })
    const portId = name.readUInt32LE(4)
    if (opts.ref === false) sock.unref()
    let deliver: ((data: Buffer, truncated: boolean) => void) | undefined
    let report: ((err: unknown, stopped: boolean) => void) | undefined
    return {
      portId,
      send(datagram) {
        if (!sock.send(datagram, sockaddrNl(0, 0))) {
          throw new LvsdError('LVSD_SYS_CALL', 'netlink send queue full', { syscall: 'sendto', code: 'EAGAIN' })
        }
      },
      outgoing(datagram) {
        return sock.outgoing(datagram, sockaddrNl(0, 0))
      },
      drain() {
        for (;;) {
          if (!deliver || sock.closed) return
          let r: ReturnType<typeof sock.receive>
          try {
            r = sock.receive()
          } catch (e) {
            // reading a socket error clears it (ENOBUFS after an overrun): report it as the poller would
            report?.(e, false)
            return
          }
          if (!r) return
          deliver(r.data, (r.flags & MSG_TRUNC) !== 0)
        }
      },
      start(onDatagram, onError) {
        deliver = onDatagram
        report = onError
        sock.onReceive(
          (r) => onDatagram(r.data, (r.flags & MSG_TRUNC) !== 0),
          (e) => {
            // libuv turns POLLERR into UV_EBADF and stops polling. On a netlink socket POLLERR
            // means a pending socket error, usually ENOBUFS after an overrun: fetch it, so the
            // client reports the real cause.
            const stopped = (e as LvsdError).details?.syscall === 'poll'
            let err: unknown = e
            if (stopped) {
              try {
                const r = sock.receive()
                if (r) onDatagram(r.data, (r.flags & MSG_TRUNC) !== 0)
              } catch (pending) {
                err = pending
              }
            }
            onError(err, stopped)
          },
        )
      },
      addMembership(group) {
        sock.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group)
      },
      close() {
        sock.close()
      },
    }
  } catch (e) {
    sock.close()
    throw e
  }
}

/** A NetlinkClient over a fresh socket, subscribed to opts.groups. */
export function openNetlink(protocol: number, opts: OpenOptions = {}): NetlinkClient {
  const client = new NetlinkClient(openTransport(protocol, opts), opts)
  try {
    for (const g of opts.groups ?? []) client.subscribe(g)
  } catch (e) {
    client.close()
    throw e
  }
  return client
}
