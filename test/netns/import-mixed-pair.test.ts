// Migration drill with real parts: one keepalived.conf for a pair (@k1 / @d2 conditional lines),
// converted by `lvsd import --pair`; keepalived 2.2.7 runs the original file as master on k1, lvsd runs
// the converted file as backup on d2. They elect (keepalived MASTER, lvsd BACKUP), and when keepalived
// dies (SIGSTOP then SIGKILL of its processes, a crash: it sends no priority 0) lvsd takes over with
// exactly the VIPs keepalived held. Needs root (namespaces).
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { parse as parseYaml } from 'yaml'
import { Lab, sh, waitFor } from '../helpers/netns.js'
import { repoRoot } from '../helpers/paths.js'
import { addrs, ConfigDir, controlSocket, Director, MAC, sleep } from './agents/vrrp-harness.js'

const VIPS = ['10.75.0.100/24', '10.75.0.101/24']

const KEEPALIVED_CONF = `! one file for both directors; keepalived -i / lvsd import --instance picks the lines
global_defs {
    @k1 router_id k1
    @d2 router_id d2
    enable_script_security
    script_user root
}

vrrp_script chk_true {
    script "/bin/true"
    interval 1
    fall 2
    rise 1
}

vrrp_instance web {
    @k1 state MASTER
    @d2 state BACKUP
    interface eth0
    virtual_router_id 62
    version 3
    @k1 priority 150
    @d2 priority 100
    advert_int 0.1
    track_script {
        chk_true
    }
    virtual_ipaddress {
        ${VIPS[0]} dev eth0
        ${VIPS[1]}
    }
}
`

const lvsd = (args: string[]) =>
  spawnSync(process.execPath, [join(repoRoot, 'bin/lvsd.js'), ...args], { encoding: 'utf8' })

test('keepalived master with the original file, lvsd backup with the converted one: elect, then lvsd takes over on a crash', async (t) => {
  const lab = new Lab('mp')
  const cfg = new ConfigDir()
  try {
    const conf = cfg.write('keepalived.conf', KEEPALIVED_CONF)
    // the pair's conversion: both files, no difference beyond priority and state
    const pair = lvsd(['import', '--pair', conf, conf, '--instance-a', 'k1', '--instance-b', 'd2', '-o', cfg.dir])
    t.is(pair.status, 1, pair.stderr) // 1: converted with notes (enable_script_security has no lvsd equivalent)
    t.regex(pair.stderr, /the two files differ only where a pair should/)
    for (const n of ['k1', 'd2']) t.is(lvsd(['check', join(cfg.dir, `${n}.yaml`)]).status, 0, n)
    const d2yaml = join(cfg.dir, 'd2.yaml')
    const converted = parseYaml(readFileSync(d2yaml, 'utf8'))
    t.like(converted.vrrp.instances[0], { name: 'web', vrid: 62, priority: 100, version: 3, advert_interval: '100ms' })
    // the namespaces share one file system: the daemon gets its own control socket (not an import matter)
    writeFileSync(d2yaml, readFileSync(d2yaml, 'utf8') + controlSocket(cfg, 'd2'))

    lab.addSwitch()
    lab.addNode({ name: 'k1', ipv4: '10.75.0.1/24', mac: MAC(1) })
    lab.addNode({ name: 'd2', ipv4: '10.75.0.2/24', mac: MAC(2) })
    const pid = (n: string) => join(cfg.dir, `k1-${n}.pid`)
    const ka = lab.spawn('k1', 'keepalived', [
      ...['-P', '-n', '-l', '-D', '-G', '-R', '-f', conf, '-i', 'k1'],
      ...['-p', pid('k'), '-r', pid('v'), '-c', pid('c'), '-b', pid('b')],
    ])
    let kaLog = ''
    for (const s of [ka.stdout, ka.stderr]) s?.on('data', (b: Buffer) => (kaLog += b.toString()))
    await waitFor(() => kaLog.includes('(web) Entering MASTER STATE'), 15_000)
    await waitFor(() => VIPS.every((v) => addrs(lab, 'k1').includes(v)), 5000)

    const d2 = new Director(lab, 'd2', d2yaml)
    await d2.waitSettled('BACKUP', 20_000)
    await sleep(1000) // ten advert intervals: lvsd hears keepalived and stays backup
    t.is(d2.state(), 'BACKUP')
    // keepalived passes through BACKUP at start-up; after MASTER it must not go back
    t.true(
      kaLog.lastIndexOf('(web) Entering MASTER') > kaLog.lastIndexOf('(web) Entering BACKUP'),
      'keepalived stayed master',
    )
    t.deepEqual(
      VIPS.filter((v) => addrs(lab, 'd2').includes(v)),
      [],
    )
    const held = addrs(lab, 'k1').filter((a) => /^10\.75\.0\.1\d\d\//.test(a))

    t.deepEqual([...held].sort(), VIPS, 'keepalived held both VIPs')
    // a crash: stop every keepalived process in k1's namespace first, so none can clean up, then kill them
    const pids = sh('ip', ['netns', 'pids', lab.ns('k1')])
      .split(/\s+/)
      .filter(Boolean)
      .map(Number)
    for (const p of pids) process.kill(p, 'SIGSTOP')
    const mark = d2.mark()
    const killedAt = Date.now()
    for (const p of pids) process.kill(p, 'SIGKILL')
    const m = await d2.waitState('MASTER', 10_000, mark)
    const took = Date.now() - killedAt
    t.is(m.why, 'master_down')
    await waitFor(() => VIPS.every((v) => addrs(lab, 'd2').includes(v)), 5000)
    t.deepEqual(
      addrs(lab, 'd2')
        .filter((a) => /^10\.75\.0\.1\d\d\//.test(a))
        .sort(),
      [...held].sort(),
      'lvsd holds the same VIPs keepalived held',
    )
    t.true(took < 3000, `takeover after ${took} ms (3 × 100 ms + skew expected)`)
    t.log(`lvsd MASTER ${took} ms after keepalived was killed`)
    d2.kill('SIGTERM')
    t.is((await d2.exited).code, 0)
  } finally {
    lab.dispose()
    cfg.dispose()
  }
})
