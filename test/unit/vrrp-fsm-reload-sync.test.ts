// The state machine's reload and sync group events (src/vrrp/fsm.ts), read against RFC 5798 §6.4
// and keepalived's sync groups: a reload keeps the state and advertises what changed; a partner's
// move is followed; a held member records its wish instead of preempting. Fake clock, no sleeps.
import test from 'ava'
import { type Addr, parseAddr } from '../../src/net/addr.js'
import { type Action, create, type Event, type FsmConfig, type FsmState, step } from '../../src/vrrp/fsm.js'
import { masterDownMs, skewMs } from '../../src/vrrp/timers.js'

const me = parseAddr('10.0.0.6')
const peer: Addr = parseAddr('10.0.0.5')
const base = (c: Partial<FsmConfig> = {}): FsmConfig => ({
  version: 3,
  priority: 100,
  advertMs: 100,
  primary: me,
  preempt: true,
  preemptDelayMs: 0,
  accept: false,
  lowerPrioAdvert: true,
  lowerPrioAnswerMs: 1000,
  higherPrioAdvert: true,
  ...c,
})
const send = (priority: number): Action => ({ kind: 'send', priority })
const arm = (timer: 'adver' | 'masterDown' | 'preemptDelay', at: number): Action => ({ kind: 'arm', timer, at })
const transition = (from: string, to: string, why: string): Action => ({ kind: 'transition', from, to, why }) as Action
const reconfigure = (c: Partial<FsmConfig>, addrsChanged = false): Event => ({
  kind: 'reconfigure',
  config: base(c),
  addrsChanged,
})
const advert = (priority: number, src = peer): Event => ({ kind: 'advert', src, priority, intervalCs: 10 })

const backup = (c: Partial<FsmConfig> = {}, now = 0): FsmState => step(create(base(c)), { kind: 'startup' }, now).state
const master = (c: Partial<FsmConfig> = {}): FsmState => {
  const b = backup(c)
  return step(b, { kind: 'timer', timer: 'masterDown' }, b.timers.masterDown as number).state
}

test('reload, master, lower priority: stays MASTER and advertises the new priority at once (the backups decide, §6.4.2)', (t) => {
  const m = master({ priority: 150 })
  const r = step(m, reconfigure({ priority: 50 }), 1000)
  t.is(r.state.role, 'MASTER')
  t.deepEqual(r.actions, [send(50), arm('adver', 1100)])
})

test('reload, master, only the VIP list changed: one advert now with the same priority, no transition', (t) => {
  const r = step(master(), reconfigure({}, true), 1000)
  t.deepEqual(r.actions, [send(100), arm('adver', 1100)])
})

test('reload, master, new interval: the next adverts follow it from now', (t) => {
  const r = step(master(), reconfigure({ advertMs: 1000 }), 1000)
  t.deepEqual(r.actions, [send(100), arm('adver', 2000)])
  t.is(r.state.masterAdverMs, 1000)
})

test('reload, master, nothing the wire carries changed (preempt off): no advert, no transition', (t) => {
  const r = step(master(), reconfigure({ preempt: false }), 1000)
  t.deepEqual(r.actions, [])
  t.false(r.state.config.preempt)
})

test('reload, backup, higher priority: no action now; the next advert arms Master_Down with the new skew', (t) => {
  const b = backup()
  const r = step(b, reconfigure({ priority: 200 }), 1000)
  t.deepEqual(r.actions, [])
  t.is(r.state.role, 'BACKUP')
  const next = step(r.state, advert(250), 1050)
  t.deepEqual(next.actions, [arm('masterDown', 1050 + masterDownMs(3, 200, 100))])
})

test('reload, backup, preempt turned off during preempt_delay: the delay window is dropped', (t) => {
  const b = backup({ preemptDelayMs: 5000 })
  const waiting = step(b, advert(50), 10).state
  t.is(waiting.preemptWindow, 'waiting')
  const r = step(waiting, reconfigure({ preemptDelayMs: 5000, preempt: false }), 20)
  t.is(r.state.preemptWindow, 'none')
  t.is(r.state.timers.preemptDelay, undefined)
})

test('reload, master whose tracking delta now takes the priority to 0: FAULT, resigning with priority 0', (t) => {
  const m = step(master({ priority: 150 }), { kind: 'priority', delta: -100 }, 500).state
  const r = step(m, reconfigure({ priority: 100 }), 1000)
  t.is(r.state.role, 'FAULT')
  t.deepEqual(r.actions.slice(0, 1), [transition('MASTER', 'FAULT', 'fault')])
  t.true(r.actions.some((a) => a.kind === 'send' && a.priority === 0))
})

test('sync MASTER: a backup follows its partner like a Master_Down expiry (advert, VIPs, announce)', (t) => {
  const r = step(backup(), { kind: 'sync', to: 'MASTER' }, 1000)
  t.deepEqual(r.actions, [
    transition('BACKUP', 'MASTER', 'sync'),
    { kind: 'disarm', timer: 'masterDown' },
    send(100),
    { kind: 'vips', op: 'add' },
    { kind: 'announce', why: 'become_master' },
    arm('adver', 1100),
  ])
})

test('sync BACKUP: a master leaves silently (no priority 0), drops its VIPs and times the next master', (t) => {
  const r = step(master(), { kind: 'sync', to: 'BACKUP' }, 1000)
  t.deepEqual(r.actions, [
    transition('MASTER', 'BACKUP', 'sync'),
    { kind: 'disarm', timer: 'adver' },
    { kind: 'vips', op: 'del' },
    arm('masterDown', 1000 + masterDownMs(3, 100, 100)),
  ])
})

test('sync moves leave FAULT, INIT and a member already there alone', (t) => {
  const fault = step(backup(), { kind: 'fault', on: true }, 10).state
  t.deepEqual(step(fault, { kind: 'sync', to: 'MASTER' }, 20).actions, [])
  t.deepEqual(step(create(base()), { kind: 'sync', to: 'MASTER' }, 20).actions, [])
  t.deepEqual(step(master(), { kind: 'sync', to: 'MASTER' }, 20).actions, [])
  t.deepEqual(step(backup(), { kind: 'sync', to: 'BACKUP' }, 20).actions, [])
})

test('held by the group, Master_Down expiry only records the wish and re-arms; released, it goes MASTER', (t) => {
  const b = step(backup(), { kind: 'syncHold', on: true }, 0).state
  const at = b.timers.masterDown as number
  const held = step(b, { kind: 'timer', timer: 'masterDown' }, at)
  t.is(held.state.role, 'BACKUP')
  t.true(held.state.wantsMaster)
  t.deepEqual(held.actions, [arm('masterDown', at + masterDownMs(3, 100, 100))])
  const freed = step(held.state, { kind: 'syncHold', on: false }, at + 10).state
  const r = step(freed, { kind: 'timer', timer: 'masterDown' }, freed.timers.masterDown as number)
  t.is(r.state.role, 'MASTER')
  t.false(r.state.wantsMaster)
})

test('a held member that hears a live master again no longer wants MASTER', (t) => {
  const b = step(backup(), { kind: 'syncHold', on: true }, 0).state
  const held = step(b, { kind: 'timer', timer: 'masterDown' }, b.timers.masterDown as number).state
  t.true(held.wantsMaster)
  t.false(step(held, advert(150), 500).state.wantsMaster)
  // a lower-priority master is discarded (we would preempt): the wish stands
  t.true(step(held, advert(50), 500).state.wantsMaster)
})

test('a held member told of a resignation (priority 0) still waits only Skew_Time before asking again', (t) => {
  const b = step(backup(), { kind: 'syncHold', on: true }, 0).state
  const r = step(b, advert(0), 100)
  t.deepEqual(r.actions, [arm('masterDown', 100 + skewMs(3, 100, 100))])
})
