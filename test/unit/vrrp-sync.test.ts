// Sync group rules (src/vrrp/sync.ts), as keepalived's vrrp_sync.c applies them: members follow a
// partner into MASTER and out of it, a member goes MASTER only when every partner wants to, and
// the group's own state for its notify programs.
import test from 'ava'
import { groupState, type Member, syncHold, syncMoves } from '../../src/vrrp/sync.js'

const m = (name: string, role: Member['role'], wantsMaster = false): Member => ({ name, role, wantsMaster })

test('a member becoming MASTER pulls every partner in BACKUP along; FAULT and INIT partners stay', (t) => {
  const group = [m('web', 'MASTER'), m('db', 'BACKUP'), m('api', 'FAULT'), m('dns', 'INIT')]
  t.deepEqual(syncMoves(group, { instance: 'web', from: 'BACKUP', to: 'MASTER', why: 'master_down' }), [
    { instance: 'db', to: 'MASTER' },
  ])
})

test('a master stepping down to BACKUP takes every partner in MASTER down with it', (t) => {
  const group = [m('web', 'BACKUP'), m('db', 'MASTER'), m('api', 'MASTER')]
  t.deepEqual(syncMoves(group, { instance: 'web', from: 'MASTER', to: 'BACKUP', why: 'higher_priority' }), [
    { instance: 'db', to: 'BACKUP' },
    { instance: 'api', to: 'BACKUP' },
  ])
})

test('forced moves force nothing further, and other transitions force nothing', (t) => {
  const group = [m('web', 'BACKUP'), m('db', 'MASTER')]
  t.deepEqual(syncMoves(group, { instance: 'web', from: 'MASTER', to: 'BACKUP', why: 'sync' }), [])
  t.deepEqual(syncMoves(group, { instance: 'web', from: 'INIT', to: 'BACKUP', why: 'startup' }), [])
  t.deepEqual(syncMoves(group, { instance: 'web', from: 'FAULT', to: 'BACKUP', why: 'fault_cleared' }), [])
  t.deepEqual(syncMoves(group, { instance: 'web', from: 'MASTER', to: 'INIT', why: 'shutdown' }), [])
})

test('a member is held in BACKUP while a partner neither is MASTER nor wants to be', (t) => {
  t.true(syncHold([m('web', 'BACKUP'), m('db', 'BACKUP')], 'web'), 'db still hears a live master')
  t.false(syncHold([m('web', 'BACKUP'), m('db', 'BACKUP', true)], 'web'), 'db wants MASTER too')
  t.false(syncHold([m('web', 'BACKUP'), m('db', 'MASTER')], 'web'))
  t.false(syncHold([m('web', 'BACKUP')], 'web'), 'no partner created yet: nothing holds')
  t.true(syncHold([m('web', 'BACKUP', true), m('db', 'FAULT')], 'web'))
})

test('group state: FAULT if any member is, MASTER or BACKUP once all are, else unchanged', (t) => {
  t.is(groupState(['MASTER', 'MASTER']), 'MASTER')
  t.is(groupState(['BACKUP', 'BACKUP']), 'BACKUP')
  t.is(groupState(['MASTER', 'FAULT']), 'FAULT')
  t.is(groupState(['MASTER', 'BACKUP']), undefined)
  t.is(groupState(['INIT', 'INIT']), undefined, 'STOP is for instances only (keepalived)')
  t.is(groupState([]), undefined)
})
