// Sends datagrams to the peer channel port from inside a namespace (peer-channel.test.ts), paced so a
// receiver's socket buffer is not the thing that drops them. Prints {"sent": N}.
//   node peer-sender.js IP PORT hex HEX...      the given datagrams, once each
//   node peer-sender.js IP PORT random N SEED   N random datagrams of 0–1500 bytes
import { createSocket } from 'node:dgram'
import { prng } from '../../helpers/prng.js'

const [ip = '', portText = '', mode = '', ...rest] = process.argv.slice(2)
const port = Number(portText)
const sock = createSocket('udp4')
const send = (b: Buffer) => new Promise<void>((r) => sock.send(b, port, ip, () => r()))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function main(): Promise<void> {
  let sent = 0
  if (mode === 'hex') {
    for (const h of rest) {
      await send(Buffer.from(h, 'hex'))
      sent++
    }
  } else {
    const n = Number(rest[0])
    const rnd = prng(Number(rest[1] ?? 1))
    for (let i = 0; i < n; i++) {
      const b = Buffer.alloc(Math.floor(rnd() * 1500))
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256)
      await send(b)
      sent++
      if (i % 25 === 24) await sleep(5)
    }
  }
  process.stdout.write(`${JSON.stringify({ sent })}\n`)
  sock.close()
}

void main()
