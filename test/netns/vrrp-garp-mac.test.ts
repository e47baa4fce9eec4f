// A master's GARP and NA name the interface's MAC as it is now: lvsd builds each VIP's announcement
// once and sends it as is, so an interface whose MAC changes (a bond failing over to another slave,
// an operator's `ip link set address`) must have it rebuilt, in the Ethernet source, the ARP sender
// and the NA's target link-layer option alike. Needs root (network namespaces).
import test from 'ava'
import { HexCapture } from '../helpers/hex-capture.js'
import { Lab, sh, waitFor } from '../helpers/netns.js'
import { ConfigDir, controlSocket, Director } from './agents/vrrp-harness.js'

const OLD_MAC = '02c000000005'
const NEW_MAC = '02c000000077'

/** The MACs a GARP or an unsolicited NA names, from its hex (undefined for any other frame). */
function named(hex: string): { kind: 'garp' | 'na'; macs: string[] } | undefined {
  const ethertype = hex.slice(24, 28)
  const ethSrc = hex.slice(12, 24)
  // an ARP request whose sender and target address are the same
  if (ethertype === '0806' && hex.slice(40, 44) === '0001' && hex.slice(56, 64) === hex.slice(76, 84))
    return { kind: 'garp', macs: [ethSrc, hex.slice(44, 56)] }
  // ICMPv6 type 136 without the Solicited flag, its target link-layer address option (type 2,
  // length 1) right after the target
  const unsolicitedNa =
    ethertype === '86dd' &&
    hex.slice(40, 42) === '3a' &&
    hex.slice(108, 110) === '88' &&
    (Number.parseInt(hex.slice(116, 118), 16) & 0x40) === 0 &&
    hex.slice(156, 160) === '0201'
  if (unsolicitedNa) return { kind: 'na', macs: [ethSrc, hex.slice(160, 172)] }
  return undefined
}

test('after a MAC change the refresh GARP and NA name the new MAC, and none the old one again', async (t) => {
  const lab = new Lab('gm')
  const cfg = new ConfigDir()
  t.teardown(() => {
    lab.dispose()
    cfg.dispose()
  })
  lab.addPair(
    { name: 'd1', ipv4: '10.0.0.5/24', ipv6: 'fd00:c::5/64', mac: '02:c0:00:00:00:05' },
    { name: 'cap', mac: '02:c0:00:00:00:64' },
  )
  const cap = await HexCapture.start(lab, 'cap', 'eth0', 'arp or icmp6')
  const d = new Director(
    lab,
    'd1',
    cfg.write(
      'd1.yaml',
      `node: d1
${controlSocket(cfg, 'd1')}vrrp:
  garp: { repeat: 1, delay: 0s, refresh: 300ms }
  instances:
    - { name: V4, interface: eth0, vrid: 61, priority: 100, version: 3, advert_interval: 100ms, vips: [10.0.0.3/24] }
    - { name: V6, interface: eth0, vrid: 62, priority: 100, version: 3, advert_interval: 100ms, vips: ['fd00:c::3/64'] }
`,
    ),
  )
  for (const name of ['V4', 'V6']) await d.waitState('MASTER', 30_000, 0, name)
  const announced = (from: number, kind: 'garp' | 'na', mac: string) => () =>
    cap.frames.slice(from).some((f) => {
      const a = named(f)
      return a?.kind === kind && a.macs.every((m) => m === mac)
    })
  await waitFor(announced(0, 'garp', OLD_MAC), 10_000)
  await waitFor(announced(0, 'na', OLD_MAC), 10_000)

  // a live change where the driver allows it (veth does), else the usual down/up around it
  const ns = lab.ns('d1')
  try {
    sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'address', '02:c0:00:00:00:77'])
  } catch {
    sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'down'])
    sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'address', '02:c0:00:00:00:77'])
    sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up'])
  }
  const changed = cap.frames.length
  await waitFor(announced(changed, 'garp', NEW_MAC), 10_000)
  await waitFor(announced(changed, 'na', NEW_MAC), 10_000)
  // three more refresh periods: every announcement since the first new one names only the new MAC
  const firstNew = cap.frames.findIndex((f, i) => i >= changed && named(f)?.macs.every((m) => m === NEW_MAC))
  const settledAt = cap.frames.length
  await waitFor(() => cap.frames.slice(settledAt).filter((f) => named(f)?.kind === 'garp').length >= 3, 10_000)
  const stale = cap.frames
    .slice(firstNew)
    .map(named)
    .filter((a) => a?.macs.some((m) => m !== NEW_MAC))
  t.deepEqual(stale, [], 'no announcement after the first new one names another MAC')
  t.true(d.proc.exitCode === null, 'lvsd still running')
  d.kill('SIGTERM')
  await d.exited
  await cap.stop()
})
