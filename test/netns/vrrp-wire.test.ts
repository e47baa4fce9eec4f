// lvsd on the wire, byte for byte against keepalived 2.2.7's own frames (test/fixtures/vrrp, same
// MAC, addresses and instances as its capture): VRRPv2 and VRRPv3 adverts over IPv4, VRRPv3 over
// IPv6, the gratuitous ARP and the unsolicited NA. Only what the kernel picks per packet is masked:
// the IPv4 identification and header checksum, and the IPv6 flow label of adverts.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { HexCapture } from '../helpers/hex-capture.js'
import { Lab, waitFor } from '../helpers/netns.js'
import { fixturesDir } from '../helpers/paths.js'
import { addrs, ConfigDir, controlSocket, Director } from './agents/vrrp-harness.js'

const lab = new Lab('vw')
const cfg = new ConfigDir()
let frames: string[] = []

const WANTED = [
  ['v2-advert.hex', 'the VRRPv2 advert'],
  ['v3-ipv4-advert.hex', 'the VRRPv3 IPv4 advert'],
  ['v3-ipv6-advert.hex', 'the VRRPv3 IPv6 advert (link-local source, hop limit 255)'],
  ['garp.hex', 'the gratuitous ARP'],
  ['na.hex', 'the unsolicited NA'],
  ['v2-priority0.hex', 'the VRRPv2 priority-0 advert'],
  ['v3-ipv4-priority0.hex', 'the VRRPv3 IPv4 priority-0 advert'],
  ['v3-ipv6-priority0.hex', 'the VRRPv3 IPv6 priority-0 advert'],
] as const

const fixture = (name: string) =>
  readFileSync(join(fixturesDir, 'vrrp', name), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .join('')
    .trim()

/** Blanks the nibbles the kernel chooses per packet (hex offsets are 2 per byte). */
function mask(hex: string): string {
  const h = hex.split('')
  const blank = (byteFrom: number, byteTo: number) => {
    for (let i = byteFrom * 2; i < byteTo * 2; i++) h[i] = '.'
  }
  const ethertype = hex.slice(24, 28)
  if (ethertype === '0800') {
    blank(18, 20) // identification
    blank(24, 26) // header checksum
  } else if (ethertype === '86dd' && hex.slice(40, 42) === '70') {
    for (let i = 14 * 2 + 3; i < 14 * 2 + 8; i++) h[i] = '.' // flow label of adverts (20 bits)
  }
  return h.join('')
}

test.before(async () => {
  const [d1] = lab.addPair(
    { name: 'd1', ipv4: '10.0.0.5/24', ipv6: 'fd00:c::5/64', mac: '02:c0:00:00:00:05' },
    { name: 'cap', mac: '02:c0:00:00:00:64' },
  )
  await waitFor(() => addrs(lab, 'd1').some((a) => a.startsWith('fe80:')), 10_000)
  const cap = await HexCapture.start(lab, 'cap', 'eth0', 'ip proto 112 or ip6 proto 112 or arp or icmp6')
  const conf = cfg.write(
    'd1.yaml',
    `node: d1
${controlSocket(cfg, 'd1')}vrrp:
  instances:
    - { name: V2, interface: eth0, vrid: 51, priority: 100, version: 2, advert_interval: 1s, vips: [10.0.0.3/24] }
    - { name: V3, interface: eth0, vrid: 54, priority: 100, version: 3, advert_interval: 100ms, vips: [10.0.0.9/24, 10.0.0.10/24] }
    - { name: V6, interface: eth0, vrid: 52, priority: 100, version: 3, advert_interval: 1s, vips: ['fd00:c::3/64'] }
`,
  )
  const d = new Director(lab, 'd1', conf)
  for (const name of ['V2', 'V3', 'V6']) await d.waitState('MASTER', 30_000, 0, name)
  frames = cap.frames
  // a missing frame is for its own test to report, with the nearest ones seen
  const seen = (files: readonly string[]) => () => files.every((f) => frames.some((x) => mask(x) === mask(fixture(f))))
  const files = WANTED.map(([file]) => file)
  await waitFor(seen(files.slice(0, 5)), 15_000).catch(() => {})
  d.kill('SIGTERM')
  await d.exited
  await waitFor(seen(files.slice(5)), 5_000).catch(() => {})
  await cap.stop()
  void d1
})
test.after.always(() => {
  lab.dispose()
  cfg.dispose()
})

for (const [file, what] of WANTED) {
  test(`${what} is keepalived's frame byte for byte`, (t) => {
    const want = mask(fixture(file))
    const got = frames.map(mask)
    const same = got.find((f) => f === want)
    const near = got.filter((f) => f.length === want.length && f.slice(0, 28) === want.slice(0, 28))
    t.truthy(same, `want ${want}\nnearest:\n${near.slice(0, 3).join('\n')}`)
  })
}
