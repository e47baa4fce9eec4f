// Defects of a running `lvsd run` found by attacking it (issue 19): notify programs that leave a child
// behind (they held up every later notify by 30 s), descriptors exhausted by idle connections to the
// metrics port (notify programs then failed with EMFILE, unreported), an exec check whose user is a typo
// (it ran as root), an oversized reload body, and `lvsctl events --after` past a restart.
import { spawnSync } from 'node:child_process'
import { chmodSync, readFileSync, writeFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import test from 'ava'
import { Lab, waitFor } from '../helpers/netns.js'
import { repoRoot } from '../helpers/paths.js'
import { ConfigDir, controlSocket, Director, fetchIn, lvsctlIn, MAC, PROGRAMS_AS_ROOT } from './agents/vrrp-harness.js'

const lab = new Lab('dd')
const cfg = new ConfigDir()
const TAG = `lvsd-notify-child-${process.pid}`
const log = join(cfg.dir, 'notify.log')
let d1: Director

function program(name: string, body: string): string {
  const p = join(cfg.dir, name)
  writeFileSync(p, `#!/bin/bash\n${body}\n`)
  chmodSync(p, 0o755)
  return p
}

// each notify leaves a child holding its stdout for 30 s, then records the state it was told
const notify = program('notify.sh', `exec -a ${TAG} sleep 30 &\necho "$3" >> ${log}`)
const conf = () => `node: d1
${controlSocket(cfg, 'd1')}${PROGRAMS_AS_ROOT}metrics: { enabled: true, address: 127.0.0.1, port: 9479 }
vrrp:
  version: 3
  advert_interval: 100ms
  instances:
    - name: web
      interface: eth0
      vrid: 64
      priority: 150
      vips: [10.74.0.100/24]
      notify: { any: [${notify}] }
`

const lvsctl = (args: string[]) => lvsctlIn(lab, 'd1', join(cfg.dir, 'd1.sock'), args)

const states = () => {
  try {
    return readFileSync(log, 'utf8').split('\n').filter(Boolean)
  } catch {
    return []
  }
}

test.before(async () => {
  lab.addSwitch()
  lab.addNode({ name: 'd1', ipv4: '10.74.0.1/24', mac: MAC(1) })
  d1 = new Director(lab, 'd1', cfg.write('d1.yaml', conf()))
  await d1.waitSettled('MASTER', 20_000)
})
test.after.always(async () => {
  d1?.kill('SIGKILL')
  await d1?.exited
  spawnSync('pkill', ['-f', TAG])
  lab.dispose()
  cfg.dispose()
})

test.serial('notify programs that leave a child behind do not hold up the next notify', async (t) => {
  await waitFor(() => states().includes('MASTER'), 10_000)
  const t0 = Date.now()
  t.is(lvsctl(['release', 'web']).status, 0)
  await waitFor(() => states().at(-1) === 'FAULT', 10_000)
  t.is(lvsctl(['resume', 'web']).status, 0)
  await waitFor(() => states().at(-1) === 'MASTER', 10_000)
  t.true(Date.now() - t0 < 10_000, 'each notify ran when its transition happened, not 30 s later')
  t.true(states().includes('FAULT'))
})

test.serial(
  'idle connections up to the descriptor limit: lvsctl still answers and notify programs still run',
  async (t) => {
    const pid = d1.proc.pid as number
    const limit = 256
    const set = spawnSync('prlimit', ['--pid', String(pid), `--nofile=${limit}:${limit}`])
    t.is(set.status, 0, String(set.stderr))
    // an unprivileged attacker's idle connections, from inside d1's namespace (the port is on loopback)
    const opener = spawnSync(
      'ip',
      [
        'netns',
        'exec',
        lab.ns('d1'),
        process.execPath,
        '-e',
        `const net=require('node:net');let open=0,closed=0;const all=[];
       for(let i=0;i<${limit + 100};i++){const c=net.connect(9479,'127.0.0.1');all.push(c);
         c.on('connect',()=>open++);c.on('error',()=>{});c.on('close',()=>closed++)}
       setTimeout(()=>{process.stdout.write(JSON.stringify({open,closed}));process.exit(0)},2000)`,
      ],
      { encoding: 'utf8', timeout: 30_000 },
    )
    const counts = JSON.parse(opener.stdout || '{}')
    t.true(counts.closed >= limit + 100 - 16 - 1, `${JSON.stringify(counts)}: connections past the cap were closed`)
    // meanwhile lvsd kept its descriptors: the API answers and a transition's notify program runs
    const before = states().length
    t.is(lvsctl(['status']).status, 0)
    t.is(lvsctl(['release', 'web']).status, 0)
    await waitFor(() => states().length > before && states().at(-1) === 'FAULT', 10_000)
    t.is(lvsctl(['resume', 'web']).status, 0)
    await d1.waitState('MASTER', 10_000, d1.mark() - 1)
  },
)

test.serial('a failed notify program is an event and a metric', async (t) => {
  const bad = program('failing-notify.sh', 'exit 7')
  writeFileSync(join(cfg.dir, 'd1.yaml'), conf().replace(`any: [${notify}]`, `any: [${bad}]`))
  t.is(lvsctl(['reload']).status, 0)
  t.is(lvsctl(['release', 'web']).status, 0)
  const ev = await waitFor(() => {
    const r = lvsctl(['events', '--no-follow', '--json'])
    return r.out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .find((e) => e.name === 'program.failed')
  }, 10_000)
  t.like(ev.data, { role: 'notify', owner: 'web', reason: 'exit' })
  t.is(lvsctl(['resume', 'web']).status, 0)
  const metrics = fetchIn(lab, 'd1', 'http://127.0.0.1:9479/metrics')
  t.regex(metrics, /^lvsd_program_failures_total\{role="notify",reason="exit"\} [1-9]/m)
  writeFileSync(join(cfg.dir, 'd1.yaml'), conf())
  t.is(lvsctl(['reload']).status, 0)
})

test.serial('an exec check or track script with an unknown user is refused by lvsd check and by reload', async (t) => {
  const typo = `node: d1
virtual_services:
  - name: web
    address: 10.74.0.100
    port: 80
    protocol: tcp
    checks: [{ type: exec, argv: [/bin/true], user: nobdy }]
    real_servers: [{ address: 10.74.0.7 }]
`
  const file = cfg.write('typo.yaml', typo)
  const check = spawnSync(process.execPath, [join(repoRoot, 'bin/lvsd.js'), 'check', file], { encoding: 'utf8' })
  t.not(check.status, 0)
  t.regex(check.stderr, /typo\.yaml:7:\d+ virtual_services\[0\]\.checks\[0\]\.user: no user nobdy/)
  const good = conf()
  writeFileSync(
    join(cfg.dir, 'd1.yaml'),
    good.replace('  instances:', '  scripts:\n    - { name: chk, argv: [/bin/true], user: nobdy }\n  instances:'),
  )
  const r = lvsctl(['reload'])
  writeFileSync(join(cfg.dir, 'd1.yaml'), good)
  t.not(r.status, 0)
  t.regex(r.err + r.out, /no user nobdy/)
  t.is(JSON.parse(lvsctl(['status', '--json']).out).instances[0].state, 'MASTER')
})

test.serial('a 200 MB reload body is refused before it is read; after= past a restart is an error', async (t) => {
  const rssBefore = Number(readFileSync(`/proc/${d1.proc.pid}/statm`, 'utf8').split(' ')[1]) * 4096
  const s: Socket = connect(join(cfg.dir, 'd1.sock'))
  let reply = ''
  s.on('data', (d) => {
    reply += d.toString()
  })
  s.on('error', () => {})
  s.write('POST /v1/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 209715200\r\n\r\n')
  const chunk = Buffer.alloc(1 << 20)
  let written = 0
  for (let i = 0; i < 200 && !s.destroyed; i++) {
    written += chunk.length
    if (!s.write(chunk)) await new Promise((r) => s.once('drain', r).once('close', r))
  }
  await waitFor(() => s.destroyed || reply.includes('413'), 10_000)
  s.destroy()
  // the 413 may be lost to the reset the kernel sends for the unread body: the proof is that the
  // connection was cut long before the 200 MB were taken
  t.true(
    reply.startsWith('HTTP/1.1 413') || written < 64 * 2 ** 20,
    `${written} bytes taken, reply ${reply.slice(0, 20)}`,
  )
  const rssAfter = Number(readFileSync(`/proc/${d1.proc.pid}/statm`, 'utf8').split(' ')[1]) * 4096
  t.true(rssAfter - rssBefore < 16 * 2 ** 20, `RSS grew ${((rssAfter - rssBefore) / 2 ** 20).toFixed(1)} MiB`)
  const ev = lvsctl(['events', '--no-follow', '--after', '99999999'])
  t.not(ev.status, 0)
  t.regex(ev.err, /restarted/)
})

test.serial('lvsd check warns about a world-writable socket, metrics off loopback and a readable password', (t) => {
  const file = cfg.write(
    'exposed.yaml',
    `node: d1
control: { socket: /run/lvsd/x.sock, mode: 0777 }
metrics: { enabled: true, address: 0.0.0.0 }
vrrp:
  version: 2
  instances:
    - name: web
      interface: eth0
      vrid: 64
      vips: [10.74.0.100/24]
      authentication: { type: pass, password: secret1 }
`,
  )
  chmodSync(file, 0o644)
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin/lvsd.js'), 'check', file], { encoding: 'utf8' })
  t.is(r.status, 0, 'valid, with warnings')
  t.regex(r.stderr, /warning: .*exposed\.yaml:2:\d+ control\.mode: mode 0777 lets every local user/)
  t.regex(r.stderr, /warning: .*metrics\.address: metrics are served beyond this host/)
  t.regex(r.stderr, /warning: .*password: this file holds a password and every local user can read it/)
  t.notRegex(r.stdout + r.stderr, /secret1/, 'the password itself is never printed')
})

test.serial('SIGTERM with notify programs that leave children: lvsd exits at once, cleanly', async (t) => {
  const t0 = Date.now()
  d1.kill('SIGTERM')
  t.like(await d1.exited, { code: 0 })
  t.true(Date.now() - t0 < 10_000, `stopped in ${Date.now() - t0} ms (the STOP notify's child does not hold it)`)
})
