// lvsctl status: the text layout (ipvsadm -Ln columns plus health, weight and drain notes, VRRP
// instances with state, priority and the last transition) and the command around it.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import test from 'ava'
import { ControlServer } from '../../src/api/server.js'
import { age, formatStatus, statusCommand } from '../../src/cli/lvsctl-status.js'
import { exampleStatus, FakeDirector } from '../helpers/fake-director.js'

const NOW = Date.UTC(2026, 0, 1, 14, 5, 9)

test('status text: VRRP instances, then the IPVS table in ipvsadm -Ln layout with health notes', (t) => {
  t.is(
    formatStatus(exampleStatus(), NOW),
    [
      'lvsd 0.1.0 on lb01, pid 4242, up 2h05m; config /etc/lvsd/lvsd.yaml (sha256 abababababab, loaded 2h05m ago)',
      '',
      'Instance  Interface  VRID  Ver  State   Priority  Since  Why                         VIPs',
      'web       eth0       51    v3   MASTER  150       2h05m  BACKUP->MASTER master_down  10.0.0.3/24 2001:db8::3/64',
      'db        eth1       52    v2   BACKUP  100 (90)  2h05m  INIT->BACKUP startup        10.0.1.3/24',
      '',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn Health',
      'TCP  10.0.0.3:80 wrr  # web, follows web, quorum 1/1 up',
      '  -> 10.0.0.7:80                  Route   3      12         40         up 2h05m',
      '  -> 10.0.0.8:80                  Route   0      0          2          down 1h55m, configured 1, timeout after 1000 ms',
      'UDP  [2001:db8::53]:53 sh (sh-fallback) ops  # dns6, quorum 1/1 up',
      '  -> [2001:db8::a]:53             Route   1      -          -          unchecked',
      'FWM  7 wlc persistent 300  # mark7, quorum 0/2 DOWN, not in kernel',
      '',
    ].join('\n'),
  )
})

test('a drained server, an operator weight and a released instance are visible in the text', (t) => {
  const s = exampleStatus()
  const inst = s.instances[0]!
  inst.released = true
  inst.effectivePriority = 0
  const r = s.services[0]!.servers[0]!
  r.drained = true
  r.weight = { configured: 3, effective: 0, operator: 9 }
  const text = formatStatus(s, NOW)
  t.true(text.includes('web       eth0       51    v3   MASTER released  150 (0)'))
  t.true(
    text.includes(
      '  -> 10.0.0.7:80                  Route   0      12         40         up 2h05m, drained, weight 9 (operator, configured 3)',
    ),
  )
})

test('ages read as the largest two units', (t) => {
  t.deepEqual(
    [0, 9_999, 61_000, 3_600_000 + 5 * 60_000, 2 * 86_400_000 + 3_600_000, -5].map((d) => age(NOW - d, NOW)),
    ['0s', '9s', '1m01s', '1h05m', '2d01h', '0s'],
  )
})

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough()
  let text = ''
  stream.on('data', (c: Buffer) => {
    text += c.toString()
  })
  return { stream, text: () => text }
}

test('statusCommand prints the text, or the status object unchanged with --json', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-status-'))
  const socketPath = join(dir, 'ctl.sock')
  const server = await ControlServer.start(new FakeDirector({ status: exampleStatus() }), { path: socketPath })
  t.teardown(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const text = sink()
  t.is(await statusCommand([], { socketPath, stdout: text.stream, now: () => NOW }), 'ok')
  t.is(text.text(), formatStatus(exampleStatus(), NOW))
  const json = sink()
  t.is(await statusCommand(['--json'], { socketPath, stdout: json.stream }), 'ok')
  t.deepEqual(JSON.parse(json.text()), exampleStatus())
})

test('statusCommand: no daemon is a failure naming the error code; an unknown option is a usage error', async (t) => {
  const err = sink()
  const socketPath = join(tmpdir(), `lvsd-none-${process.pid}.sock`)
  t.is(await statusCommand([], { socketPath, stderr: err.stream }), 'failure')
  t.regex(err.text(), /LVSD_API_UNREACHABLE/)
  const usage = sink()
  t.is(await statusCommand(['--bogus'], { socketPath, stderr: usage.stream }), 'usage')
  t.regex(usage.text(), /Usage: lvsctl status/)
})
