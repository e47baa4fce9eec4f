// The VRRP state machine, one instance at a time, as the scenarios of RFC 5798 §6.4 (and RFC 3768
// for v2) plus keepalived's FAULT state. Time is a number passed in: no clock, no sleeps.
import test from 'ava'
import { type Addr, parseAddr } from '../../src/net/addr.js'
import {
  type Action,
  create,
  type Event,
  effectivePriority,
  type FsmConfig,
  type FsmState,
  priorityOf,
  type Step,
  step,
} from '../../src/vrrp/fsm.js'

const A = (s: string): Addr => parseAddr(s)
const me = A('10.0.0.6')
const lowerAddr = A('10.0.0.5')
const higherAddr = A('10.0.0.7')

type Cfg = Partial<FsmConfig>
const v2 = (c: Cfg = {}): Cfg => ({ version: 2, advertMs: 1000, ...c })
const v3fast = (c: Cfg = {}): Cfg => ({ version: 3, advertMs: 100, ...c })

const startup: Event = { kind: 'startup' }
const shutdown: Event = { kind: 'shutdown' }
const timer = (t: 'adver' | 'masterDown' | 'preemptDelay'): Event => ({ kind: 'timer', timer: t })
const advert = (priority: number, intervalCs = 100, src = lowerAddr): Event => ({
  kind: 'advert',
  src,
  priority,
  intervalCs,
})
const transition = (from: string, to: string, why: string): Action => ({ kind: 'transition', from, to, why }) as Action
const arm = (t: 'adver' | 'masterDown' | 'preemptDelay', at: number): Action => ({ kind: 'arm', timer: t, at })
const disarm = (t: 'adver' | 'masterDown' | 'preemptDelay'): Action => ({ kind: 'disarm', timer: t })
const send = (priority: number): Action => ({ kind: 'send', priority })
const becameMaster = (prio: number, adverAt: number): Action[] => [
  send(prio),
  { kind: 'vips', op: 'add' },
  { kind: 'announce', why: 'become_master' },
  arm('adver', adverAt),
]

/** Runs events in order; returns the last step. */
function run(s: FsmState, events: Array<[Event, number]>): Step {
  let r: Step = { state: s, actions: [] }
  for (const [e, now] of events) r = step(r.state, e, now)
  return r
}
const fresh = (c: Cfg = {}): FsmState => create({ primary: me, ...c })
const backupAt = (c: Cfg, now = 0): FsmState => step(fresh(c), startup, now).state
const masterAt = (c: Cfg, now = 0): FsmState => {
  const b = backupAt(c, now)
  return step(b, timer('masterDown'), b.timers.masterDown!).state
}

test('Initialize → Backup: arms Master_Down_Timer at 3 × interval + skew (RFC 5798 §6.4.1)', (t) => {
  const r = step(fresh(v2()), startup, 1_000)
  t.is(r.state.role, 'BACKUP')
  t.deepEqual(r.actions, [transition('INIT', 'BACKUP', 'startup'), arm('masterDown', 1_000 + 3609.375)])
})

test('Initialize → Master for the address owner (priority 255): advert, VIPs, announce, Adver_Timer', (t) => {
  const r = step(fresh(v2({ priority: 255 })), startup, 500)
  t.is(r.state.role, 'MASTER')
  t.deepEqual(r.actions, [transition('INIT', 'MASTER', 'startup_owner'), ...becameMaster(255, 1_500)])
})

const downTiming: Array<[string, Cfg, number, number]> = [
  ['v2, 1 s, priority 100', v2(), 100, 3609.375],
  ['v3, 100 ms, priority 100', v3fast(), 10, 360.9375],
  ['v2, 1 s, priority 150', v2({ priority: 150 }), 100, 3414.0625],
  ['v3, 100 ms, priority 254', v3fast({ priority: 254 }), 10, 300.78125],
]
for (const [title, cfg, cs, down] of downTiming) {
  test(`master down, ${title}: Master after exactly ${down} ms of silence since the last advert`, (t) => {
    // the master outranks the backup, so its advert is accepted and resets the timer
    const s = step(backupAt(cfg), advert(255, cs, higherAddr), 5_000)
    t.deepEqual(s.actions, [arm('masterDown', 5_000 + down)])
    const early = step(s.state, timer('masterDown'), 5_000 + down - 1)
    t.is(early.state.role, 'BACKUP', 'an early expiry is not acted on')
    t.deepEqual(early.actions, [])
    const r = step(s.state, timer('masterDown'), 5_000 + down)
    t.is(r.state.role, 'MASTER')
    const adv = cfg.advertMs ?? 1000
    t.deepEqual(r.actions, [
      transition('BACKUP', 'MASTER', 'master_down'),
      ...becameMaster(cfg.priority ?? 100, 5_000 + down + adv),
    ])
  })
}

test('priority-0 advert: the backup arms Master_Down at Skew_Time only (609.375 ms v2, 60.9375 ms v3 100 ms)', (t) => {
  const r2 = step(backupAt(v2()), advert(0), 5_000)
  t.deepEqual(r2.actions, [arm('masterDown', 5_609.375)])
  const m = step(r2.state, timer('masterDown'), 5_609.375)
  t.deepEqual(m.actions[0], transition('BACKUP', 'MASTER', 'priority_zero'))
  const r3 = step(backupAt(v3fast()), advert(0, 10), 5_000)
  t.deepEqual(r3.actions, [arm('masterDown', 5_060.9375)])
})

test('v3 backup learns the master interval: 1 s configured, master sends 100 ms → 360.9375 ms, skew 60.9375 ms', (t) => {
  const b = backupAt({ version: 3, advertMs: 1000 })
  const r = step(b, advert(200, 10, higherAddr), 2_000)
  t.is(r.state.masterAdverMs, 100)
  t.deepEqual(r.actions, [arm('masterDown', 2_360.9375)])
  t.deepEqual(step(r.state, advert(0, 10), 2_050).actions, [arm('masterDown', 2_110.9375)])
})

test('v2 backup keeps its own interval whatever the advert says', (t) => {
  const r = step(backupAt(v2()), advert(200, 300, higherAddr), 2_000)
  t.is(r.state.masterAdverMs, 1000)
  t.deepEqual(r.actions, [arm('masterDown', 5_609.375)])
})

test('preempt (default): a priority-150 backup discards a priority-100 master and takes over at Master_Down', (t) => {
  let s = backupAt(v2({ priority: 150 }))
  t.is(s.timers.masterDown, 3414.0625)
  for (const now of [1_000, 2_000, 3_000]) {
    const r = step(s, advert(100), now)
    t.deepEqual(r.actions, [], 'lower-priority advert discarded')
    s = r.state
  }
  const r = step(s, timer('masterDown'), 3414.0625)
  t.deepEqual(r.actions[0], transition('BACKUP', 'MASTER', 'preempt'))
})

test('nopreempt: a higher-priority backup accepts a lower master and stays Backup', (t) => {
  let s = backupAt(v2({ priority: 150, preempt: false }))
  for (const now of [1_000, 2_000, 3_000, 4_000]) {
    const r = step(s, advert(100), now)
    t.deepEqual(r.actions, [arm('masterDown', now + 3414.0625)])
    s = r.state
  }
  t.is(step(s, timer('masterDown'), 3414.0625).state.role, 'BACKUP', 'the old deadline was replaced')
})

test('preempt_on_quorum: a held backup accepts a lower master; released, it discards the next advert and preempts', (t) => {
  let s = step(backupAt(v2({ priority: 150 })), { kind: 'preemptHold', on: true }, 500).state
  for (const now of [1_000, 2_000, 3_000, 4_000]) {
    const r = step(s, advert(100), now)
    t.deepEqual(r.actions, [arm('masterDown', now + 3414.0625)], 'held: the lower master counts as live')
    s = r.state
  }
  t.is(step(s, timer('masterDown'), 3414.0625).state.role, 'BACKUP')
  // the hold is lifted (quorum back): nothing happens until the next advert, which is discarded
  const lifted = step(s, { kind: 'preemptHold', on: false }, 4_500)
  t.deepEqual(lifted.actions, [])
  const r5 = step(lifted.state, advert(100), 5_000)
  t.deepEqual(r5.actions, [], 'released: discarded')
  const r6 = step(r5.state, timer('masterDown'), 4_000 + 3414.0625)
  t.deepEqual(r6.actions[0], transition('BACKUP', 'MASTER', 'preempt'))
  // a held backup still takes over from a master that falls silent: the hold is about preemption only
  const silent = step(s, timer('masterDown'), 4_000 + 3414.0625)
  t.deepEqual(silent.actions[0], transition('BACKUP', 'MASTER', 'master_down'))
})

test('preempt_delay: the lower master counts as live for the delay, then is discarded and preempted', (t) => {
  const s0 = backupAt(v2({ priority: 150, preemptDelayMs: 5_000 }))
  const r1 = step(s0, advert(100), 1_000)
  t.deepEqual(r1.actions, [arm('preemptDelay', 6_000), arm('masterDown', 4_414.0625)])
  const r2 = run(r1.state, [
    [advert(100), 2_000],
    [advert(100), 3_000],
    [advert(100), 4_000],
    [advert(100), 5_000],
  ])
  t.deepEqual(r2.actions, [arm('masterDown', 8_414.0625)], 'still resetting, the window is not re-armed')
  const r3 = step(r2.state, timer('preemptDelay'), 6_000)
  t.deepEqual(r3.actions, [])
  t.is(r3.state.preemptWindow, 'elapsed')
  const r4 = step(r3.state, advert(100), 7_000)
  t.deepEqual(r4.actions, [], 'after the delay lower adverts are discarded')
  const r5 = step(r4.state, timer('masterDown'), 8_414.0625)
  t.deepEqual(r5.actions[0], transition('BACKUP', 'MASTER', 'preempt'))
})

test('preempt_delay: a master of priority ≥ ours during the delay cancels the window', (t) => {
  const r1 = step(backupAt(v2({ priority: 150, preemptDelayMs: 5_000 })), advert(100), 1_000)
  const r2 = step(r1.state, advert(200, 100, higherAddr), 2_000)
  t.deepEqual(r2.actions, [disarm('preemptDelay'), arm('masterDown', 5_414.0625)])
  t.is(r2.state.preemptWindow, 'none')
})

test('backup accepts an equal-priority advert whatever the address (RFC 5798 §6.4.2: ≥)', (t) => {
  t.deepEqual(step(backupAt(v2()), advert(100, 100, lowerAddr), 1_000).actions, [arm('masterDown', 4_609.375)])
})

test('master: Adver_Timer sends an advert and re-arms one interval later', (t) => {
  const m = masterAt(v3fast())
  const r = step(m, timer('adver'), m.timers.adver!)
  t.deepEqual(r.actions, [send(100), arm('adver', m.timers.adver! + 100)])
})

const stepDown: Array<[string, number, Addr]> = [
  ['a higher priority', 101, lowerAddr],
  ['equal priority from a higher address (tie-break)', 100, higherAddr],
]
for (const [title, prio, src] of stepDown) {
  test(`master hearing ${title} steps down: VIPs removed, Master_Down armed from the sender's interval`, (t) => {
    const m = masterAt(v3fast())
    const r = step(m, advert(prio, 20, src), 10_000)
    t.is(r.state.role, 'BACKUP')
    t.deepEqual(r.actions, [
      transition('MASTER', 'BACKUP', 'higher_priority'),
      disarm('adver'),
      send(100),
      { kind: 'vips', op: 'del' },
      arm('masterDown', 10_000 + 721.875), // 3 × 200 + 156 × 200 / 256
    ])
  })
}

test('master stepping down without higherPrioAdvert sends nothing (RFC behaviour)', (t) => {
  const r = step(masterAt(v3fast({ higherPrioAdvert: false })), advert(200, 10, higherAddr), 10_000)
  t.false(r.actions.some((a) => a.kind === 'send'))
})

test('master answers a priority-0 advert with an advert at once (RFC 5798 §6.4.3)', (t) => {
  const r = step(masterAt(v2()), advert(0), 9_000)
  t.is(r.state.role, 'MASTER')
  t.deepEqual(r.actions, [send(100), arm('adver', 10_000)])
})

test('master hearing a lower priority (split brain) asserts itself and re-announces', (t) => {
  const m = masterAt(v2({ priority: 150 }))
  const r = step(m, advert(100), 9_000)
  t.is(r.state.role, 'MASTER')
  t.deepEqual(r.actions, [send(150), arm('adver', 10_000), { kind: 'announce', why: 'lower_priority' }])
  t.deepEqual(step(m, advert(150, 100, lowerAddr), 9_000).actions, r.actions, 'equal priority, lower address')
  const rfc = step(masterAt(v2({ priority: 150, lowerPrioAdvert: false })), advert(100), 9_000)
  t.deepEqual(rfc.actions, [], 'RFC: discard')
})

test('master answers lower-priority adverts at most once per lowerPrioAnswerMs; the rest are suppressed', (t) => {
  let m = masterAt(v2({ priority: 150, lowerPrioAnswerMs: 1000 }))
  const kinds: string[] = []
  // a flood: one spoofed lower-priority advert every 10 ms for 2.5 s
  for (let at = 9_000; at < 11_500; at += 10) {
    const r = step(m, advert(100), at)
    m = r.state
    for (const a of r.actions) if (a.kind === 'announce' || a.kind === 'suppressed') kinds.push(`${at}:${a.kind}`)
  }
  const answered = kinds.filter((k) => k.endsWith(':announce'))
  t.deepEqual(answered, ['9000:announce', '10000:announce', '11000:announce'])
  t.is(kinds.length, 250)
  t.is(m.role, 'MASTER')
  const always = masterAt(v2({ priority: 150, lowerPrioAnswerMs: 0 }))
  const a1 = step(always, advert(100), 9_000)
  t.true(
    step(a1.state, advert(100), 9_000).actions.some((a) => a.kind === 'announce'),
    '0 = no bound',
  )
})

test('master ignores an advert from its own address, whatever its priority', (t) => {
  t.deepEqual(step(masterAt(v2()), advert(100, 100, me), 9_000).actions, [])
  t.deepEqual(step(masterAt(v2()), advert(200, 100, me), 9_000).actions, [], 'even with a higher (stale) priority')
})

test('shutdown: master sends priority 0 and removes VIPs; backup only stops its timer', (t) => {
  const m = step(masterAt(v2()), shutdown, 9_000)
  t.is(m.state.role, 'INIT')
  t.deepEqual(m.actions, [
    transition('MASTER', 'INIT', 'shutdown'),
    disarm('adver'),
    send(0),
    { kind: 'vips', op: 'del' },
  ])
  t.deepEqual(m.state.timers, {})
  const b = step(backupAt(v2()), shutdown, 9_000)
  t.deepEqual(b.actions, [transition('BACKUP', 'INIT', 'shutdown'), disarm('masterDown')])
})

test('fault from master: priority-0 advert, VIPs removed; cleared → Backup with a fresh Master_Down', (t) => {
  const f = step(masterAt(v2()), { kind: 'fault', on: true }, 9_000)
  t.is(f.state.role, 'FAULT')
  t.deepEqual(f.actions, [
    transition('MASTER', 'FAULT', 'fault'),
    disarm('adver'),
    send(0),
    { kind: 'vips', op: 'del' },
  ])
  t.deepEqual(step(f.state, advert(200, 100, higherAddr), 9_500).actions, [], 'FAULT ignores adverts')
  const c = step(f.state, { kind: 'fault', on: false }, 10_000)
  t.deepEqual(c.actions, [transition('FAULT', 'BACKUP', 'fault_cleared'), arm('masterDown', 13_609.375)])
})

test('fault from backup stops Master_Down; the owner leaving FAULT becomes Master', (t) => {
  const f = step(backupAt(v2()), { kind: 'fault', on: true }, 1_000)
  t.deepEqual(f.actions, [transition('BACKUP', 'FAULT', 'fault'), disarm('masterDown')])
  const owner = run(fresh(v2({ priority: 255 })), [
    [{ kind: 'fault', on: true }, 0],
    [startup, 0],
  ])
  t.deepEqual(owner.actions, [transition('INIT', 'FAULT', 'fault')], 'startup while faulty goes to FAULT')
  const up = step(owner.state, { kind: 'fault', on: false }, 2_000)
  t.deepEqual(up.actions, [transition('FAULT', 'MASTER', 'fault_cleared'), ...becameMaster(255, 3_000)])
})

test('tracking drives priority: base + delta clamped to 1..254, owner stays 255, ≤ 0 is FAULT', (t) => {
  t.is(effectivePriority(100, -20), 80)
  t.is(effectivePriority(200, 100), 254)
  t.is(effectivePriority(255, -100), 255)
  t.is(effectivePriority(100, -99), 1)
  t.is(effectivePriority(100, -100), 0)
  const f = step(backupAt(v2()), { kind: 'priority', delta: -100 }, 1_000)
  t.deepEqual(f.actions, [transition('BACKUP', 'FAULT', 'fault'), disarm('masterDown')])
  const back = step(f.state, { kind: 'priority', delta: -10 }, 2_000)
  t.deepEqual(back.actions, [transition('FAULT', 'BACKUP', 'fault_cleared'), arm('masterDown', 2_000 + 3_648.4375)])
  t.is(priorityOf(back.state), 90)
})

test('a master whose tracked priority changes advertises the new priority at once', (t) => {
  const m = masterAt(v2({ priority: 150 }))
  const r = step(m, { kind: 'priority', delta: -60 }, 9_100)
  t.deepEqual(r.actions, [send(90), arm('adver', 10_100)])
  t.deepEqual(step(r.state, { kind: 'priority', delta: -60 }, 9_200).actions, [], 'no change, no advert')
  t.deepEqual(step(masterAt(v2({ priority: 255 })), { kind: 'priority', delta: -60 }, 9_100).actions, [])
})

test('a backup whose priority rose preempts the lower master it now outranks', (t) => {
  const s = step(backupAt(v2({ priority: 100 })), advert(120), 1_000).state
  const up = step(s, { kind: 'priority', delta: 50 }, 1_500)
  t.deepEqual(up.actions, [])
  const discarded = step(up.state, advert(120), 2_000)
  t.deepEqual(discarded.actions, [], 'now discarded')
  t.deepEqual(
    step(discarded.state, timer('masterDown'), 4_609.375).actions[0],
    transition('BACKUP', 'MASTER', 'preempt'),
  )
})

test('timer events for timers that are not armed are ignored (stale expiries)', (t) => {
  const b = backupAt(v2())
  t.deepEqual(step(b, timer('adver'), 99_999).actions, [])
  t.deepEqual(step(b, timer('preemptDelay'), 99_999).actions, [])
  t.deepEqual(step(fresh(v2()), timer('masterDown'), 99_999).actions, [])
})

test('events other than startup leave Initialize alone; accept mode is carried in the config', (t) => {
  const s = fresh(v2({ accept: true }))
  for (const e of [advert(100), timer('masterDown'), shutdown]) t.deepEqual(step(s, e, 5).actions, [])
  t.true(s.config.accept)
})
