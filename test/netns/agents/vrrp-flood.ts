// Netns agent: sends a VRRP payload (IPv4, proto 112 to 224.0.0.18, TTL 255) `count` times as fast as
// the socket takes it, in batches that yield to the loop: a hostile host on the LAN.
// Usage: vrrp-flood.js <ifname> <src-ipv4> <count> <payload-hex>
import { openVrrpMulticast } from './vrrp-multicast-socket.js'

const [ifname = 'eth0', src = '', countArg = '1', payloadHex = ''] = process.argv.slice(2)
const payload = Buffer.from(payloadHex, 'hex')
const count = Number(countArg)
const { socket: s, to } = openVrrpMulticast(ifname, src)
let sent = 0
let full = 0
const t0 = Date.now()
function batch(): void {
  for (let i = 0; i < 100 && sent < count; i++, sent++) if (!s.send(payload, to)) full++
  if (sent < count) return void setImmediate(batch)
  s.close()
  process.stdout.write(`${JSON.stringify({ event: 'sent', count: sent, full, ms: Date.now() - t0 })}\n`)
}
batch()
