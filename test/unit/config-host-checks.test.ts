// Config checks against this host: a program's `user:` must exist (a typo must never run it as root),
// and settings that expose lvsd to every local user or the network are warned about.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { loadConfigFile, loadConfigText } from '../../src/config/load.js'

const dir = mkdtempSync(join(tmpdir(), 'lvsd-host-checks-'))
test.after.always(() => rmSync(dir, { recursive: true, force: true }))

const service = (user: string) => `node: lb01
virtual_services:
  - name: web
    address: 10.0.0.3
    port: 80
    protocol: tcp
    checks:
      - { type: exec, argv: [/bin/true], user: ${user} }
    real_servers:
      - { address: 10.0.0.7 }
`

test('an exec check whose user does not exist is an error at its line, not a run as root', (t) => {
  const r = loadConfigText(service('nobodyy'), 'c.yaml')
  t.false(r.ok)
  if (r.ok) return
  t.like(r.errors[0], { line: 8, message: 'no user nobodyy on this host (/etc/passwd)' })
  t.regex(r.errors[0]?.path ?? '', /checks\[0\]\.user$/)
  t.true(loadConfigText(service('nobody'), 'c.yaml').ok, 'an existing user passes')
})

test('a track script whose user does not exist is an error', (t) => {
  const r = loadConfigText(
    'node: n\nvrrp:\n  scripts:\n    - { name: chk, argv: [/bin/true], user: rooot }\n',
    'c.yaml',
  )
  t.false(r.ok)
  if (!r.ok) t.regex(r.errors.map((e) => `${e.path}: ${e.message}`).join('\n'), /scripts\[0\]\.user: no user rooot/)
})

const warnings = (text: string) => {
  const r = loadConfigText(text, 'w.yaml')
  if (!r.ok) throw new Error(JSON.stringify(r.errors))
  return r.warnings.map((w) => `${w.path}: ${w.message}`)
}

test('a control socket every local user may write to is warned about', (t) => {
  t.regex(warnings('node: n\ncontrol: { mode: 0777 }\n').join('\n'), /control\.mode: mode 0777 lets every local user/)
  t.deepEqual(warnings('node: n\ncontrol: { mode: 0660 }\n'), [])
})

test('metrics on a non-loopback address are warned about; loopback is not', (t) => {
  t.regex(
    warnings('node: n\nmetrics: { enabled: true, address: 0.0.0.0 }\n').join('\n'),
    /metrics\.address: metrics are served beyond this host/,
  )
  t.deepEqual(warnings('node: n\nmetrics: { enabled: true, address: ::1 }\n'), [])
  t.deepEqual(warnings('node: n\nmetrics: { enabled: true }\n'), [])
})

test('a password in a world-readable file is warned about; mode 0640 is not', async (t) => {
  const text = `node: n
vrrp:
  version: 2
  instances:
    - name: web
      interface: eth0
      vrid: 51
      vips: [10.0.0.3/24]
      authentication: { type: pass, password: secret1 }
`
  const f = join(dir, 'pw.yaml')
  writeFileSync(f, text)
  chmodSync(f, 0o644)
  const open = await loadConfigFile(f)
  t.true(open.ok)
  if (open.ok)
    t.regex(open.warnings.map((w) => w.message).join('\n'), /holds a password and every local user can read it/)
  chmodSync(f, 0o640)
  const closed = await loadConfigFile(f)
  if (closed.ok) t.deepEqual(closed.warnings, [])
  else t.fail('0640 should load')
})
