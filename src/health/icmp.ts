// ICMP echo check (keepalived PING_CHECK; RFC 792 for IPv4, RFC 4443 §4 for IPv6) through src/sys:
// a raw socket when allowed (CAP_NET_RAW), else an unprivileged ping socket (net.ipv4.ping_group_range).
import { randomInt } from 'node:crypto'
import { type Addr, formatAddr, sameAddr } from '../net/addr.js'
import { internetChecksum } from '../net/checksum.js'
import { bpfProgram, insn } from '../sys/bpf.js'
import {
  AF_INET,
  AF_INET6,
  BPF_B,
  BPF_H,
  BPF_IND,
  BPF_JEQ,
  BPF_JMP,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_MSH,
  BPF_RET,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  SO_BINDTODEVICE,
  SOCK_DGRAM,
  SOCK_RAW,
  SOL_SOCKET,
} from '../sys/constants.js'
import { ifNameToIndex } from '../sys/iface.js'
import { decodeSockaddr, sockaddrIn, sockaddrIn6 } from '../sys/sockaddr.js'
import { Socket } from '../sys/socket.js'
import { abortable, ProbeFailure, timed } from './probe.js'
import type { IcmpOptions, Result, Target } from './types.js'

const ECHO_REQUEST = { 4: 8, 6: 128 } as const
const ECHO_REPLY = { 4: 0, 6: 129 } as const
const UNREACHABLE = { 4: 3, 6: 1 } as const

let seqCounter = randomInt(0, 0x10000)

export function echoRequest(family: 4 | 6, id: number, seq: number, size: number): Buffer {
  const b = Buffer.alloc(8 + size)
  b[0] = ECHO_REQUEST[family]
  b.writeUInt16BE(id, 4)
  b.writeUInt16BE(seq, 6)
  for (let i = 8; i < b.length; i++) b[i] = i & 0xff
  // ICMPv6 checksums cover a pseudo-header: the kernel fills them for ICMPv6 sockets
  if (family === 4) b.writeUInt16BE(internetChecksum(b), 2)
  return b
}

export type Echo = { kind: 'reply' } | { kind: 'unreachable'; code: number } | undefined

/**
 * Reads one received ICMP message: our echo reply, an unreachable error quoting our request, or
 * something else (undefined). IPv4 raw sockets deliver the IP header first; ping sockets do not.
 */
export function parseEcho(family: 4 | 6, data: Buffer, id: number | undefined, seq: number): Echo {
  let off = 0
  if (family === 4 && data.length >= 20 && data[0] !== undefined && data[0] >> 4 === 4) off = (data[0] & 0x0f) * 4
  if (data.length < off + 8) return undefined
  const type = data[off]
  const matches = (at: number) =>
    data.length >= at + 8 && (id === undefined || data.readUInt16BE(at + 4) === id) && data.readUInt16BE(at + 6) === seq
  if (type === ECHO_REPLY[family]) return matches(off) ? { kind: 'reply' } : undefined
  if (type === UNREACHABLE[family]) {
    // the error quotes our packet: its IP header, then our echo request's first 8 bytes
    const inner = off + 8
    const innerOff = family === 4 ? inner + ((data[inner] ?? 0) & 0x0f) * 4 : inner + 40
    if (data[innerOff] === ECHO_REQUEST[family] && matches(innerOff))
      return { kind: 'unreachable', code: data[off + 1] ?? 0 }
  }
  return undefined
}

/**
 * A raw IPv4 ICMP socket gets a copy of every ICMP packet the host receives. This filter keeps only
 * echo replies carrying our identifier and destination-unreachable errors, so many concurrent
 * checks do not each copy each other's replies. The packet seen starts at the IP header.
 */
export function echoFilter4(id: number): Buffer {
  return bpfProgram([
    insn(BPF_LDX | BPF_B | BPF_MSH, 0, 0, 0), // X = IP header length
    insn(BPF_LD | BPF_B | BPF_IND, 0, 0, 0), // A = ICMP type
    insn(BPF_JMP | BPF_JEQ | BPF_K, 0, 2, ECHO_REPLY[4]),
    insn(BPF_LD | BPF_H | BPF_IND, 0, 0, 4), // A = identifier
    insn(BPF_JMP | BPF_JEQ | BPF_K, 1, 2, id),
    insn(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, UNREACHABLE[4]),
    insn(BPF_RET | BPF_K, 0, 0, 0xffffffff),
    insn(BPF_RET | BPF_K, 0, 0, 0),
  ])
}

function open(family: 4 | 6, kind: IcmpOptions['socket']): { sock: Socket; raw: boolean } {
  const domain = family === 4 ? AF_INET : AF_INET6
  const proto = family === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6
  if (kind === 'ping') return { sock: Socket.open(domain, SOCK_DGRAM, proto), raw: false }
  try {
    return { sock: Socket.open(domain, SOCK_RAW, proto), raw: true }
  } catch (e) {
    if (kind === 'raw') throw e
    return { sock: Socket.open(domain, SOCK_DGRAM, proto), raw: false }
  }
}

function sockaddrOf(a: Addr): Buffer {
  if (a.family === 4) return sockaddrIn(a.bytes)
  return sockaddrIn6(a.bytes, a.zone ? { scopeId: ifNameToIndex(a.zone) } : {})
}

export function check(target: Target, o: IcmpOptions, signal: AbortSignal): Promise<Result> {
  return timed(signal, async () => {
    const dst = target.connectAddr ?? target.addr
    const { sock, raw } = open(dst.family, o.socket)
    try {
      if (target.bindInterface) sock.setOption(SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(`${target.bindInterface}\0`))
      if (target.sourceAddr) sock.bind(sockaddrOf(target.sourceAddr))
      // a ping socket rewrites the identifier to its own and only delivers our replies
      const id = raw ? randomInt(0, 0x10000) : undefined
      if (raw && id !== undefined && dst.family === 4) sock.attachFilter(echoFilter4(id))
      seqCounter = (seqCounter + 1) & 0xffff
      const seq = seqCounter
      const got = new Promise<Echo>((resolve, reject) => {
        sock.onReceive((m) => {
          const from = decodeSockaddr(m.from)
          const e = parseEcho(dst.family, m.data, id, seq)
          if (!e) return
          if (e.kind === 'reply' && !('addr' in from && sameAddr({ family: dst.family, bytes: from.addr }, dst))) return
          resolve(e)
        }, reject)
      })
      sock.send(echoRequest(dst.family, id ?? 0, seq, o.size ?? 56), sockaddrOf(dst))
      const e = await abortable(signal, got, () => sock.close())
      if (e?.kind === 'unreachable')
        throw new ProbeFailure('unreachable', `${formatAddr(dst)} unreachable (ICMP code ${e.code})`)
      return { detail: `echo reply from ${formatAddr(dst)}${raw ? '' : ' (ping socket)'}` }
    } finally {
      sock.close()
    }
  })
}
