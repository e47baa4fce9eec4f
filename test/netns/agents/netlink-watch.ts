// netns agent: watches links and addresses in its namespace and prints each event as a JSON line
// ({event:'ready'} first). Runs until killed. Optional args: a receive buffer size in bytes, and a
// stall in ms right after 'ready' (the event loop blocks, so the kernel must queue or drop events).
import { formatAddr } from '../../../src/net/addr.js'
import { Rtnetlink } from '../../../src/net/rtnetlink.js'

const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`)
const [rcvbuf, stallMs] = process.argv.slice(2).map(Number)
const rt = Rtnetlink.open(rcvbuf ? { receiveBuffer: rcvbuf } : {})
rt.watchLinks((e) =>
  out(
    e.kind === 'resync'
      ? { event: 'resync', reason: e.reason }
      : {
          event: `link-${e.kind}`,
          name: e.link.name,
          up: e.link.up,
          lowerUp: e.link.lowerUp,
          operState: e.link.operState,
        },
  ),
)
rt.watchAddresses((e) =>
  out(
    e.kind === 'resync'
      ? { event: 'resync', reason: e.reason }
      : { event: `addr-${e.kind}`, address: `${formatAddr(e.address.address)}/${e.address.prefixLen}` },
  ),
)
out({ event: 'ready' })
if (stallMs) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, stallMs)
