// Netns agent: floods 224.0.0.18 with VRRP packets (IPv4, proto 112, TTL 255) at a target rate for a
// while, cycling through the given payloads and as many random ones (1..1400 random bytes): a hostile
// host on the LAN sending valid-looking and junk adverts. Prints the packets sent and the rate reached.
// Usage: vrrp-flood-rate.js <ifname> <src-ipv4> <ms> <pps> <payload-hex,payload-hex,...>
import { randomBytes, randomInt } from 'node:crypto'
import { openVrrpMulticast } from './vrrp-multicast-socket.js'

const [ifname = 'eth0', src = '', msArg = '1000', ppsArg = '1000', hexes = ''] = process.argv.slice(2)
const given = hexes ? hexes.split(',').map((h) => Buffer.from(h, 'hex')) : []
const junk = Array.from({ length: Math.max(1, given.length) }, () => randomBytes(randomInt(1, 1401)))
// valid-looking and junk alternate: given[0], junk[0], given[1], junk[1], …
const payloads = given.length ? given.flatMap((g, i) => [g, junk[i]!]) : junk
const ms = Number(msArg)
const pps = Number(ppsArg)
const { socket: s, to } = openVrrpMulticast(ifname, src)
let sent = 0
let full = 0
const t0 = performance.now()
function batch(): void {
  const now = performance.now() - t0
  const due = Math.min(Math.floor((Math.min(now, ms) * pps) / 1000), sent + 5000)
  for (; sent < due; sent++) if (!s.send(payloads[sent % payloads.length]!, to)) full++
  if (now < ms) return void setImmediate(batch)
  s.close()
  const took = performance.now() - t0
  process.stdout.write(
    `${JSON.stringify({ event: 'sent', count: sent, full, ms: Math.round(took), pps: Math.round((sent * 1000) / took) })}\n`,
  )
}
batch()
