// lvsd's netlink client against the real kernel, inside namespaces this test creates: IPv4 and
// IPv6 (nodad) VIPs added, listed and deleted on a veth and cross-checked with `ip -j addr`,
// EEXIST on a duplicate, link and address events, and generic netlink family resolution.
import { fileURLToPath } from 'node:url'
import test from 'ava'
import { Lab, waitFor } from '../helpers/netns.js'

const agent = (name: string) => fileURLToPath(new URL(`./agents/${name}.js`, import.meta.url))

const lab = new Lab('nl')

test.before(() => {
  lab.addPair({ name: 'a' }, { name: 'b' })
})
test.after.always(() => lab.dispose())

interface Result {
  ok: boolean
  value?: unknown
  error?: { code: string; details: Record<string, unknown> }
}

function ops(ns: string, list: object[]): Result[] {
  const r = lab.node(ns, agent('netlink-ops'), [JSON.stringify(list)])
  if (r.status !== 0) throw new Error(`agent failed: ${r.status} ${r.stdout} ${r.stderr}`)
  return r.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Result)
}

interface IpAddr {
  ifname: string
  addr_info: Array<{ family: string; local: string; prefixlen: number; label?: string; flags?: string[] }>
}
const ipAddrs = (ns: string) =>
  (JSON.parse(lab.exec(ns, 'ip', ['-j', 'addr', 'show', 'dev', 'eth0'])) as IpAddr[]).flatMap((i) =>
    i.addr_info.map((a) => `${a.local}/${a.prefixlen}`),
  )

test.serial('IPv4 and IPv6 VIPs are added, listed and deleted, as `ip -j addr` confirms', (t) => {
  const [add4, add6, list, links] = ops('a', [
    { op: 'add', ifname: 'eth0', prefix: '10.77.0.5/24', label: 'eth0:vip' },
    { op: 'add', ifname: 'eth0', prefix: 'fd00:77::5/64', nodad: true },
    { op: 'addrs', ifname: 'eth0' },
    { op: 'links' },
  ])
  t.true(add4?.ok, JSON.stringify(add4))
  t.true(add6?.ok, JSON.stringify(add6))
  const ip = ipAddrs('a')
  t.true(ip.includes('10.77.0.5/24'))
  t.true(ip.includes('fd00:77::5/64'))
  const mine = (list?.value as Array<{ address: string; label?: string; flags: number }>) ?? []
  const v4 = mine.find((a) => a.address === '10.77.0.5/24')
  const v6 = mine.find((a) => a.address === 'fd00:77::5/64')
  t.is(v4?.label, 'eth0:vip')
  t.truthy((v6?.flags ?? 0) & 0x02, 'IFA_F_NODAD')
  const ipShow = JSON.parse(lab.exec('a', 'ip', ['-j', 'link', 'show'])) as Array<{
    ifname: string
    ifindex: number
    address: string
  }>
  const got = (links?.value as Array<{ name: string; index: number; mac?: string }>) ?? []
  t.deepEqual(
    got.map((l) => [l.name, l.index, l.mac]).sort(),
    ipShow.map((l) => [l.ifname, l.ifindex, l.address]).sort(),
  )

  const [del4, del6] = ops('a', [
    { op: 'del', ifname: 'eth0', prefix: '10.77.0.5/24' },
    { op: 'del', ifname: 'eth0', prefix: 'fd00:77::5/64' },
  ])
  t.true(del4?.ok && del6?.ok)
  const after = ipAddrs('a')
  t.false(after.includes('10.77.0.5/24'))
  t.false(after.includes('fd00:77::5/64'))
})

test.serial('a duplicate add is LVSD_NL_KERNEL EEXIST with the kernel’s extended ACK', (t) => {
  const [first, dup, delMissing] = ops('b', [
    { op: 'add', ifname: 'eth0', prefix: '10.77.0.6/24' },
    { op: 'add', ifname: 'eth0', prefix: '10.77.0.6/24' },
    { op: 'del', ifname: 'eth0', prefix: '10.77.0.99/24' },
  ])
  t.true(first?.ok)
  t.false(dup?.ok)
  t.is(dup?.error?.code, 'LVSD_NL_KERNEL')
  t.like(dup?.error?.details, { op: 'RTM_NEWADDR', code: 'EEXIST', errno: 17 })
  t.is(typeof dup?.error?.details.extAck, 'string')
  t.is(delMissing?.error?.code, 'LVSD_NL_KERNEL')
  t.is(delMissing?.error?.details.code, 'EADDRNOTAVAIL')
})

function watch(ns: string, args: string[] = []) {
  const p = lab.spawn(ns, process.execPath, [agent('netlink-watch'), ...args])
  const events: Array<Record<string, unknown>> = []
  let buf = ''
  p.stdout?.setEncoding('utf8').on('data', (d: string) => {
    buf += d
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      events.push(JSON.parse(buf.slice(0, i)))
      buf = buf.slice(i + 1)
    }
  })
  return { p, events }
}

test.serial('link down/up and address changes arrive as events', async (t) => {
  const { p, events } = watch('a')
  try {
    await waitFor(() => events.some((e) => e.event === 'ready'), 10_000)
    lab.exec('a', 'ip', ['link', 'set', 'eth0', 'down'])
    await waitFor(() => events.some((e) => e.event === 'link-new' && e.name === 'eth0' && e.up === false), 5_000)
    lab.exec('a', 'ip', ['link', 'set', 'eth0', 'up'])
    await waitFor(() => events.some((e) => e.event === 'link-new' && e.name === 'eth0' && e.operState === 'UP'), 5_000)
    lab.exec('a', 'ip', ['addr', 'add', '10.77.0.9/24', 'dev', 'eth0'])
    await waitFor(() => events.some((e) => e.event === 'addr-new' && e.address === '10.77.0.9/24'), 5_000)
    lab.exec('a', 'ip', ['addr', 'del', '10.77.0.9/24', 'dev', 'eth0'])
    await waitFor(() => events.some((e) => e.event === 'addr-del' && e.address === '10.77.0.9/24'), 5_000)
    t.false(events.some((e) => e.event === 'resync'))
  } finally {
    p.kill('SIGKILL')
  }
})

test.serial('generic netlink: nlctrl resolves to id 16; IPVS on this kernel is a typed not-available', (t) => {
  const [nlctrl, ipvs] = ops('b', [
    { op: 'family', name: 'nlctrl' },
    { op: 'family', name: 'IPVS' },
  ])
  t.like(nlctrl?.value, { available: true, id: 16, name: 'nlctrl' })
  const hasIpvs = lab.exec('b', 'sh', ['-c', 'test -e /proc/net/ip_vs && echo yes || echo no']).trim() === 'yes'
  if (hasIpvs) t.like(ipvs?.value, { available: true, name: 'IPVS' })
  else t.like(ipvs?.value, { available: false, reason: 'ENOENT', code: 'LVSD_GENL_FAMILY_ABSENT' })
})

test.serial('an overrun event socket (ENOBUFS) reports a resync and the watch goes on', async (t) => {
  // a tiny receive buffer and a watcher whose loop stalls while 64 addresses come and go
  const { p, events } = watch('b', ['2048', '3000'])
  try {
    await waitFor(() => events.some((e) => e.event === 'ready'), 10_000)
    const batch = Array.from({ length: 64 }, (_, i) => `addr add 10.78.${i}.1/24 dev eth0`).join('\n')
    lab.exec('b', 'sh', ['-c', `printf '${batch}\n' | ip -batch -`])
    await waitFor(() => events.some((e) => e.event === 'resync' && e.reason === 'ENOBUFS'), 10_000)
    // the watch goes on, on a fresh socket
    lab.exec('b', 'ip', ['addr', 'add', '10.79.0.1/24', 'dev', 'eth0'])
    await waitFor(() => events.some((e) => e.event === 'addr-new' && e.address === '10.79.0.1/24'), 5_000)
    t.true(events.some((e) => e.event === 'resync') && events.some((e) => e.address === '10.79.0.1/24'))
  } finally {
    p.kill('SIGKILL')
  }
})
