// netns agent: watches links and addresses in its namespace and prints each event as a JSON line
// ({event:'ready'} first). Runs until killed.
import { formatAddr } from '../../../src/net/addr.js'
import { Rtnetlink } from '../../../src/net/rtnetlink.js'

const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`)
const rt = Rtnetlink.open()
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
