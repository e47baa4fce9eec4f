// Classic BPF programs (<linux/filter.h> struct sock_filter) as bytes for Socket.attachFilter.
import { BPF_K, BPF_RET } from './constants.js'
import { putU16h, putU32h } from './hostorder.js'

export interface BpfInsn {
  code: number
  jt: number
  jf: number
  k: number
}

export function insn(code: number, jt: number, jf: number, k: number): BpfInsn {
  return { code, jt, jf, k }
}

/** Packs instructions (8 bytes each: code u16, jt u8, jf u8, k u32, host order). */
export function bpfProgram(insns: readonly BpfInsn[]): Buffer {
  const b = Buffer.alloc(insns.length * 8)
  insns.forEach((i, n) => {
    putU16h(b, i.code, n * 8)
    b[n * 8 + 2] = i.jt
    b[n * 8 + 3] = i.jf
    putU32h(b, i.k, n * 8 + 4)
  })
  return b
}

/** A program that drops every packet (returns 0 bytes to keep). */
export function dropAll(): Buffer {
  return bpfProgram([insn(BPF_RET | BPF_K, 0, 0, 0)])
}

/** A program that accepts every packet whole. */
export function acceptAll(): Buffer {
  return bpfProgram([insn(BPF_RET | BPF_K, 0, 0, 0xffffffff)])
}
