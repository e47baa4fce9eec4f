// A takeover's advert, VIP additions and first GARP/NA round leave in one native call at the
// deadline (takeover-wire.ts, sys/sent-ahead.ts), and the commit that follows takes each result
// instead of sending again: on the wire (a third namespace on the same bridge) the backup of a
// crashed master sends its advert, then exactly one burst per VIP, and the VIPs are on its interface.
import test from 'ava'
import { HexCapture } from '../helpers/hex-capture.js'
import { Lab, waitFor } from '../helpers/netns.js'
import { addrs, ConfigDir, controlSocket, Director, type LogLine } from './agents/vrrp-harness.js'

const REPEAT = 3

/** What a captured frame is, from its hex (2 digits per byte, Ethernet header first). */
function kind(hex: string): { what: 'advert' | 'garp' | 'na' | 'other'; vrid?: number; src?: string } {
  const byte = (i: number) => hex.slice(i * 2, i * 2 + 2)
  const ethertype = hex.slice(24, 28)
  if (ethertype === '0806') return { what: 'garp', src: hex.slice(56, 64) }
  if (ethertype === '0800' && byte(23) === '70')
    return { what: 'advert', vrid: Number.parseInt(byte(35), 16), src: hex.slice(52, 60) }
  if (ethertype === '86dd' && byte(20) === '70')
    return { what: 'advert', vrid: Number.parseInt(byte(55), 16), src: hex.slice(44, 76) }
  if (ethertype === '86dd' && byte(20) === '3a' && byte(54) === '88') return { what: 'na', src: hex.slice(44, 76) }
  return { what: 'other' }
}

const ip4hex = (a: string) =>
  a
    .split('.')
    .map((x) => Number(x).toString(16).padStart(2, '0'))
    .join('')

test('a crashed master’s backup sends its advert, then one burst per VIP, each datagram once', async (t) => {
  const lab = new Lab('tw')
  const cfg = new ConfigDir()
  t.teardown(() => {
    lab.dispose()
    cfg.dispose()
  })
  lab.addNode({ name: 'd1', ipv4: '10.0.0.5/24', ipv6: 'fd00:c::5/64' })
  lab.addNode({ name: 'd2', ipv4: '10.0.0.6/24', ipv6: 'fd00:c::6/64' })
  lab.addNode({ name: 'cap' })
  await lab.ipv6Ready(['d1', 'd2'])
  const conf = (node: string, priority: number) =>
    cfg.write(
      `${node}.yaml`,
      `node: ${node}
logging: { level: debug }
${controlSocket(cfg, node)}vrrp:
  garp: { repeat: ${REPEAT}, delay: 0s }
  instances:
    - { name: V4, interface: eth0, vrid: 71, priority: ${priority}, version: 3, advert_interval: 100ms, vips: [10.0.0.30/24, 10.0.0.31/24] }
    - { name: V6, interface: eth0, vrid: 72, priority: ${priority}, version: 3, advert_interval: 100ms, vips: ['fd00:c::30/64'] }
`,
    )
  const d1 = new Director(lab, 'd1', conf('d1', 150))
  for (const name of ['V4', 'V6']) await d1.waitState('MASTER', 30_000, 0, name)
  const d2 = new Director(lab, 'd2', conf('d2', 100))
  for (const name of ['V4', 'V6']) await d2.waitState('BACKUP', 30_000, 0, name)
  const cap = await HexCapture.start(lab, 'cap', 'eth0', 'arp or ip proto 112 or ip6 proto 112 or icmp6')
  // d1's adverts reach the capture before the crash: it is listening
  await waitFor(() => cap.frames.some((f) => kind(f).what === 'advert'), 10_000)

  d1.kill('SIGKILL')
  await d1.exited
  const sent = (name: string) => (l: LogLine) => l.msg === 'takeover datagrams sent in one call' && l.vrrp === name
  const v4 = await d2.waitLine(sent('V4'), 10_000)
  const v6 = await d2.waitLine(sent('V6'), 10_000)
  for (const name of ['V4', 'V6']) await d2.waitState('MASTER', 10_000, 0, name)
  // one advert, one rtnetlink datagram for all the instance's VIPs, then the burst for each VIP
  const field = (l: LogLine, k: string) => (l as LogLine & Record<string, unknown>)[k]
  t.is(field(v4, 'datagrams'), 1 + 1 + REPEAT * 2)
  t.is(field(v6, 'datagrams'), 1 + 1 + REPEAT)
  // nothing queued at the deadline (the master is dead): sent from the wait in C, no JavaScript between
  t.true(field(v4, 'atDeadline'))
  t.true(field(v6, 'atDeadline'))

  const fromD2 = () => {
    const frames = cap.frames.map(kind)
    const first = frames.findIndex((f) => f.what === 'advert' && f.src === ip4hex('10.0.0.6'))
    return first < 0 ? [] : frames.slice(first)
  }
  const garps = (ip: string) => fromD2().filter((f) => f.what === 'garp' && f.src === ip4hex(ip)).length
  const nas = () => fromD2().filter((f) => f.what === 'na' && f.src === 'fd00000c000000000000000000000030').length
  await waitFor(() => garps('10.0.0.30') >= REPEAT && garps('10.0.0.31') >= REPEAT && nas() >= REPEAT, 10_000)
  // the second burst is off (delay 0s) and there are no refreshes: a datagram sent by both the
  // batch and the commit would show as a second burst here; give it time to show
  const settled = cap.frames.length
  await waitFor(() => cap.frames.length >= settled + 10, 10_000) // ten more adverts of the new master
  t.is(garps('10.0.0.30'), REPEAT)
  t.is(garps('10.0.0.31'), REPEAT)
  t.is(nas(), REPEAT, 'unsolicited NAs from the IPv6 VIP itself: it was on the interface when they left')

  // on the wire the new master's advert comes first, then the VIPs' announcements
  const seq = fromD2()
  const firstGarp = seq.findIndex((f) => f.what === 'garp')
  t.true(firstGarp > 0, 'the IPv4 advert precedes the first GARP')
  const v6advert = seq.findIndex((f) => f.what === 'advert' && f.vrid === 72)
  const firstNa = seq.findIndex((f) => f.what === 'na')
  t.true(v6advert >= 0 && v6advert < firstNa, 'the IPv6 advert precedes the first NA')

  t.true(addrs(lab, 'd2').some((a) => a.startsWith('10.0.0.30/')))
  t.true(addrs(lab, 'd2').some((a) => a.startsWith('10.0.0.31/')))
  t.true(addrs(lab, 'd2').some((a) => a.startsWith('fd00:c::30/')))
  const trouble = d2.lines.filter((l) => l.level >= 40) // pino's warn and above
  t.deepEqual(
    trouble.map((l) => l.msg),
    [],
    'no datagram sent that the commit did not ask for, no VIP refused as already there',
  )
  d2.kill('SIGTERM')
  await d2.exited
  await cap.stop()
})
