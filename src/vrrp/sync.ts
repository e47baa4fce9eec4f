// Sync groups as pure rules (keepalived's vrrp_sync.c): members move into MASTER together and out
// of it together, a member goes MASTER only once every partner wants to (keepalived prefers BACKUP
// to thrashing), and the group's own state for its notify programs. The worker applies the moves.
import type { Role, Why } from './fsm.js'

export interface Member {
  name: string
  role: Role
  /** Its Master_Down_Timer fired while held back by a partner (fsm.ts `wantsMaster`). */
  wantsMaster: boolean
}

export interface Move {
  instance: string
  to: 'MASTER' | 'BACKUP'
}

/**
 * What one member's transition forces on its partners: into MASTER, every partner in BACKUP follows;
 * out of MASTER into BACKUP, every partner in MASTER follows. Forced moves (`why: sync`) force
 * nothing further; FAULT is shared separately (a member's own fault, see worker.ts).
 */
export function syncMoves(members: readonly Member[], t: { instance: string; from: Role; to: Role; why: Why }): Move[] {
  if (t.why === 'sync') return []
  const partners = members.filter((m) => m.name !== t.instance)
  if (t.to === 'MASTER')
    return partners.filter((m) => m.role === 'BACKUP').map((m) => ({ instance: m.name, to: 'MASTER' }))
  if (t.to === 'BACKUP' && t.from === 'MASTER')
    return partners.filter((m) => m.role === 'MASTER').map((m) => ({ instance: m.name, to: 'BACKUP' }))
  return []
}

/**
 * Whether `name` must stay BACKUP when its Master_Down_Timer fires: some partner is neither MASTER
 * nor wanting to be (it still hears a live master). keepalived's vrrp_sync_can_goto_master.
 */
export function syncHold(members: readonly Member[], name: string): boolean {
  return members.some((m) => m.name !== name && m.role !== 'MASTER' && !m.wantsMaster)
}

export type GroupState = 'MASTER' | 'BACKUP' | 'FAULT'

/**
 * The group's state from its members' roles, or undefined while they are in between (or stopped):
 * FAULT as soon as one member is; MASTER or BACKUP once all members are.
 */
export function groupState(roles: readonly Role[]): GroupState | undefined {
  if (roles.length === 0) return undefined
  if (roles.includes('FAULT')) return 'FAULT'
  if (roles.every((r) => r === 'MASTER')) return 'MASTER'
  if (roles.every((r) => r === 'BACKUP')) return 'BACKUP'
  return undefined
}
