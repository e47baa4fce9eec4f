// rtnetlink and genetlink operations over the fake kernel, replaying replies recorded from Linux
// 6.18: listing, VIP add/delete requests, EEXIST, dump retry on NLM_F_DUMP_INTR, watches with
// resync, and family resolution with the typed "not available" result.
import test from 'ava'
import type { LvsdError } from '../../src/errors.js'
import { formatAddr, parsePrefix } from '../../src/net/addr.js'
import { Genetlink } from '../../src/net/genetlink.js'
import { GENL_ID_CTRL } from '../../src/net/genl.js'
import type { NetlinkClient } from '../../src/net/netlink-client.js'
import { decodeAll, NLM_F_DUMP_INTR, NLM_F_MULTI, type NlMessage } from '../../src/net/nlmsg.js'
import { Rtnetlink } from '../../src/net/rtnetlink.js'
import * as addr from '../../src/net/rtnl-addr.js'
import * as link from '../../src/net/rtnl-link.js'
import { ack, errno, type FakeKernel, fakeClient, fixture, multipart, notification } from '../helpers/fake-kernel.js'

/** The recorded dump's parts, re-addressed to this request. */
function replay(name: string, req: NlMessage, flags = 0): NlMessage[] {
  return fixture(name)
    .datagrams.flatMap((d) => decodeAll(d))
    .map((m) => ({ ...m, seq: req.seq, pid: 4242, flags: m.flags | (m.type >= 16 ? flags : 0) }))
}

test('listLinks decodes a recorded link dump', async (t) => {
  const { client } = fakeClient((req) => [replay('rtm-newlink-dump.hex', req)])
  const links = await new Rtnetlink(client).listLinks()
  t.deepEqual(links.map((l) => l.name).sort(), ['lo', 'veth0', 'veth1'])
})

test('listAddresses filters by family and interface', async (t) => {
  const { kernel, client } = fakeClient((req) => [replay('rtm-newaddr-dump.hex', req)])
  const rt = new Rtnetlink(client)
  const all = await rt.listAddresses()
  const veth0 = all.find((a) => formatAddr(a.address) === '10.9.0.1')?.ifindex
  const v6 = await rt.listAddresses(6, veth0)
  t.true(v6.some((a) => formatAddr(a.address) === 'fd00:9::1'))
  t.true(v6.every((a) => a.family === 6 && a.ifindex === veth0))
  t.true(v6.length < all.length)
  t.true((await rt.listAddresses(4)).every((a) => a.family === 4))
  t.is(kernel.sent[2]?.payload[0], 2, 'the dump asks the kernel for AF_INET only')
})

test('a dump flagged NLM_F_DUMP_INTR is retried', async (t) => {
  let calls = 0
  const { client } = fakeClient((req) => [replay('rtm-newlink-dump.hex', req, ++calls === 1 ? NLM_F_DUMP_INTR : 0)])
  await new Rtnetlink(client).listLinks()
  t.is(calls, 2)
})

test('addAddress sends RTM_NEWADDR and a duplicate is LVSD_NL_KERNEL EEXIST', async (t) => {
  const seen: NlMessage[] = []
  const { client } = fakeClient((req) => {
    seen.push(req)
    return [seen.length === 1 ? ack(req) : errno(req, 'EEXIST', { message: 'ipv4: Address already assigned' })]
  })
  const rt = new Rtnetlink(client)
  const spec = { ifindex: 3, prefix: parsePrefix('10.9.0.3/24') }
  await rt.addAddress(spec)
  const e = await t.throwsAsync<LvsdError>(rt.addAddress(spec), { code: 'LVSD_NL_KERNEL' })
  t.like(e?.details, { op: 'RTM_NEWADDR', code: 'EEXIST' })
  t.is(seen[0]?.type, addr.RTM_NEWADDR)
})

test('deleteAddress sends RTM_DELADDR', async (t) => {
  const { kernel, client } = fakeClient((req) => [ack(req)])
  await new Rtnetlink(client).deleteAddress({ ifindex: 3, prefix: parsePrefix('fd00:9::3/64') })
  t.is(kernel.sent[0]?.type, addr.RTM_DELADDR)
})

/** A Rtnetlink whose watches open fake event sockets the test can feed. */
function withEventSockets() {
  const events: FakeKernel[] = []
  const { client } = fakeClient((req) => [ack(req)])
  const rt = new Rtnetlink(client, (_proto, opts) => {
    const f = fakeClient(() => [])
    for (const g of opts.groups ?? []) f.client.subscribe(g)
    events.push(f.kernel)
    return f.client as NetlinkClient
  })
  return { rt, events }
}

test('watchLinks subscribes RTNLGRP_LINK on its own socket and reports events and resyncs', (t) => {
  const { rt, events } = withEventSockets()
  const got: string[] = []
  const w = rt.watchLinks((e) =>
    got.push(e.kind === 'resync' ? `resync ${e.reason}` : `${e.kind} ${e.link.name} ${e.link.operState}`),
  )
  const k = events[0]
  if (!k) return t.fail()
  t.deepEqual(k.memberships, [link.RTNLGRP_LINK])
  for (const d of fixture('rtnlgrp-link-events.hex').datagrams) k.deliver(d)
  k.deliver(notification(addr.RTM_NEWADDR, Buffer.alloc(8))) // not a link message: ignored
  k.deliver(notification(link.RTM_NEWLINK, Buffer.alloc(3))) // undecodable: resync
  k.fail('ENOBUFS')
  t.is(got[0], 'new veth1 DOWN')
  t.true(got.includes('new veth1 UP'))
  t.is(got.at(-1), 'resync ENOBUFS')
  t.true(got.at(-2)?.startsWith('resync undecodable'))
  w.close()
  t.true(k.closed)
})

test('a watch whose socket stopped on an overrun reopens it before reporting the resync', (t) => {
  const { rt, events } = withEventSockets()
  const got: string[] = []
  let socketsAtResync = 0
  rt.watchLinks((e) => {
    if (e.kind === 'resync') socketsAtResync = events.length
    got.push(e.kind === 'resync' ? `resync ${e.reason}` : `${e.kind} ${e.link.name}`)
  })
  const first = events[0]
  if (!first) return t.fail()
  first.fail('ENOBUFS', true)
  t.deepEqual(got, ['resync ENOBUFS'])
  t.is(socketsAtResync, 2, 'the new socket existed when the caller heard of the resync')
  t.true(first.closed)
  const second = events[1]
  if (!second) return t.fail()
  t.deepEqual(second.memberships, [link.RTNLGRP_LINK])
  second.deliver(fixture('rtnlgrp-link-events.hex').datagrams[0] as Buffer)
  t.is(got[1], 'new veth1')
})

test('watchAddresses joins the IPv4 and IPv6 address groups and decodes add/delete', (t) => {
  const { rt, events } = withEventSockets()
  const got: string[] = []
  rt.watchAddresses((e) => got.push(e.kind === 'resync' ? 'resync' : `${e.kind} ${formatAddr(e.address.address)}`))
  const k = events[0]
  if (!k) return t.fail()
  t.deepEqual(k.memberships, [addr.RTNLGRP_IPV4_IFADDR, addr.RTNLGRP_IPV6_IFADDR])
  const add = addr.addressRequest('add', { ifindex: 2, prefix: parsePrefix('10.9.0.3/24') })
  const del = addr.addressRequest('del', { ifindex: 2, prefix: parsePrefix('10.9.0.3/24') })
  k.deliver(notification(addr.RTM_NEWADDR, add.payload))
  k.deliver(notification(addr.RTM_DELADDR, del.payload))
  t.deepEqual(got, ['new 10.9.0.3', 'del 10.9.0.3'])
})

test('resolveFamily("nlctrl") returns the recorded family', async (t) => {
  const { client } = fakeClient((req) => [replay('genl-nlctrl.hex', req)])
  const r = await new Genetlink(client).resolveFamily('nlctrl')
  t.true(r.available)
  if (r.available) t.is(r.family.id, 16)
})

test('resolveFamily("IPVS") on a kernel without IPVS is { available: false, reason: ENOENT }', async (t) => {
  const { client } = fakeClient((req) => [replay('genl-ipvs-enoent.hex', req)])
  const g = new Genetlink(client)
  const r = await g.resolveFamily('IPVS')
  t.false(r.available)
  if (!r.available) {
    t.is(r.reason, 'ENOENT')
    t.is(r.error.code, 'LVSD_GENL_FAMILY_ABSENT')
  }
  await t.throwsAsync(g.requireFamily('IPVS'), { code: 'LVSD_GENL_FAMILY_ABSENT' })
})

test('a family request goes to the resolved id and returns decoded genl replies', async (t) => {
  const { kernel, client } = fakeClient((req) => {
    if (req.type === GENL_ID_CTRL) return [replay('genl-nlctrl.hex', req)]
    const p = Buffer.from('01010000', 'hex')
    return [multipart(req, req.type, [p, p]).map((m) => (m.type === req.type ? { ...m, flags: NLM_F_MULTI } : m))]
  })
  const g = new Genetlink(client)
  const fam = await g.requireFamily('nlctrl')
  const out = await g.request({ ...fam, id: 33, name: 'TEST' }, { cmd: 4, attrs: [] })
  t.is(kernel.sent[1]?.type, 33)
  t.deepEqual(
    out.map((m) => m.cmd),
    [1, 1],
  )
})
