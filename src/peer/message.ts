// The body of a peer state message (docs/peer.md §Messages): everything one director tells the other
// each interval and on every operator action. parseBody() checks the shape of an authenticated body
// field by field; anything else is LVSD_DECODE_INVALID (the message is dropped and counted, never acted on).
import { LvsdError } from '../errors.js'
import { type OpEntry, validEntry } from './operator-state.js'

export type PeerHealth = 'up' | 'down' | 'unchecked'
export type PeerSyncRole = 'master' | 'backup' | 'none'

export interface PeerInstance {
  state: 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT'
  priority: number
  effectivePriority: number
  /** Advert interval, ms. */
  advertMs: number
  /** The address adverts go out from (unicast source or the interface's), when known. */
  address?: string
}

export interface PeerBody {
  /** lvsd version of the sender. */
  version: string
  /** The sender wants an immediate answer (it measures the round trip). */
  ask: boolean
  /** The last message the sender accepted from the addressee, and how long it held it before this answer. */
  ack?: { seq: number; heldMs: number }
  ops: Record<string, OpEntry>
  /** Health per server id (service/address:port). */
  health: Record<string, PeerHealth>
  /** Config fingerprints: service:NAME, instance:NAME, sync. */
  fingerprints: Record<string, string>
  instances: Record<string, PeerInstance>
  sync: PeerSyncRole
  /** Connections (active + inactive) per service in the sender's kernel. */
  conns: Record<string, number>
}

const bad = (what: string): never => {
  throw new LvsdError('LVSD_DECODE_INVALID', `peer message: ${what}`)
}

function record<T>(x: unknown, what: string, ok: (v: unknown) => v is T, max = 100_000): Record<string, T> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return bad(what)
  const entries = Object.entries(x as Record<string, unknown>)
  if (entries.length > max) bad(`${what}: too many entries`)
  for (const [k, v] of entries) if (k.length > 300 || !ok(v)) bad(`${what}.${k.slice(0, 40)}`)
  return x as Record<string, T>
}

const isHealth = (v: unknown): v is PeerHealth => v === 'up' || v === 'down' || v === 'unchecked'
const isHex = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{1,64}$/.test(v)
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
const STATES = new Set(['INIT', 'BACKUP', 'MASTER', 'FAULT'])
const isPrio = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255

function isInstance(v: unknown): v is PeerInstance {
  if (typeof v !== 'object' || v === null) return false
  const i = v as Record<string, unknown>
  return (
    STATES.has(i.state as string) &&
    isPrio(i.priority) &&
    isPrio(i.effectivePriority) &&
    isCount(i.advertMs) &&
    (i.address === undefined || (typeof i.address === 'string' && i.address.length <= 64))
  )
}

export function parseBody(x: unknown): PeerBody {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return bad('body')
  const b = x as Record<string, unknown>
  if (typeof b.version !== 'string' || b.version.length > 64) bad('version')
  if (typeof b.ask !== 'boolean') bad('ask')
  if (b.ack !== undefined) {
    const a = b.ack as Record<string, unknown>
    if (typeof a !== 'object' || a === null || !isCount(a.seq) || !isCount(a.heldMs)) bad('ack')
  }
  if (b.sync !== 'master' && b.sync !== 'backup' && b.sync !== 'none') bad('sync')
  record(b.ops, 'ops', validEntry)
  record(b.health, 'health', isHealth)
  record(b.fingerprints, 'fingerprints', isHex)
  record(b.instances, 'instances', isInstance, 255)
  record(b.conns, 'conns', isCount)
  return b as unknown as PeerBody
}
