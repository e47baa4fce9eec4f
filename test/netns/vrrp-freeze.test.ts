// A frozen master falls silent: a master's routine adverts leave from the lvsd-pacer helper, a
// process of its own, which sends nothing while lvsd is stopped (SIGSTOP), so the backup takes over
// after Master_Down as it would from keepalived; and when lvsd goes on (SIGCONT) so do its adverts,
// and the higher priority takes the VIP back.
import { readdirSync, readFileSync } from 'node:fs'
import test from 'ava'
import { HexCapture } from '../helpers/hex-capture.js'
import { Lab, waitFor } from '../helpers/netns.js'
import { ConfigDir, controlSocket, Director } from './agents/vrrp-harness.js'

/** The names of a process's children, over all its threads. */
function children(pid: number): string[] {
  const out: string[] = []
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const list = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim()
    for (const c of list ? list.split(' ') : []) out.push(readFileSync(`/proc/${c}/comm`, 'utf8').trim())
  }
  return out
}

/** Capture indexes of d1's adverts (IPv4 source 10.0.0.5, protocol 112). */
const d1Adverts = (frames: string[]) =>
  frames.flatMap((f, i) =>
    f.slice(24, 28) === '0800' && f.slice(46, 48) === '70' && f.slice(52, 60) === '0a000005' ? [i] : [],
  )

test('a stopped master’s helper sends nothing: the backup takes over, and the master takes back after SIGCONT', async (t) => {
  const lab = new Lab('fz')
  const cfg = new ConfigDir()
  t.teardown(() => {
    lab.dispose()
    cfg.dispose()
  })
  lab.addNode({ name: 'd1', ipv4: '10.0.0.5/24' })
  lab.addNode({ name: 'd2', ipv4: '10.0.0.6/24' })
  lab.addNode({ name: 'cap' })
  const conf = (node: string, priority: number) =>
    cfg.write(
      `${node}.yaml`,
      `node: ${node}
${controlSocket(cfg, node)}vrrp:
  instances:
    - { name: web, interface: eth0, vrid: 81, priority: ${priority}, version: 3, advert_interval: 100ms, vips: [10.0.0.30/24] }
`,
    )
  const d1 = new Director(lab, 'd1', conf('d1', 150))
  await d1.waitState('MASTER', 30_000)
  const d2 = new Director(lab, 'd2', conf('d2', 100))
  await d2.waitState('BACKUP', 30_000)
  const pid = d1.proc.pid as number
  await waitFor(() => children(pid).includes('lvsd-pacer'), 10_000)
  const cap = await HexCapture.start(lab, 'cap', 'eth0', 'ip proto 112')
  await waitFor(() => d1Adverts(cap.frames).length >= 3, 10_000)

  d1.kill('SIGSTOP')
  const stoppedAt = cap.frames.length
  // Master_Down at 100 ms is 0.36 s for priority 100, plus the helper's 0.25 s between reads of lvsd's state
  await d2.waitState('MASTER', 3_000)
  t.true(children(pid).includes('lvsd-pacer'), 'the helper is still there: it held its adverts, it did not die')
  const late = d1Adverts(cap.frames).filter((i) => i >= stoppedAt)
  t.true(late.length <= 3, `d1 sent ${late.length} adverts while stopped (at most the 0.25 s before its helper saw it)`)
  const heldFrom = cap.frames.length
  await waitFor(() => cap.frames.length >= heldFrom + 10, 10_000) // a second of d2's adverts
  t.deepEqual(
    d1Adverts(cap.frames).filter((i) => i >= heldFrom),
    [],
    'none once the helper has seen it',
  )

  d1.kill('SIGCONT')
  // d1 hears d2's lower priority as master and preempts it; or its helper resumes first and d2 yields
  await d2.waitState('BACKUP', 10_000)
  await waitFor(() => d1.state('web') === 'MASTER', 10_000)
  // d1 advertises again (the capture's frames come in a little after the wire)
  await waitFor(() => d1Adverts(cap.frames).some((i) => i >= heldFrom), 10_000)
  t.is(d1.proc.exitCode, null)
  d1.kill('SIGTERM')
  d2.kill('SIGTERM')
  await Promise.all([d1.exited, d2.exited])
  await cap.stop()
})
