// The doctor's pure parts: the SYN probe frame is a valid IPv4/TCP SYN (checksums verify), answers
// decode back, and each probe result maps to the finding that names the server and the fix.
import test from 'ava'
import { loadConfigText } from '../../src/config/load.js'
import { drFindings, runDoctor } from '../../src/director/doctor.js'
import { formatAddr, parseAddr } from '../../src/net/addr.js'
import { internetChecksum, pseudoChecksum } from '../../src/net/checksum.js'
import * as syn from '../../src/net/tcp-syn.js'

const probe: syn.SynProbe = {
  dstMac: Uint8Array.of(2, 0, 0, 0, 0, 7),
  srcMac: Uint8Array.of(2, 0, 0, 0, 0, 1),
  src: parseAddr('10.0.0.1'),
  dst: parseAddr('10.0.0.3'),
  srcPort: 40000,
  dstPort: 80,
  seq: 0xdeadbeef,
}

test('the SYN probe frame carries a valid IPv4 header and TCP checksum to the server MAC', (t) => {
  const f = syn.encode(probe)
  t.is(f.length, syn.SYN_FRAME_LEN)
  t.deepEqual([...f.subarray(0, 6)], [2, 0, 0, 0, 0, 7])
  t.is(internetChecksum(f, 14, 20), 0, 'IP header checksum verifies')
  t.is(pseudoChecksum(probe.src, probe.dst, 6, f.subarray(34, 54)), 0, 'TCP checksum verifies')
  const seen = syn.decode(f)?.value
  t.is(seen?.flags, syn.TCP_SYN)
  t.is(seen?.dstPort, 80)
  t.is(seen?.srcPort, 40000)
})

test('decode ignores frames that are not IPv4 TCP and throws only LvsdError on a cut TCP header', (t) => {
  const arpFrame = Buffer.alloc(60)
  arpFrame.writeUInt16BE(0x0806, 12)
  t.is(syn.decode(arpFrame), undefined)
  const cut = syn.encode(probe).subarray(0, 40)
  t.is(t.throws(() => syn.decode(cut))?.name, 'LvsdError')
})

test('an IPv6 probe is refused as an encode error', (t) => {
  t.is(t.throws(() => syn.encode({ ...probe, dst: parseAddr('fd00::3') }))?.name, 'LvsdError')
})

const server = parseAddr('10.0.0.7')
const vip = parseAddr('10.0.0.3')
const mac = Uint8Array.of(2, 0, 0, 0, 0, 7)
const kinds = (p: Parameters<typeof drFindings>[5]) => drFindings('web', server, 80, vip, 'eth0', p).map((f) => f.kind)

test('each probe result is its finding; a server that accepts the VIP, listens and keeps quiet on ARP has none', (t) => {
  t.deepEqual(kinds({ answersVipArp: false }), ['not-on-segment'])
  t.deepEqual(kinds({ serverMac: mac, answersVipArp: true, syn: 'syn-ack' }), ['answers-vip-arp'])
  t.deepEqual(kinds({ serverMac: mac, answersVipArp: false, syn: 'none' }), ['vip-not-accepted'])
  t.deepEqual(kinds({ serverMac: mac, answersVipArp: false, syn: 'rst' }), ['port-closed'])
  t.deepEqual(kinds({ serverMac: mac, answersVipArp: false, syn: 'syn-ack' }), [])
  const [f] = drFindings('web', server, 80, vip, 'eth0', { serverMac: mac, answersVipArp: false, syn: 'none' })
  t.is(f?.server, '10.0.0.7:80')
  t.regex(f?.fix ?? '', /lvsd realserver up/)
})

const doctorConfig = `node: d
vrrp:
  instances:
    - { name: web, interface: eth1, vrid: 1, priority: 100, vips: [10.0.0.3/24] }
virtual_services:
  - name: web
    address: 10.0.0.3
    port: 80
    protocol: tcp
    forwarding: dr
    real_servers:
      - { address: 10.0.0.7 }
      - { address: 10.0.0.8, forwarding: tun }
  - name: dns
    address: 10.0.0.3
    port: 53
    protocol: udp
    forwarding: dr
    real_servers: [{ address: 10.0.0.7 }]
`

test('runDoctor probes DR TCP servers of the configured services on the VIP’s instance interface and lists the rest as skipped', async (t) => {
  const loaded = loadConfigText(doctorConfig, 'd.yaml')
  if (!loaded.ok) return t.fail(JSON.stringify(loaded.errors))
  const asked: string[] = []
  const r = await runDoctor(loaded.config, undefined, async (target) => {
    asked.push(`${target.ifname} ${formatAddr(target.server)} ${formatAddr(target.vip)}:${target.port}`)
    return { serverMac: mac, answersVipArp: true, syn: 'syn-ack' }
  })
  t.deepEqual(asked, ['eth1 10.0.0.7 10.0.0.3:80'])
  t.deepEqual(
    r.checked.map((c) => `${c.service} ${c.server} ${c.result}`),
    ['web 10.0.0.7:80 probed', 'web 10.0.0.8:80 skipped', 'dns 10.0.0.7:53 skipped'],
  )
  t.deepEqual(
    r.findings.map((f) => f.kind),
    ['answers-vip-arp'],
  )
  const one = await runDoctor(loaded.config, 'dns', async () => t.fail('a UDP service is not probed') as never)
  t.is(one.checked.length, 1)
  await t.throwsAsync(
    runDoctor(loaded.config, 'nosuch', async () => ({ answersVipArp: false })),
    {
      name: 'LvsdError',
    },
  )
})
