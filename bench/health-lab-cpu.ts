// CPU accounting for the health benches' veth lab, so the prober is charged what a real network
// would charge it and nothing is hidden.
//
// Without help a veth lab bills the prober for the far end: veth_xmit hands each packet to the
// peer's backlog on the sending CPU, and that CPU runs the receive softirq when the sender's
// local_bh_enable() comes, still in the sender's context. On this kernel (tick accounting, no
// CONFIG_IRQ_TIME_ACCOUNTING) a tick that lands there goes to the current task's stime as well as to
// the CPU's softirq bucket, so the server's SYN processing, its SYN-ACK and the prober's receive of
// it were all the prober's "system" time. On real hardware those are another host's work and the
// NIC's softirq.
//
// rpsLab() pins the prober to one CPU and steers both veth ends' receive (RPS) to the other: every
// received packet is then processed in NET_RX softirq on that other CPU (IPI, then irq exit or
// ksoftirqd), like a NIC's interrupt and softirq. The prober keeps its own syscalls and the
// transmit path of its packets, which it would pay on real hardware too. The softirq CPU is read
// from /proc/stat, with the same window's idle-lab baseline subtracted, and reported beside it.
import { readFileSync } from 'node:fs'
import type { Lab } from '../test/helpers/netns.js'

/** The CPU the prober runs on, and the one receive processing is steered to. */
export const PROBER_CPU = 0
export const RX_CPU = 1

/** Steers receive processing of every rx queue of `dev` in namespace `ns` to RX_CPU (RPS). */
export function steerReceive(lab: Lab, ns: string, dev = 'eth0'): void {
  const mask = (1 << RX_CPU).toString(16)
  const q = lab
    .exec(ns, 'sh', ['-c', `ls -d /sys/class/net/${dev}/queues/rx-*`])
    .split('\n')
    .filter(Boolean)
  for (const dir of q) lab.exec(ns, 'sh', ['-c', `echo ${mask} > ${dir}/rps_cpus`])
}

/** Per-CPU counters from /proc/stat, in USER_HZ ticks. */
export interface CpuTicks {
  user: number
  system: number
  idle: number
  irq: number
  softirq: number
  /** Everything but idle and iowait. */
  busy: number
}

export function cpuTicks(): CpuTicks[] {
  const out: CpuTicks[] = []
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+) (.*)$/.exec(line)
    if (!m) continue
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = (m[2] as string)
      .split(' ')
      .map(Number)
    out[Number(m[1])] = {
      user: user + nice,
      system,
      idle: idle + iowait,
      irq,
      softirq,
      busy: user + nice + system + irq + softirq + steal,
    }
  }
  return out
}

/** NET_RX softirqs run so far on each CPU (/proc/softirqs): shows where receive processing happened. */
export function netRx(): number[] {
  const line = readFileSync('/proc/softirqs', 'utf8')
    .split('\n')
    .find((l) => l.trim().startsWith('NET_RX:'))
  return (line ?? '').trim().split(/\s+/).slice(1).map(Number)
}

/** utime + stime of a process (all its threads), in USER_HZ ticks. */
export function pidTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(f[11]) + Number(f[12])
}

const USER_HZ = 100

/** Share of one core per CPU spent in irq + softirq between two readings over `seconds`. */
export function irqShare(a: CpuTicks[], b: CpuTicks[], seconds: number): number[] {
  return b.map((x, i) => {
    const y = a[i] as CpuTicks
    return (x.irq + x.softirq - y.irq - y.softirq) / USER_HZ / seconds
  })
}

export function ticksToCores(ticks: number, seconds: number): number {
  return ticks / USER_HZ / seconds
}
