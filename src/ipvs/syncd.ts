// Kernel-wide IPVS settings from desired state: the connection timeouts (`ipvsadm --set tcp tcpfin udp`) and
// the connection-sync daemons, switched with the VRRP role the way keepalived does (entering master: stop
// backup, start master; leaving: the reverse), idempotent against what GET_DAEMON reports.
import { isLvsdError, LvsdError } from '../errors.js'
import { type Addr, formatAddr, isMulticast, sameAddr } from '../net/addr.js'
import type { IpvsClient } from './client.js'
import type { SyncDaemon, Timeouts } from './domain.js'

export type SyncRole = 'master' | 'backup' | 'none'

/** One sync configuration for both roles (what keepalived's lvs_sync_daemon line sets). */
export interface SyncdConfig {
  readonly ifname: string
  /** 0–255; a backup with id 0 accepts every master's messages. */
  readonly syncId: number
  /** Message size; kernel default 1472 for a master, from the MTU for a backup. */
  readonly maxLen?: number
  /** IPv4 or IPv6 multicast group; kernel default 224.0.0.81. */
  readonly group?: Addr
  /** UDP port; kernel default 8848. */
  readonly port?: number
  /** Multicast TTL; kernel default 1. */
  readonly ttl?: number
}

export type SyncOps = Pick<IpvsClient, 'listDaemons' | 'startDaemon' | 'stopDaemon'>
export type TimeoutOps = Pick<IpvsClient, 'getTimeouts' | 'setTimeouts'>

export interface SyncAction {
  readonly action: 'start' | 'stop'
  readonly state: SyncDaemon['state']
}

/** Sets the timeouts that differ from the kernel's (0 = leave as is); returns whether SET_CONFIG was sent. */
export async function ensureTimeouts(c: TimeoutOps, want: Timeouts): Promise<boolean> {
  const have = await c.getTimeouts()
  const differs = (['tcp', 'tcpFin', 'udp'] as const).some((k) => want[k] !== 0 && want[k] !== have[k])
  if (differs) await c.setTimeouts(want)
  return differs
}

function invalid(msg: string, details: Record<string, unknown>): LvsdError {
  return new LvsdError('LVSD_IPVS_TABLE_INVALID', msg, details)
}

/** Checks a sync configuration before any command (the kernel's own refusals are terse EINVALs). */
export function validateSyncConfig(s: SyncdConfig): void {
  if (s.ifname === '' || s.ifname.length > 15) throw invalid(`sync interface "${s.ifname}" is not a valid name`, {})
  if (!Number.isInteger(s.syncId) || s.syncId < 0 || s.syncId > 255) {
    throw invalid(`sync id ${s.syncId} is outside 0–255`, { syncId: s.syncId })
  }
  if (s.group && !isMulticast(s.group)) {
    throw invalid(`sync group ${formatAddr(s.group)} is not multicast`, { group: formatAddr(s.group) })
  }
  if (s.port !== undefined && (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535)) {
    throw invalid(`sync port ${s.port} is outside 1–65535`, { port: s.port })
  }
  if (s.ttl !== undefined && (!Number.isInteger(s.ttl) || s.ttl < 1 || s.ttl > 255)) {
    throw invalid(`sync ttl ${s.ttl} is outside 1–255`, { ttl: s.ttl })
  }
  if (s.maxLen !== undefined && (!Number.isInteger(s.maxLen) || s.maxLen < 1 || s.maxLen > 65535 - 28)) {
    throw invalid(`sync maxlen ${s.maxLen} is outside 1–65507`, { maxLen: s.maxLen })
  }
}

/** Whether a running daemon is the configured one (unset options take whatever default the kernel chose). */
export function matches(d: SyncDaemon, s: SyncdConfig): boolean {
  if (d.ifname !== s.ifname || d.syncId !== s.syncId) return false
  if (s.maxLen !== undefined && d.maxLen !== s.maxLen) return false
  if (s.group && !(d.group && sameAddr(d.group, s.group))) return false
  if (s.port !== undefined && d.port !== s.port) return false
  return s.ttl === undefined || d.ttl === s.ttl
}

/**
 * Switches the kernel's sync daemons with the director's role. Calls are serialized; each reads GET_DAEMON
 * and sends only what differs: a daemon of the wrong role is stopped, one with another configuration is
 * restarted, a matching one is left running.
 */
export class SyncDaemons {
  private chain: Promise<unknown> = Promise.resolve()
  private current: SyncRole | undefined

  constructor(
    private readonly c: SyncOps,
    private readonly cfg: SyncdConfig,
    private readonly onAction?: (a: SyncAction & { ok: boolean; error?: LvsdError }) => void,
  ) {
    validateSyncConfig(cfg)
  }

  /** The role last applied (undefined before the first setRole). */
  get role(): SyncRole | undefined {
    return this.current
  }

  setRole(role: SyncRole): Promise<SyncAction[]> {
    const run = () => this.apply(role)
    const p = this.chain.then(run, run)
    this.chain = p.catch(() => undefined)
    return p
  }

  private async apply(role: SyncRole): Promise<SyncAction[]> {
    const running = await this.c.listDaemons()
    const done: SyncAction[] = []
    const want = role === 'none' ? undefined : role
    // stop first: entering master stops the backup before the master starts (and the reverse)
    for (const d of running) {
      if (d.state === want && matches(d, this.cfg)) continue
      await this.step({ action: 'stop', state: d.state }, () => this.c.stopDaemon(d.state), done)
    }
    if (want && !running.some((d) => d.state === want && matches(d, this.cfg))) {
      const d: SyncDaemon = { state: want, ...this.cfg }
      await this.step({ action: 'start', state: want }, () => this.c.startDaemon(d), done)
    }
    this.current = role
    return done
  }

  private async step(a: SyncAction, f: () => Promise<void>, done: SyncAction[]): Promise<void> {
    try {
      await f()
    } catch (e) {
      if (isLvsdError(e)) this.onAction?.({ ...a, ok: false, error: e })
      throw e
    }
    done.push(a)
    this.onAction?.({ ...a, ok: true })
  }
}
