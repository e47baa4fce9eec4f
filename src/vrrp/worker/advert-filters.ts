// Which of a channel's three sockets an arriving advert lands in, decided by the kernel (classic
// BPF on each socket), so that the VRRP thread is not woken for what needs no decision at once.
// On this machine a wake-up costs a thread in proportion to its process's memory, not to the work
// it does (docs/benchmarks.md, "what a wake-up costs"): Node's 50-60 MiB make every one 0.45 ms,
// so the adverts that change nothing must not wake it at all.
//   foreign: another virtual router's advert (a VRID no instance on the channel runs), well formed up
//            to its VRID; read later, only to be counted (validate.ts would drop it as 'vrid').
//   repeat:  a byte-identical copy of an advert that an instance in BACKUP accepted last; read when
//            that instance's Master_Down timer comes due or anything else needs its state now.
//   main:    everything else, on the socket the thread polls: changes, other senders, malformed packets.
// The three programs are built from one Routes value and partition the packets: each one lands in
// exactly one socket. A foreign packet passes the checks validate() makes before the VRID, in
// its order, so its reason would be 'vrid' for every instance on the channel; an expected advert
// has TTL / hop limit 255 and one of the channel's VRIDs, so every other instance would drop it
// as 'vrid' too. The counts a deferred packet gets are therefore the ones it would have got at once.

import { type BpfInsn, bpfProgram, insn } from '../../sys/bpf.js'
import {
  BPF_ABS,
  BPF_ALU,
  BPF_AND,
  BPF_B,
  BPF_H,
  BPF_IND,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JMP,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_LEN,
  BPF_MEM,
  BPF_MISC,
  BPF_MSH,
  BPF_RET,
  BPF_ST,
  BPF_SUB,
  BPF_TAX,
  BPF_W,
  BPF_X,
  IPPROTO_VRRP,
  SKF_NET_OFF,
} from '../../sys/constants.js'

/** An advert to set aside when it comes again exactly: IPv4 the whole datagram, IPv6 the payload and its addresses. */
export type Expected =
  | { family: 4; datagram: Uint8Array }
  | { family: 6; payload: Uint8Array; src: Uint8Array; dst: Uint8Array }

export interface Routes {
  family: 4 | 6
  /** The VRIDs of the instances on the channel: any other is foreign. */
  vrids: readonly number[]
  expected: readonly Expected[]
}

export interface RoutePrograms {
  main: Buffer
  foreign: Buffer
  repeat: Buffer
}

/** More VRIDs than this on one channel: nothing is routed as foreign (the jumps would not fit). */
export const MAX_VRIDS = 200
/** A longer expected advert (over 24 IPv6 or about 90 IPv4 VIPs) is not set aside: its comparison would not fit BPF's 255-instruction jumps. */
export const MAX_EXPECTED_BYTES = 400

const KEEP = 0xffffffff
const NET = SKF_NET_OFF >>> 0

/** One instruction, or a label; jumps name labels ('' or absent: the next instruction). */
type Op = { code: number; k?: number; jt?: string; jf?: string } | { label: string }

const ld = (size: number, k: number): Op => ({ code: BPF_LD | size | BPF_ABS, k: k >>> 0 })
const jeq = (k: number, jt?: string, jf?: string): Op => ({ code: BPF_JMP | BPF_JEQ | BPF_K, k: k >>> 0, jt, jf })
const jge = (k: number, jt?: string, jf?: string): Op => ({ code: BPF_JMP | BPF_JGE | BPF_K, k, jt, jf })
const jgeX = (jt?: string, jf?: string): Op => ({ code: BPF_JMP | BPF_JGE | BPF_X, jt, jf })
const ja = (to: string): Op => ({ code: BPF_JMP | BPF_JA, jt: to })
const ret = (k: number): Op => ({ code: BPF_RET | BPF_K, k })
const label = (name: string): Op => ({ label: name })

/** Resolves labels into offsets. Throws when a conditional jump is longer than 255 instructions. */
export function assemble(ops: readonly Op[]): BpfInsn[] {
  const at = new Map<string, number>()
  let n = 0
  for (const o of ops) {
    if ('label' in o) at.set(o.label, n)
    else n++
  }
  const out: BpfInsn[] = []
  const offset = (to: string | undefined, from: number): number => {
    if (!to) return 0
    const target = at.get(to)
    if (target === undefined) throw new Error(`BPF label ${to} undefined`)
    const d = target - from - 1
    if (d < 0) throw new Error(`BPF jump to ${to} goes backwards`)
    return d
  }
  for (const o of ops) {
    if ('label' in o) continue
    const i = out.length
    if (o.code === (BPF_JMP | BPF_JA)) {
      out.push(insn(o.code, 0, 0, offset(o.jt, i)))
      continue
    }
    const jt = offset(o.jt, i)
    const jf = offset(o.jf, i)
    if (jt > 255 || jf > 255) throw new Error('BPF conditional jump longer than 255 instructions')
    out.push(insn(o.code, jt, jf, o.k ?? 0))
  }
  return out
}

/** Jumps to `yes` for a foreign advert, to `no` otherwise (validate()'s checks before the VRID, then the VRID). */
function foreign(r: Routes, yes: string, no: string): Op[] {
  if (r.vrids.length === 0 || r.vrids.length > MAX_VRIDS) return [ja(no)]
  const ours = r.vrids.map((v) => jeq(v, no))
  if (r.family === 6) {
    // the data is the VRRP header on; the hop limit is read from the IPv6 header before it
    return [
      { code: BPF_LD | BPF_W | BPF_LEN },
      jge(8, '', no),
      ld(BPF_B, NET + 7),
      jeq(255, '', no),
      ld(BPF_B, 1),
      ...ours,
      ja(yes),
    ]
  }
  return [
    { code: BPF_LD | BPF_W | BPF_LEN },
    jge(20, '', no),
    ld(BPF_B, 0),
    { code: BPF_ALU | BPF_AND | BPF_K, k: 0xf0 },
    jeq(0x40, '', no),
    ld(BPF_B, 0),
    { code: BPF_ALU | BPF_AND | BPF_K, k: 0x0f },
    jge(5, '', no),
    ld(BPF_B, 9),
    jeq(IPPROTO_VRRP, '', no),
    ld(BPF_B, 8),
    jeq(255, '', no),
    ld(BPF_H, 2), // the total length, kept in M[0] and X
    { code: BPF_ST, k: 0 },
    { code: BPF_MISC | BPF_TAX },
    { code: BPF_LD | BPF_W | BPF_LEN },
    jgeX('', no), // nothing cut off
    { code: BPF_LDX | BPF_B | BPF_MSH, k: 0 }, // X = the header length
    { code: BPF_LD | BPF_MEM, k: 0 },
    jgeX('', no),
    { code: BPF_ALU | BPF_SUB | BPF_X },
    jge(8, '', no), // the VRRP header's fixed part is there
    { code: BPF_LD | BPF_B | BPF_IND, k: 1 },
    ...ours,
    ja(yes),
  ]
}

/** Word-by-word equality of `bytes` at `base` (an absolute offset; NET + n reads the network header). */
function equal(bytes: Uint8Array, base: number, no: string, skip: (off: number) => boolean = () => false): Op[] {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out: Op[] = []
  for (let off = 0; off < b.length; ) {
    const left = b.length - off
    const size = left >= 4 && !skip(off) && !skip(off + 2) ? 4 : left >= 2 && !skip(off) ? 2 : 1
    if (skip(off)) {
      off += 2
      continue
    }
    const value = size === 4 ? b.readUInt32BE(off) : size === 2 ? b.readUInt16BE(off) : (b[off] ?? 0)
    out.push(ld(size === 4 ? BPF_W : size === 2 ? BPF_H : BPF_B, base + off), jeq(value, '', no))
    off += size
  }
  return out
}

/** Jumps to `yes` for an exact copy of `e`, to `no` otherwise. */
function repeat(e: Expected, yes: string, no: string): Op[] {
  const lengthIs = (n: number): Op[] => [{ code: BPF_LD | BPF_W | BPF_LEN }, jeq(n, '', no)]
  if (e.family === 4) {
    // every byte but the IPv4 identification and header checksum, which change with each datagram
    return [...lengthIs(e.datagram.length), ...equal(e.datagram, 0, no, (off) => off === 4 || off === 10), ja(yes)]
  }
  return [
    ...lengthIs(e.payload.length),
    ld(BPF_B, NET + 7),
    jeq(255, '', no),
    ...equal(e.src, NET + 8, no),
    ...equal(e.dst, NET + 24, no),
    ...equal(e.payload, 0, no),
    ja(yes),
  ]
}

/** Whether `e` can be set aside: hop limit 255 (the partition's premise) and short enough to compare. */
export function expectable(e: Expected): boolean {
  if (e.family === 6) return e.payload.length <= MAX_EXPECTED_BYTES && e.payload.length >= 8
  const d = e.datagram
  return d.length <= MAX_EXPECTED_BYTES && d.length >= 28 && d[8] === 255 && d[9] === IPPROTO_VRRP
}

/** Jumps to `yes` for a copy of any expected advert, to `no` otherwise. */
function anyRepeat(r: Routes, yes: string, no: string): Op[] {
  const out: Op[] = []
  r.expected.filter(expectable).forEach((e, i) => {
    out.push(...repeat(e, yes, `next${i}`), label(`next${i}`))
  })
  return [...out, ja(no)]
}

/** The three sockets' programs for `r`. */
export function routePrograms(r: Routes): RoutePrograms {
  const build = (ops: Op[]) => bpfProgram(assemble(ops))
  return {
    main: build([
      ...foreign(r, 'drop', 'ours'),
      label('ours'),
      ...anyRepeat(r, 'drop', 'keep'),
      label('keep'),
      ret(KEEP),
      label('drop'),
      ret(0),
    ]),
    foreign: build([...foreign(r, 'keep', 'drop'), label('keep'), ret(KEEP), label('drop'), ret(0)]),
    repeat: build([
      ...foreign(r, 'drop', 'ours'),
      label('ours'),
      ...anyRepeat(r, 'keep', 'drop'),
      label('keep'),
      ret(KEEP),
      label('drop'),
      ret(0),
    ]),
  }
}
