// The doctor's pure parts: the SYN probe frame is a valid IPv4/TCP SYN (checksums verify), answers
// decode back, and each probe result maps to the finding that names the server and the fix.
import test from 'ava'
import { loadConfigText } from '../../src/config/load.js'
import { drFindings, routeFindings, runDoctor } from '../../src/director/doctor.js'
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

test('a probe mixing IPv4 and IPv6 is refused as an encode error', (t) => {
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

test('runDoctor probes DR servers of the configured services on the VIP’s instance interface (UDP at L2 only) and lists the rest as skipped', async (t) => {
  const loaded = loadConfigText(doctorConfig, 'd.yaml')
  if (!loaded.ok) return t.fail(JSON.stringify(loaded.errors))
  const asked: string[] = []
  const r = await runDoctor(loaded.config, undefined, async (target) => {
    asked.push(
      `${target.ifname} ${formatAddr(target.server)} ${formatAddr(target.vip)}:${target.port} ${target.protocol}`,
    )
    return target.protocol === 'udp'
      ? { serverMac: mac, answersVipArp: false }
      : { serverMac: mac, answersVipArp: true, syn: 'syn-ack' }
  })
  t.deepEqual(asked, ['eth1 10.0.0.7 10.0.0.3:80 tcp', 'eth1 10.0.0.7 10.0.0.3:53 udp'])
  t.deepEqual(
    r.checked.map((c) => `${c.service} ${c.server} ${c.result}`),
    ['web 10.0.0.7:80 probed', 'web 10.0.0.8:80 skipped', 'dns 10.0.0.7:53 probed'],
  )
  t.is(r.checked[0]?.note, undefined, 'a TCP server is probed whole')
  t.regex(r.checked[2]?.note ?? '', /^UDP: probed at L2 only .*SYN does not apply/)
  t.deepEqual(
    r.findings.map((f) => f.kind),
    ['answers-vip-arp'],
  )
  await t.throwsAsync(
    runDoctor(loaded.config, 'nosuch', async () => ({ answersVipArp: false })),
    {
      name: 'LvsdError',
    },
  )
})

const server6 = parseAddr('fd00:76::11')
const vip6 = parseAddr('fd00:76::100')
const kinds6 = (p: Parameters<typeof drFindings>[5]) =>
  drFindings('web6', server6, 80, vip6, 'eth0', p).map((f) => f.kind)

test('IPv6 DR results are the same findings, but answering an NS for the VIP is answers-vip-ns; the server is [addr]:port', (t) => {
  t.deepEqual(kinds6({ answersVipArp: false }), ['not-on-segment'])
  t.deepEqual(kinds6({ serverMac: mac, answersVipArp: true, syn: 'syn-ack' }), ['answers-vip-ns'])
  t.deepEqual(kinds6({ serverMac: mac, answersVipArp: false, syn: 'none' }), ['vip-not-accepted'])
  t.deepEqual(kinds6({ serverMac: mac, answersVipArp: false, syn: 'rst' }), ['port-closed'])
  t.deepEqual(kinds6({ serverMac: mac, answersVipArp: false, syn: 'syn-ack' }), [])
  t.deepEqual(kinds6({ serverMac: mac, answersVipArp: false }), [], 'UDP: no SYN, no SYN finding')
  const [gone] = drFindings('web6', server6, 80, vip6, 'eth0', { answersVipArp: false })
  t.is(gone?.server, '[fd00:76::11]:80')
  t.regex(gone?.problem ?? '', /does not answer a Neighbor Solicitation on eth0/)
  const [ns] = drFindings('web6', server6, 80, vip6, 'eth0', { serverMac: mac, answersVipArp: true })
  t.regex(ns?.fix ?? '', /delete fd00:76::100 from every interface but lo/)
  t.notRegex(ns?.fix ?? '', /arp_ignore/, 'no sysctl exists for NDP')
  const [syn6] = drFindings('web6', server6, 80, vip6, 'eth0', { serverMac: mac, answersVipArp: false, syn: 'none' })
  t.regex(syn6?.problem ?? '', /a SYN to \[fd00:76::100\]:80/)
})

test('runDoctor probes IPv6 DR servers (TCP and UDP) and skips IPv6 TUN and NAT servers with the reason', async (t) => {
  const loaded = loadConfigText(
    `node: d
vrrp:
  instances:
    - { name: web6, interface: eth1, vrid: 6, priority: 100, version: 3, vips: ['fd00:76::100/64'] }
virtual_services:
  - name: web6
    address: fd00:76::100
    port: 80
    protocol: tcp
    forwarding: dr
    real_servers:
      - { address: 'fd00:76::11' }
      - { address: 'fd00:76::12', forwarding: tun }
      - { address: 'fd00:76::13', forwarding: nat }
  - name: dns6
    address: fd00:76::100
    port: 53
    protocol: udp
    forwarding: dr
    real_servers: [{ address: 'fd00:76::11' }]
`,
    'd.yaml',
  )
  if (!loaded.ok) return t.fail(JSON.stringify(loaded.errors))
  const asked: string[] = []
  const r = await runDoctor(loaded.config, undefined, {
    dr: async (x) => {
      asked.push(`${x.ifname} ${formatAddr(x.server)} ${x.protocol}`)
      return { serverMac: mac, answersVipArp: true, ...(x.protocol === 'tcp' ? { syn: 'none' as const } : {}) }
    },
    tun: async () => t.fail('no IPv6 TUN probe') as never,
    nat: async () => t.fail('no IPv6 NAT probe') as never,
  })
  t.deepEqual(asked, ['eth1 fd00:76::11 tcp', 'eth1 fd00:76::11 udp'])
  t.deepEqual(
    r.checked.map((c) => `${c.server} ${c.forwarding} ${c.result}`),
    [
      '[fd00:76::11]:80 dr probed',
      '[fd00:76::12]:80 tun skipped',
      '[fd00:76::13]:80 nat skipped',
      '[fd00:76::11]:53 dr probed',
    ],
  )
  t.regex(r.checked[1]?.note ?? '', /IPv6 TUN and NAT servers are not probed/)
  t.deepEqual(
    r.findings.map((f) => `${f.service} ${f.server} ${f.kind}`),
    [
      'web6 [fd00:76::11]:80 answers-vip-ns',
      'web6 [fd00:76::11]:80 vip-not-accepted',
      'dns6 [fd00:76::11]:53 answers-vip-ns',
    ],
  )
})

test('the TUN probe frame is the same SYN behind an IP-in-IP header to the server (RFC 2003), both checksums valid', (t) => {
  const tunnel = { src: parseAddr('10.0.0.1'), dst: parseAddr('10.0.0.21') }
  const f = syn.encode({ ...probe, tunnel })
  t.is(f.length, syn.SYN_FRAME_LEN + syn.IPIP_LEN)
  t.is(syn.size({ ...probe, tunnel }), f.length)
  t.is(f.readUInt8(14 + 9), syn.IPPROTO_IPIP, 'outer protocol 4')
  t.is(f.readUInt16BE(14 + 2), 60, 'outer total length covers the inner packet')
  t.is(formatAddr(syn.decode(Buffer.concat([f.subarray(0, 14), f.subarray(34)]))?.value.dst ?? tunnel.src), '10.0.0.3')
  t.deepEqual([...f.subarray(30, 34)], [10, 0, 0, 21], 'outer destination is the server')
  t.is(internetChecksum(f, 14, 20), 0, 'outer header checksum verifies')
  t.is(internetChecksum(f, 34, 20), 0, 'inner header checksum verifies')
  t.is(pseudoChecksum(probe.src, probe.dst, 6, f.subarray(54, 74)), 0, 'TCP checksum verifies')
  t.is(syn.decode(f), undefined, 'an encapsulated frame is not read as a TCP answer')
  const plain = syn.encode(probe)
  t.deepEqual(f.subarray(54), plain.subarray(34), "the TCP segment is the plain probe's")
  t.is(t.throws(() => syn.encode({ ...probe, tunnel: { ...tunnel, dst: parseAddr('fd00::21') } }))?.name, 'LvsdError')
})

test('decode reports the destination MAC of an answer (the NAT probe tells whose gateway it went to)', (t) => {
  const f = syn.encode(probe)
  t.deepEqual([...(syn.decode(f)?.value.dstMac ?? [])], [2, 0, 0, 0, 0, 7])
})

const rkinds = (fwd: 'tun' | 'nat', p: Parameters<typeof routeFindings>[5]) =>
  routeFindings('web', fwd, server, 80, vip, p).map((f) => f.kind)

test('TUN and NAT probe results map to their findings; a decapsulating server and one routed back through the director have none', (t) => {
  const base = { ifname: 'eth0', local: parseAddr('10.0.1.1') }
  t.deepEqual(rkinds('tun', base), ['server-unreachable'])
  t.deepEqual(rkinds('tun', { ...base, serverMac: mac, syn: 'none' }), ['no-decap'])
  t.deepEqual(rkinds('tun', { ...base, serverMac: mac, syn: 'rst' }), ['port-closed'])
  t.deepEqual(rkinds('tun', { ...base, serverMac: mac, syn: 'syn-ack' }), [])
  t.deepEqual(rkinds('nat', { ...base, serverMac: mac, syn: 'none' }), ['no-route-back'])
  t.deepEqual(rkinds('nat', { ...base, serverMac: mac, syn: 'syn-ack', answeredTo: mac }), ['route-bypasses-director'])
  t.deepEqual(rkinds('nat', { ...base, serverMac: mac, syn: 'syn-ack' }), [])
  const [nat] = routeFindings('web', 'nat', server, 80, vip, { ...base, serverMac: mac, syn: 'none' })
  t.regex(nat?.fix ?? '', /ip route replace default via 10\.0\.1\.1/)
  const [tun] = routeFindings('web', 'tun', server, 80, vip, { ...base, serverMac: mac, syn: 'none' })
  t.regex(tun?.fix ?? '', /method: tun/)
})

test("runDoctor hands TUN servers (VIP port) and NAT servers (their own port) to their probes and lists a probe's skip with its reason", async (t) => {
  const loaded = loadConfigText(
    `node: d
vrrp:
  instances:
    - { name: web, interface: eth1, vrid: 1, priority: 100, vips: [10.0.0.3/24] }
virtual_services:
  - name: web
    address: 10.0.0.3
    port: 80
    protocol: tcp
    forwarding: tun
    real_servers:
      - { address: 10.0.0.21 }
  - name: app
    address: 10.0.0.3
    port: 8080
    protocol: tcp
    forwarding: nat
    real_servers:
      - { address: 10.0.1.31, port: 80 }
      - { address: 10.0.1.32, port: 80 }
`,
    'd.yaml',
  )
  if (!loaded.ok) return t.fail(JSON.stringify(loaded.errors))
  const asked: string[] = []
  const r = await runDoctor(loaded.config, undefined, {
    dr: async () => t.fail('no DR server') as never,
    tun: async (x) => {
      asked.push(`tun ${formatAddr(x.server)} ${formatAddr(x.vip)}:${x.port}`)
      return { ifname: 'eth0', serverMac: mac, syn: 'none' }
    },
    nat: async (x) => {
      asked.push(`nat ${formatAddr(x.server)}:${x.port}`)
      return x.server.bytes[3] === 31 ? { ifname: 'eth0', serverMac: mac, syn: 'syn-ack' } : { skipped: 'vip-not-here' }
    },
  })
  t.deepEqual(asked, ['tun 10.0.0.21 10.0.0.3:80', 'nat 10.0.1.31:80', 'nat 10.0.1.32:80'])
  t.deepEqual(
    r.checked.map((c) => `${c.server} ${c.result}`),
    ['10.0.0.21:80 probed', '10.0.1.31:80 probed', '10.0.1.32:80 skipped'],
  )
  t.regex(r.checked[2]?.note ?? '', /does not hold the VIP/)
  t.deepEqual(
    r.findings.map((f) => `${f.server} ${f.kind}`),
    ['10.0.0.21:80 no-decap'],
  )
})
