// The director's peer half (docs/peer.md): the channel to the other director of the pair, the shared
// operator state (persisted, merged, applied here through a hook), the peer's health view, config
// fingerprints and drift, and the connection comparison. Nothing here touches VRRP election: the
// channel going down changes no VRRP state, and the only VRRP input is an operator's release of THIS
// node, which an operator asked for (on either node) and which survives a restart.
import { randomInt } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { backgroundClock, type Clock } from '../clock.js'
import type { Config } from '../config/types.js'
import type { EventBus } from '../events.js'
import type { Logger } from '../log.js'
import { formatAddr } from '../net/addr.js'
import { PeerChannel } from '../peer/channel.js'
import { type Drift, drift, fingerprint } from '../peer/fingerprint.js'
import { readKeyFile } from '../peer/key-file.js'
import { PeerLink } from '../peer/link.js'
import type { PeerBody, PeerHealth, PeerInstance, PeerSyncRole } from '../peer/message.js'
import { type OpEntry, OperatorState, type OpValue, parseKey } from '../peer/operator-state.js'
import { Watch } from '../peer/watch.js'
import { writeStateFile } from '../sys/state-file.js'
import type { HeardAdvert } from '../vrrp/messages.js'
import { stableJson } from './config-changes.js'
import { seenMaster } from './peer-master.js'
import type { PeerStatus, Status } from './types.js'

export type PeerConfig = NonNullable<Config['peer']>

/** What the director gives the peer side: its current view, and how to apply a replicated action. */
export interface PeerSideHooks {
  events: EventBus
  /** Applies a drain, weight or (this node's) release; unknown targets are ignored. */
  apply(kind: 'drain' | 'weight' | 'release', target: string, v: OpValue): Promise<void>
  snapshot(): {
    health: Record<string, PeerHealth>
    instances: Record<string, PeerInstance>
    sync: PeerSyncRole
    conns: Record<string, number>
  }
  /** fall × interval of a server's checks (ms): how long views may differ before it is an event. */
  disagreeAfterMs(serverId: string): number
  /** Reads the kernel's counters again if they are old (the connection comparison needs them). */
  refresh(): Promise<void>
}

/** The parts of the config that must match on both nodes (node name, priority, unicast source excluded). */
export function configFingerprints(c: Config): Record<string, string> {
  const out: Record<string, string> = {}
  for (const s of c.virtual_services) out[`service:${s.name}`] = fingerprint(s)
  for (const i of c.vrrp.instances)
    out[`instance:${i.name}`] = fingerprint({
      vrid: i.vrid,
      vips: i.vips.map((v) => v.address),
      interval: i.advert_interval,
      version: i.version,
      auth: i.authentication,
      family: i.family,
    })
  const s = c.ipvs.sync
  if (s)
    out.sync = fingerprint({
      sync_id: s.sync_id,
      group: s.group,
      port: s.port,
      ttl: s.ttl,
      maxlen: s.maxlen,
      follow: s.follow,
    })
  return out
}

interface Heard {
  node: string
  body: PeerBody
  /** monotonic ms, wall ms */
  mono: number
  wall: number
}

export class PeerSide {
  readonly state: OperatorState
  private link: PeerLink
  private channel: PeerChannel | undefined
  private timer: unknown
  private heard: Heard | undefined
  private up = false
  private rttMs: number | undefined
  private driftNow: Drift[] = []
  private driftKey = '[]'
  private fingerprints: Record<string, string>
  private readonly watch: Watch
  private readonly boot = Date.now()
  private stopped = false

  constructor(
    private cfg: PeerConfig,
    private readonly node: string,
    private readonly version: string,
    private readonly log: Logger,
    private readonly hooks: PeerSideHooks,
    config: Config,
    /** The interval's timers and the monotonic time of liveness and RTT (virtual in unit tests). */
    private readonly clock: Clock = backgroundClock,
  ) {
    this.link = this.newLink()
    this.fingerprints = configFingerprints(config)
    this.state = new OperatorState(this.load())
    this.watch = new Watch(() => this.disagreeCfg())
  }

  private newLink(): PeerLink {
    const key = readKeyFile(this.cfg.key_file)
    return new PeerLink({ node: this.node, key, boot: this.boot, nonce: randomInt(0, 0xffffffff) })
  }

  private disagreeCfg() {
    return { after: this.hooks.disagreeAfterMs, connsAfter: this.cfg.conns_after, ratio: this.cfg.conns_ratio }
  }

  /** Applies the saved state of these kinds (drains and weights before the first IPVS pass, releases after VRRP starts). */
  async applySaved(kinds: readonly ('drain' | 'weight' | 'release')[]): Promise<void> {
    for (const [key, e] of Object.entries(this.state.toJSON()))
      if (kinds.includes(parseKey(key)?.kind ?? ('' as never))) await this.applyEntry(key, e, false)
  }

  /** Opens the channel and starts the interval. */
  async open(): Promise<void> {
    const c = this.cfg
    this.channel = await PeerChannel.open({
      family: c.address.family,
      source: c.source ? formatAddr(c.source) : undefined,
      port: c.port,
      peer: formatAddr(c.address),
      onDatagram: (buf, source) => this.onDatagram(buf, source),
    })
    this.log.info({ peer: formatAddr(c.address), port: c.port }, 'peer channel open')
    this.send(true)
    this.arm()
  }

  /** The next tick one interval from now (re-armed after each, so a reload's interval applies). */
  private arm(): void {
    this.timer = this.clock.set(() => {
      this.timer = undefined
      if (this.stopped) return
      this.tick()
      this.arm()
    }, this.cfg.interval)
  }

  /** A reload: new fingerprints at once; a changed address, port or key reopens the channel. */
  async reload(before: Config, after: Config, cfg: PeerConfig): Promise<void> {
    this.fingerprints = configFingerprints(after)
    const same = stableJson(before.peer) === stableJson(after.peer)
    const old = this.cfg
    this.cfg = cfg
    if (!same) {
      // the new key first: an unsafe key file leaves the running channel as it was
      let link: PeerLink
      try {
        link = this.newLink()
      } catch (e) {
        this.cfg = old
        throw e
      }
      this.close()
      this.stopped = false
      this.link = link
      await this.open()
    } else this.send(false)
    this.updateDrift()
  }

  /** An operator acted here: record, persist, tell the peer now. */
  local(key: string, v: OpValue): void {
    const prev = this.state.get(key)
    const e = this.state.setLocal(key, v, this.node, Date.now())
    if (e === prev) return
    this.persist()
    this.send(false)
  }

  private tick(): void {
    const alive = this.heard !== undefined && this.clock.now() - this.heard.mono < this.cfg.dead_after
    if (alive !== this.up) this.setUp(alive)
    void this.hooks
      .refresh()
      .catch(() => {})
      .then(() => {
        if (this.stopped) return
        this.send(true)
        if (this.heard && this.up) this.watched(this.hooks.snapshot(), this.heard.body)
      })
  }

  private watched(mine: ReturnType<PeerSideHooks['snapshot']>, theirs: PeerBody): void {
    for (const c of this.watch.compare(mine, theirs, this.clock.now())) {
      if (c.kind === 'conns') {
        this.hooks.events.publish('peer.conns', {
          service: c.service,
          here: c.here,
          master: c.master,
          lagging: c.lagging,
        })
        continue
      }
      const i = c.id.indexOf('/')
      this.hooks.events.publish('peer.health', {
        service: c.id.slice(0, i),
        server: c.id.slice(i + 1),
        here: c.here,
        peer: c.peer,
        disagree: c.disagree,
      })
    }
  }

  private setUp(up: boolean): void {
    this.up = up
    this.hooks.events.publish('peer.channel', {
      state: up ? 'up' : 'down',
      peer: this.heard?.node ?? '',
      address: formatAddr(this.cfg.address),
    })
  }

  private send(ask: boolean): void {
    if (!this.channel || this.stopped) return
    const snap = this.hooks.snapshot()
    try {
      const buf = this.link.seal(
        {
          version: this.version,
          ask,
          ops: this.state.toJSON(),
          health: snap.health,
          fingerprints: this.fingerprints,
          instances: snap.instances,
          sync: snap.sync,
          conns: snap.conns,
        },
        Date.now(),
        this.clock.now(),
      )
      this.channel.send(buf)
    } catch (e) {
      this.log.error({ err: String(e) }, 'peer message cannot be sent')
    }
  }

  private onDatagram(buf: Buffer, source: string): void {
    if (this.stopped) return
    const r = this.link.receive(buf, source, Date.now(), this.clock.now())
    if (!r.ok) {
      if (r.firstFromSource)
        this.hooks.events.publish('peer.drop', {
          reason: r.reason,
          source,
          ...(r.detail ? { detail: r.detail.slice(0, 200) } : {}),
        })
      return
    }
    if (r.rttMs !== undefined) this.rttMs = r.rttMs
    this.heard = { node: r.node, body: r.body, mono: this.clock.now(), wall: Date.now() }
    if (!this.up) this.setUp(true)
    if (r.body.ask) this.send(false)
    const changed = this.state.merge(r.body.ops)
    if (changed.length > 0) {
      this.persist()
      void (async () => {
        for (const key of changed) {
          const e = this.state.get(key)
          if (e) await this.applyEntry(key, e, true)
        }
      })().catch((err) => this.log.error({ err: String(err) }, 'replicated operator action failed'))
    }
    this.updateDrift()
  }

  private async applyEntry(key: string, e: OpEntry, fromPeer: boolean): Promise<void> {
    const k = parseKey(key)
    if (!k) return
    if (k.kind === 'release' && k.node !== this.node) return
    await this.hooks.apply(k.kind, k.target, e.v)
    if (fromPeer) this.hooks.events.publish('peer.operator', { key, value: e.v, node: e.node, version: e.ver })
  }

  private updateDrift(): void {
    if (!this.heard) return
    const d = drift(this.fingerprints, this.heard.body.fingerprints)
    const key = JSON.stringify(d)
    this.driftNow = d
    if (key === this.driftKey) return
    this.driftKey = key
    this.hooks.events.publish('peer.drift', { peer: this.heard.node, differs: d })
  }

  /**
   * Saved as every state file is (src/sys/state-file.ts): atomically, never through a symlink, only in a
   * directory no other user can change; a crash leaves the old state or the new, never half.
   */
  private persist(): void {
    const file = this.cfg.state_file
    try {
      writeStateFile(file, `${JSON.stringify({ node: this.node, ops: this.state.toJSON() })}\n`, 0o640)
    } catch (e) {
      this.log.error({ file, err: String(e) }, 'cannot save the operator state')
    }
  }

  private load(): Record<string, OpEntry> | undefined {
    const file = this.cfg.state_file
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      return undefined
    }
    try {
      const j = JSON.parse(text) as { ops?: Record<string, OpEntry> }
      if (j && typeof j.ops === 'object' && j.ops !== null) return j.ops
    } catch {
      // fall through: the peer will teach it again
    }
    this.log.warn({ file }, 'operator state file unreadable: starting empty, the peer will teach it again')
    return undefined
  }

  /** The peer's health of a server (for status side by side), when heard. */
  peerHealth(serverId: string): PeerHealth | undefined {
    return this.up ? this.heard?.body.health[serverId] : undefined
  }

  /** The pair as this node sees it; `adverts`: the last advert each local instance accepted. */
  status(here: ReturnType<PeerSideHooks['snapshot']>, adverts: Record<string, HeardAdvert> = {}): PeerStatus {
    const h = this.heard
    const b = h?.body
    const link = this.link
    const names = new Set([...Object.keys(here.instances), ...Object.keys(b?.instances ?? {})])
    return {
      address: formatAddr(this.cfg.address),
      port: this.cfg.port,
      channel: !h ? 'never' : this.up ? 'up' : 'down',
      ...(h ? { node: h.node, lastHeard: h.wall } : {}),
      ...(b ? { version: b.version } : {}),
      ...(this.rttMs === undefined ? {} : { rttMs: Math.round(this.rttMs * 1000) / 1000 }),
      sent: link.sent,
      received: link.accepted,
      drops: { ...link.drops },
      sendErrors: this.channel?.sendErrors ?? 0,
      drift: this.driftNow,
      instances: [...names].sort().map((name) => {
        const mine = here.instances[name]
        const theirs = this.up ? b?.instances[name] : undefined
        const master = seenMaster({
          node: this.node,
          mine,
          peerNode: h?.node,
          peerAddress: formatAddr(this.cfg.address),
          theirs,
          peerHeard: h?.wall,
          advert: adverts[name],
          now: Date.now(),
        })
        return {
          name,
          ...(mine ? { here: mine.state } : {}),
          ...(theirs ? { peer: theirs.state } : {}),
          ...(master ? { master } : {}),
        }
      }),
      sync: { here: here.sync, ...(b && this.up ? { peer: b.sync } : {}) },
      conns: Object.keys({ ...here.conns, ...(b?.conns ?? {}) })
        .sort()
        .map((service) => ({
          service,
          ...(here.conns[service] === undefined ? {} : { here: here.conns[service] }),
          ...(b?.conns[service] === undefined || !this.up ? {} : { peer: b.conns[service] }),
          lagging: this.watch.lagging(service),
        })),
      healthDisagree: this.watch
        .disagreements()
        .map((d) => ({ server: d.id, here: d.here, peer: d.peer, reported: d.reported })),
      operator: this.state.toJSON(),
    }
  }

  /** The status with the peer's part filled in: the peer section and each server's peer health. */
  decorate(s: Status): Status {
    for (const svc of s.services)
      for (const r of svc.servers) {
        const h = this.peerHealth(`${svc.name}/${r.server}`)
        if (h) r.peerHealth = h
      }
    const adverts: Record<string, HeardAdvert> = {}
    for (const i of s.instances) if (i.lastAdvert) adverts[i.name] = i.lastAdvert
    return { ...s, peer: this.status(this.hooks.snapshot(), adverts) }
  }

  close(): void {
    this.stopped = true
    if (this.timer !== undefined) this.clock.clear(this.timer)
    this.timer = undefined
    this.channel?.close()
    this.channel = undefined
  }
}
