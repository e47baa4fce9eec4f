// Accept_Mode (RFC 5798 §6.1) in a namespace: a master with `accept: false` holds its VIPs but
// drops what is addressed to them (nftables table lvsd_vrrp), while ARP and IPv6 Neighbour
// Discovery for them still work; an instance with accept on answers; a reload lifts the rule;
// stopping removes the table. The runtime is the VrrpRuntime the daemon uses (update agent).
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import test from 'ava'
import { Lab, sh, waitFor } from '../helpers/netns.js'
import { distRoot } from '../helpers/paths.js'
import { addrs, arpAnswer, ConfigDir, controlSocket, Director, MAC, neighMac } from './agents/vrrp-harness.js'

const lab = new Lab('va')
const cfg = new ConfigDir()
const AGENT = join(distRoot, 'test/netns/agents/vrrp-update-agent.js')
const NOPE = '10.81.0.100'
const OPEN = '10.81.0.101'
const NOPE6 = 'fd00:81::100'

function conf(webAccept: boolean): string {
  return cfg.write(
    'd1.yaml',
    `node: d1
${controlSocket(cfg, 'd1')}vrrp:
  version: 3
  advert_interval: 100ms
  instances:
    - { name: web, interface: eth0, vrid: 51, accept: ${webAccept}, vips: [${NOPE}/24] }
    - { name: api, interface: eth0, vrid: 52, accept: true, vips: [${OPEN}/24] }
    - { name: web6, interface: eth0, vrid: 53, accept: false, vips: ["${NOPE6}/64"] }
`,
  )
}

/**
 * Whether d1's kernel takes a TCP SYN to `ip` (port 9, nothing listens): refused at once means the
 * packet was accepted and answered with a reset; a timeout means it was dropped.
 */
const accepted = (ip: string): boolean => {
  const r = spawnSync('ip', ['netns', 'exec', lab.ns('c'), 'timeout', '2', 'bash', '-c', `echo > /dev/tcp/${ip}/9`], {
    encoding: 'utf8',
  })
  if (r.status === 124) return false
  if (/refused/i.test(r.stderr)) return true
  throw new Error(`unexpected probe result ${r.status}: ${r.stderr}`)
}
const table = (): string => {
  try {
    return sh('ip', ['netns', 'exec', lab.ns('d1'), '/usr/sbin/nft', 'list', 'table', 'inet', 'lvsd_vrrp'])
  } catch {
    return ''
  }
}

test.before(async () => {
  lab.addSwitch()
  lab.addNode({ name: 'd1', ipv4: '10.81.0.1/24', ipv6: 'fd00:81::1/64', mac: MAC(1) })
  lab.addNode({ name: 'c', ipv4: '10.81.0.50/24', ipv6: 'fd00:81::50/64', mac: MAC(0x50) })
  await waitFor(() => addrs(lab, 'd1').some((a) => a.startsWith('fe80:')), 10_000)
})
test.after.always(() => {
  lab.dispose()
  cfg.dispose()
})

test.serial(
  'accept: false — the master holds the VIPs but drops traffic to them; ARP and ND still answer',
  async (t) => {
    const d1 = new Director(lab, 'd1', '', [AGENT, conf(false)])
    for (const i of ['web', 'api', 'web6']) await d1.waitState('MASTER', 20_000, 0, i)
    await waitFor(() => addrs(lab, 'd1').includes(`${NOPE}/24`) && addrs(lab, 'd1').includes(`${NOPE6}/64`), 5000)
    t.regex(table(), new RegExp(NOPE.replaceAll('.', '\\.')))
    t.notRegex(table(), new RegExp(OPEN.replaceAll('.', '\\.')), 'accept: true is not in the table')
    t.true(accepted(OPEN), 'accept: true answers')
    t.false(accepted(NOPE), 'accept: false drops the SYN')
    t.false(accepted(NOPE6), 'and over IPv6')
    t.is(arpAnswer(lab, 'c', NOPE), MAC(1), 'ARP for the VIP is still answered')
    await waitFor(() => neighMac(lab, 'c', NOPE6) === MAC(1), 5000)

    // a reload turning accept on for web lifts its rule (the runtime's update path)
    const mark = d1.mark()
    conf(true)
    d1.kill('SIGHUP')
    const r = await d1.waitLine((l) => l.msg === 'updated', 10_000, mark)
    t.deepEqual(r.report, { added: [], removed: [], changed: ['web'], unchanged: ['api', 'web6'] })
    t.true(accepted(NOPE), 'accepted after the reload')
    t.false(accepted(NOPE6), 'web6 still drops')

    d1.kill('SIGTERM')
    t.is((await d1.exited).code, 0)
    t.is(table(), '', 'stopping removes the table')
  },
)
