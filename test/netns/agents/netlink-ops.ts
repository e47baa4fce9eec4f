// netns agent: runs a list of netlink operations in its own namespace with lvsd's rtnetlink and
// genetlink clients and prints one JSON line per operation ({ok, value} or {ok:false, error}).
// Usage: node netlink-ops.js '<json array of ops>'
import { isLvsdError } from '../../../src/errors.js'
import { formatAddr, parsePrefix } from '../../../src/net/addr.js'
import { Genetlink } from '../../../src/net/genetlink.js'
import { Rtnetlink } from '../../../src/net/rtnetlink.js'
import type { Address } from '../../../src/net/rtnl-addr.js'
import { formatMac } from '../../../src/net/rtnl-link.js'

type Op =
  | { op: 'links' }
  | { op: 'addrs'; family?: 4 | 6; ifname?: string }
  | { op: 'add' | 'del'; ifname: string; prefix: string; label?: string; nodad?: boolean }
  | { op: 'family'; name: string }

const rt = Rtnetlink.open({ timeoutMs: 5000 })
const genl = Genetlink.open({ timeoutMs: 5000 })

async function ifindex(name: string): Promise<number> {
  const l = (await rt.listLinks()).find((x) => x.name === name)
  if (!l) throw new Error(`no link ${name}`)
  return l.index
}

const showAddr = (a: Address) => ({
  family: a.family,
  ifindex: a.ifindex,
  address: `${formatAddr(a.address)}/${a.prefixLen}`,
  local: a.local ? formatAddr(a.local) : undefined,
  label: a.label,
  flags: a.flags,
  scope: a.scope,
})

async function run(o: Op): Promise<unknown> {
  switch (o.op) {
    case 'links':
      return (await rt.listLinks()).map((l) => ({ ...l, mac: l.mac ? formatMac(l.mac) : undefined }))
    case 'addrs': {
      const idx = o.ifname ? await ifindex(o.ifname) : undefined
      return (await rt.listAddresses(o.family, idx)).map(showAddr)
    }
    case 'add':
    case 'del': {
      const spec = { ifindex: await ifindex(o.ifname), prefix: parsePrefix(o.prefix), label: o.label, nodad: o.nodad }
      await (o.op === 'add' ? rt.addAddress(spec) : rt.deleteAddress(spec))
      return null
    }
    case 'family': {
      const r = await genl.resolveFamily(o.name)
      return r.available
        ? { available: true, id: r.family.id, name: r.family.name, version: r.family.version }
        : { available: false, reason: r.reason, code: r.error.code }
    }
  }
}

for (const o of JSON.parse(process.argv[2] ?? '[]') as Op[]) {
  try {
    process.stdout.write(`${JSON.stringify({ ok: true, value: await run(o) })}\n`)
  } catch (e) {
    const error = isLvsdError(e) ? e.toJSON() : { code: 'UNEXPECTED', message: String(e) }
    process.stdout.write(`${JSON.stringify({ ok: false, error })}\n`)
  }
}
rt.close()
genl.close()
