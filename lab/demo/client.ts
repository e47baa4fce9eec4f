// The demo's client, run in the client namespace: `node client.js INTERVAL_MS TIMEOUT_MS`.
// - a prober opening a new HTTP connection to the VIP every INTERVAL_MS on an absolute schedule
//   (a slow answer never delays the next probe), each recorded as answered-by or failed;
// - one long-lived connection sending a line every 100 ms, the connection a takeover must not break.
// Everything is printed as one JSON line per event, stamped with the wall clock (ms), which every
// process of the demo shares, so the scenario can merge it with daemon logs and the capture.
import { connect, type Socket } from 'node:net'
import type { ClientEvent } from './events.js'
import { VIP, VIP_PORT } from './plan.js'

const intervalMs = Number(process.argv[2] ?? 25)
const timeoutMs = Number(process.argv[3] ?? 900)
const LONG_EVERY_MS = 100

function emit(e: ClientEvent): void {
  process.stdout.write(`${JSON.stringify(e)}\n`)
}

function probe(seq: number): void {
  const t = Date.now()
  const s = connect({ host: VIP, port: VIP_PORT })
  let text = ''
  let done = false
  const finish = (server: string | null, err: string | null) => {
    if (done) return
    done = true
    s.destroy()
    emit({ k: 'probe', seq, t, ms: Date.now() - t, server, err })
  }
  // A new connection counts as served only when the first SYN is answered: the kernel retransmits
  // a SYN after 1 s, so a timeout under 1 s never counts a retransmitted one.
  s.setTimeout(timeoutMs, () => finish(null, 'timeout'))
  s.on('connect', () => s.write('GET / HTTP/1.0\r\nHost: vip\r\n\r\n'))
  s.on('data', (d) => {
    text += d.toString('latin1')
  })
  s.on('error', (e: NodeJS.ErrnoException) => finish(null, e.code ?? e.message))
  s.on('close', () => {
    const body = text.split('\r\n\r\n')[1]?.trim()
    finish(body ? body : null, body ? null : 'empty answer')
  })
}

function schedule(): void {
  const t0 = Date.now()
  let seq = 0
  const tick = () => {
    probe(seq++)
    setTimeout(tick, Math.max(0, t0 + seq * intervalMs - Date.now()))
  }
  tick()
}

/** Connects once (retrying until the VIP accepts), then never reconnects: its survival is the test. */
function longLived(): void {
  const s: Socket = connect({ host: VIP, port: VIP_PORT })
  let open = false
  let timer: NodeJS.Timeout | undefined
  s.on('connect', () => {
    open = true
    emit({ k: 'long', ev: 'established', t: Date.now(), port: s.localPort ?? 0 })
    timer = setInterval(() => s.write('ping\n'), LONG_EVERY_MS)
  })
  s.on('data', (d) => {
    const t = Date.now()
    for (const line of d.toString('latin1').split('\n').filter(Boolean))
      emit({ k: 'long', ev: 'reply', t, server: line })
  })
  s.on('error', (e: NodeJS.ErrnoException) => {
    if (open) emit({ k: 'long', ev: 'error', t: Date.now(), err: e.code ?? e.message })
  })
  s.on('close', () => {
    clearInterval(timer)
    if (open) emit({ k: 'long', ev: 'closed', t: Date.now() })
    else setTimeout(longLived, 300)
  })
}

schedule()
longLived()
process.on('SIGTERM', () => process.exit(0))
