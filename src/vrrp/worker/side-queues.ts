// The two sockets beside a channel's polled one that the kernel routes adverts into
// (advert-filters.ts): another router's adverts and exact repeats, read only when asked.
import { dropAll } from '../../sys/bpf.js'
import * as C from '../../sys/constants.js'
import { u32h } from '../../sys/hostorder.js'
import { type SilenceEvents, SilenceTimer } from '../../sys/silence-timer.js'
import type { Socket } from '../../sys/socket.js'
import type { ReceivedDatagram } from '../../sys/types.js'
import type { RoutePrograms } from './advert-filters.js'

/** What the kernel set aside since the last take, oldest first in each list. */
export interface AsideTaken {
  repeats: ReceivedDatagram[]
  /**
   * Exact repeats the silence timer read before the first of `repeats` and did not keep (each the
   * same datagram): the first stands for 1 + skipped.
   */
  skipped: number
  foreign: ReceivedDatagram[]
  /**
   * Packets the kernel dropped since the last full take because one of the channel's three
   * queues was full. An upper bound: a full raw socket counts every packet of its protocol it
   * could not take, its filter's rejects included (measured: 29,810 counted for ~20,000 foreign).
   */
  queueFull: number
}

/** A socket's count of datagrams it dropped (SO_MEMINFO's SK_MEMINFO_DROPS). */
function dropsOf(s: Socket): number {
  return u32h(s.getOption(C.SOL_SOCKET, C.SO_MEMINFO, 4 * (C.SK_MEMINFO_DROPS + 1)), 4 * C.SK_MEMINFO_DROPS)
}

export class SideQueues {
  /** The three sockets' drop counts at the last full take: cumulative, 32 bits each. */
  private drops: [number, number, number]
  /** Master_Down over the repeat queue, read in C++ (native/silence.cc); opened when first asked for. */
  private silenceTimer: SilenceTimer | undefined
  private silenceEvents: SilenceEvents | undefined

  private constructor(
    private readonly main: Socket,
    private readonly foreign: Socket,
    private readonly repeat: Socket,
  ) {
    this.drops = [dropsOf(main), dropsOf(foreign), dropsOf(repeat)]
  }

  /** The repeat queue's socket: with the main one, what a takeover reads before it acts (Channel.queuedFds). */
  get repeatFd(): number {
    return this.repeat.fd
  }

  /** Two sockets like `main` (`open` makes one), each filtered before it is ever read. */
  static open(main: Socket, open: () => Socket): SideQueues {
    const quiet = (): Socket => {
      const s = open()
      try {
        // a raw socket hears every VRRP packet from its creation: nothing before its filter counts
        s.attachFilter(dropAll())
        s.receiveAll()
        return s
      } catch (e) {
        s.close()
        throw e
      }
    }
    const foreign = quiet()
    try {
      return new SideQueues(main, foreign, quiet())
    } catch (e) {
      foreign.close()
      throw e
    }
  }

  route(p: RoutePrograms): void {
    this.main.attachFilter(p.main)
    this.foreign.attachFilter(p.foreign)
    this.repeat.attachFilter(p.repeat)
  }

  /** The silence timer on the repeat queue (one per channel): `events` replace the last caller's. */
  silence(events: SilenceEvents): SilenceTimer {
    this.silenceEvents = events
    this.silenceTimer ??= new SilenceTimer(this.repeat.fd, {
      due: () => this.silenceEvents?.due(),
      failed: (err) => this.silenceEvents?.failed(err),
    })
    return this.silenceTimer
  }

  /** The repeats set aside (what the silence timer read first); with `all` the foreign adverts and the drop counts too. Copies. */
  take(all: boolean): AsideTaken {
    const held = this.silenceTimer?.take()
    const repeats = this.repeat.receiveAll()
    let skipped = 0
    if (held?.newest) {
      repeats.unshift(held.newest)
      skipped = held.count - 1
    }
    if (!all) return { repeats, skipped, foreign: [], queueFull: 0 }
    const foreign = this.foreign.receiveAll()
    // the sockets' own counts: a datagram's SO_RXQ_OVFL tells only of drops before it was queued
    const now: [number, number, number] = [dropsOf(this.main), dropsOf(this.foreign), dropsOf(this.repeat)]
    let queueFull = 0
    for (let i = 0; i < 3; i++) queueFull += ((now[i] ?? 0) - (this.drops[i] ?? 0)) >>> 0
    this.drops = now
    return { repeats, skipped, foreign, queueFull }
  }

  close(): void {
    this.silenceTimer?.close()
    this.silenceTimer = undefined
    this.foreign.close()
    this.repeat.close()
  }
}
