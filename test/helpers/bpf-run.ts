// A classic BPF interpreter for the instructions lvsd's socket filters use, with the kernel's rules
// where they matter to a filter's verdict: a load out of bounds ends the program with 0 (drop),
// loads are big-endian, and SKF_NET_OFF + k reads the network header (what an IPv6 raw socket's
// data starts after). It lets the unit tier prove a program's verdicts; the netns tier proves the
// kernel agrees.
import { SKF_NET_OFF } from '../../src/sys/constants.js'

export interface Packet {
  /** What the socket's filter sees from offset 0 (IPv4 raw: the IP header on; IPv6 raw: the payload). */
  data: Uint8Array
  /** The network header, for SKF_NET_OFF loads. */
  net?: Uint8Array
}

const NET = SKF_NET_OFF >>> 0

function load(p: Packet, k: number, size: number): number | undefined {
  let buf = p.data
  let off = k
  if (k >= NET) {
    if (!p.net) return undefined
    buf = p.net
    off = k - NET
  }
  if (off < 0 || off + size > buf.length) return undefined
  let v = 0
  for (let i = 0; i < size; i++) v = v * 256 + (buf[off + i] ?? 0)
  return v >>> 0
}

/** Runs `program` (bpfProgram's bytes, little-endian host) over `p`: the bytes to keep, 0 to drop. */
export function runBpf(program: Buffer, p: Packet): number {
  const n = program.length / 8
  let a = 0
  let x = 0
  const mem = new Uint32Array(16)
  for (let pc = 0; pc < n; pc++) {
    const code = program.readUInt16LE(pc * 8)
    const jt = program[pc * 8 + 2] ?? 0
    const jf = program[pc * 8 + 3] ?? 0
    const k = program.readUInt32LE(pc * 8 + 4)
    const cls = code & 0x07
    const size = ({ 0: 4, 8: 2, 16: 1 } as Record<number, number>)[code & 0x18] ?? 4
    const mode = code & 0xe0
    switch (cls) {
      case 0x00: {
        // LD
        if (mode === 0x80) a = p.data.length
        else if (mode === 0x60) a = mem[k] ?? 0
        else if (mode === 0x00) a = k
        else {
          const v = load(p, mode === 0x40 ? (x + k) >>> 0 : k, size)
          if (v === undefined) return 0
          a = v
        }
        break
      }
      case 0x01: {
        // LDX
        if (mode === 0xa0) {
          const v = load(p, k, 1)
          if (v === undefined) return 0
          x = (v & 0xf) * 4
        } else if (mode === 0x60) x = mem[k] ?? 0
        else if (mode === 0x80) x = p.data.length
        else x = k
        break
      }
      case 0x02:
        mem[k] = a
        break
      case 0x03:
        mem[k] = x
        break
      case 0x04: {
        const src = code & 0x08 ? x : k
        const op = code & 0xf0
        if (op === 0x00) a = (a + src) >>> 0
        else if (op === 0x10) a = (a - src) >>> 0
        else if (op === 0x50) a = (a & src) >>> 0
        else throw new Error(`ALU op ${op.toString(16)} not interpreted`)
        break
      }
      case 0x05: {
        const op = code & 0xf0
        if (op === 0x00) {
          pc += k
          break
        }
        const src = code & 0x08 ? x : k
        const yes = op === 0x10 ? a === src : op === 0x20 ? a > src : op === 0x30 ? a >= src : (a & src) !== 0
        pc += yes ? jt : jf
        break
      }
      case 0x06:
        return code & 0x10 ? a : k
      case 0x07:
        if ((code & 0xf8) === 0x00) x = a
        else a = x
        break
    }
  }
  return 0
}
