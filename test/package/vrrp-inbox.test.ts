// Package tier (root, the cached Debian 12 root): the VRRP worker under Debian 12's own nodejs 18,
// whose libuv (1.44.2) spins in uv_async's receiver while a sender is mid-call. Pinned with the
// main thread to one CPU, as on a one-CPU director, the SCHED_RR worker preempted the main thread
// inside its postMessage and spun until the kernel's real-time throttling stopped it: 940-960 ms
// of CPU per message, adverts late by as much. Messages now reach it over its inbox stream
// (src/vrrp/inbox.ts), and a stopped worker ends by itself instead of being terminate()d.
import test from 'ava'
import { debianRoot, sh } from '../helpers/nspawn.js'
import { repoRoot } from '../helpers/paths.js'

interface Report {
  node: string
  uv: string
  realtime: { ok: boolean; tid: number; reason?: string }
  perRequest: number[]
  stopMs: number
}

const older = (v: string, than: number[]) => {
  const p = v.split('.').map(Number)
  for (let i = 0; i < than.length; i++) if ((p[i] ?? 0) !== than[i]) return (p[i] ?? 0) < (than[i] ?? 0)
  return false
}

test('Debian 12 nodejs, one CPU: a message from the main thread costs the real-time VRRP worker no spinning, and it stops at once', (t) => {
  const root = debianRoot()
  const agent = '/mnt/dist/test/package/agents/worker-inbox-agent.js'
  // a mount namespace of its own: /proc and the tree are mounted into the shared cached root only there
  const script = [
    'set -e',
    'mount --make-rprivate /',
    `mount -t proc proc ${root}/proc`,
    `mount --bind ${repoRoot} ${root}/mnt`,
    `exec chroot ${root} taskset -c 0 node ${agent} 10`,
  ].join('\n')
  const r = sh('timeout', ['300', 'unshare', '-m', 'sh', '-c', script])
  const line = r.stdout.trim().split('\n').pop() ?? ''
  t.is(r.status, 0, `${r.stderr.slice(-2000)}\n${r.stdout.slice(-2000)}`)
  const rep = JSON.parse(line) as Report
  t.log(`${rep.node}, libuv ${rep.uv}: worker CPU per request ${rep.perRequest.join(' ')} ms`)
  t.true(older(rep.uv, [1, 45]), `libuv ${rep.uv}: this test needs one that still spins in uv_async (< 1.45)`)
  t.true(rep.realtime.ok, `the worker must be SCHED_RR for the spin to show: ${rep.realtime.reason}`)
  t.is(rep.perRequest.length, 10)
  // with the MessagePort: 940-960 ms for each request (one USER_HZ tick is 10 ms)
  t.true(Math.max(...rep.perRequest) <= 30, `worker CPU per request: ${rep.perRequest.join(' ')} ms`)
  // terminate() was such a wake-up too: ~1,000 ms per stop; the worker now ends by itself
  t.log(`stop() to the thread's exit: ${rep.stopMs} ms`)
  t.true(rep.stopMs < 500, `stop took ${rep.stopMs} ms`)
})
