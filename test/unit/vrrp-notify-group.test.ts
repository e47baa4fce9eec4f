// Sync group notify programs: the config's group notify mapped next to the instances' programs,
// and the Notifier running them with keepalived's arguments ("GROUP", name, state, 0) when the
// group's state changes — once per change, after the member transition that caused it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { loadConfigText } from '../../src/config/load.js'
import { notifySpecs } from '../../src/director/vrrp-instances.js'
import { Notifier } from '../../src/vrrp/main/notify.js'

const dir = mkdtempSync(join(tmpdir(), 'lvsd-notify-'))
test.after.always(() => rmSync(dir, { recursive: true, force: true }))

function config(log: string) {
  const r = loadConfigText(
    `node: d1
vrrp:
  version: 3
  instances:
    - { name: web, interface: eth0, vrid: 51, vips: [10.0.0.3/24] }
    - { name: db, interface: eth0, vrid: 52, vips: [10.0.0.4/24] }
  sync_groups:
    - name: g
      members: [web, db]
      notify:
        master: [/bin/sh, -c, 'echo master >> ${log}']
        any: [/bin/sh, -c, 'echo "$@" >> ${log}', notify]
`,
    'test.yaml',
  )
  if (!r.ok) throw new Error(JSON.stringify(r.errors))
  return r.config
}

test('the group notify programs are mapped beside the instances’ (which have none here)', (t) => {
  const specs = notifySpecs(config('/tmp/x'))
  t.is(specs.size, 0)
  t.deepEqual(
    specs.groups.map((g) => [g.name, g.members, Object.keys(g.spec)]),
    [['g', ['web', 'db'], ['master', 'any']]],
  )
})

test('a group’s programs run on each change of its state, with GROUP, name, state and priority 0', async (t) => {
  const log = join(dir, 'group.log')
  const n = new Notifier(notifySpecs(config(log)), () => {})
  n.transition('web', 'BACKUP', 100)
  n.transition('db', 'BACKUP', 100) // all BACKUP: the group is BACKUP
  n.transition('web', 'MASTER', 100) // in between: no group change yet
  n.transition('db', 'MASTER', 100) // all MASTER
  n.transition('db', 'FAULT', 0) // one FAULT: the group is FAULT
  n.transition('web', 'FAULT', 0) // still FAULT: nothing new
  n.transition('web', 'INIT', 0) // stopping: groups have no STOP
  await n.idle()
  t.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), [
    'GROUP g BACKUP 0',
    'master',
    'GROUP g MASTER 0',
    'GROUP g FAULT 0',
  ])
})
