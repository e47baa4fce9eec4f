// One end of the peer channel without the socket (docs/peer.md §Security): seals outgoing bodies
// (this run's epoch, the next sequence number, the MAC) and judges incoming datagrams. A datagram is
// acted on only when it is authentic, well formed, from the other node, fresh and newer than every
// message accepted before; everything else is counted by reason and reported once per source and
// reason (the caller logs it). Also measures the round trip from acks. Clocks are arguments.
import { encode, open, TYPE_STATE } from './codec.js'
import { type PeerBody, parseBody } from './message.js'
import { ReplayGuard } from './replay.js'

export type PeerDropReason = 'auth' | 'malformed' | 'replay' | 'stale' | 'reflected' | 'type'
export const DROP_REASONS: readonly PeerDropReason[] = ['auth', 'malformed', 'replay', 'stale', 'reflected', 'type']

export type PeerReceived =
  | { ok: true; node: string; seq: number; body: PeerBody; rttMs?: number }
  | { ok: false; reason: PeerDropReason; firstFromSource: boolean; detail?: string }

export interface LinkOptions {
  node: string
  key: Buffer
  /** Wall-clock ms when this run started, and a random 32-bit nonce: together this run's epoch. */
  boot: number
  nonce: number
  /** Freshness window for sentAt, ms (default 30 s). */
  windowMs?: number
}

export class PeerLink {
  readonly drops: Record<PeerDropReason, number> = { auth: 0, malformed: 0, replay: 0, stale: 0, reflected: 0, type: 0 }
  accepted = 0
  sent = 0
  private seq = 0
  private readonly guard: ReplayGuard
  /** seq → monotonic send time of the recent messages that asked for an answer. */
  private readonly asked = new Map<number, number>()
  private readonly reported = new Set<string>()
  /** The last message accepted from the peer, and when (monotonic): the next message acks it. */
  private lastIn: { seq: number; at: number } | undefined

  constructor(private readonly o: LinkOptions) {
    this.guard = new ReplayGuard(o.windowMs ?? 30_000)
  }

  /** The datagram for `body` (ack filled in from the last message received). */
  seal(body: Omit<PeerBody, 'ack'>, nowWall: number, nowMono: number): Buffer {
    this.seq += 1
    const full: PeerBody = {
      ...body,
      ...(this.lastIn ? { ack: { seq: this.lastIn.seq, heldMs: Math.round(nowMono - this.lastIn.at) } } : {}),
    }
    if (body.ask) {
      this.asked.set(this.seq, nowMono)
      if (this.asked.size > 32) this.asked.delete(this.asked.keys().next().value as number)
    }
    this.sent += 1
    return encode(
      {
        type: TYPE_STATE,
        node: this.o.node,
        boot: this.o.boot,
        nonce: this.o.nonce,
        seq: this.seq,
        sentAt: Math.floor(nowWall),
        body: full,
      },
      this.o.key,
    )
  }

  receive(buf: Buffer, source: string, nowWall: number, nowMono: number): PeerReceived {
    const drop = (reason: PeerDropReason, detail?: string): PeerReceived => {
      this.drops[reason] += 1
      const k = `${source} ${reason}`
      const firstFromSource = !this.reported.has(k)
      if (firstFromSource && this.reported.size < 1024) this.reported.add(k)
      return { ok: false, reason, firstFromSource, ...(detail ? { detail } : {}) }
    }
    const o = open(buf, this.o.key)
    if (!o.ok) return drop(o.reason, o.error?.message)
    const e = o.value
    if (e.type !== TYPE_STATE) return drop('type', `type ${e.type}`)
    if (e.node === this.o.node) return drop('reflected', 'carries this node’s own name')
    let body: PeerBody
    try {
      body = parseBody(e.body)
    } catch (err) {
      return drop('malformed', (err as Error).message)
    }
    const v = this.guard.check(e.node, e, nowWall)
    if (v !== 'ok') return drop(v)
    this.accepted += 1
    this.lastIn = { seq: e.seq, at: nowMono }
    let rttMs: number | undefined
    const at = body.ack ? this.asked.get(body.ack.seq) : undefined
    if (body.ack && at !== undefined) {
      rttMs = Math.max(0, nowMono - at - body.ack.heldMs)
      this.asked.delete(body.ack.seq)
    }
    return { ok: true, node: e.node, seq: e.seq, body, ...(rttMs === undefined ? {} : { rttMs }) }
  }
}
