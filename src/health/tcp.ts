// TCP check (keepalived TCP_CHECK): a completed three-way handshake passes; the connection is then closed.
import { connectTcp, endpointOf, timed } from './probe.js'
import type { Result, Target, TcpOptions } from './types.js'

export function check(target: Target, _opts: TcpOptions, signal: AbortSignal): Promise<Result> {
  return timed(signal, async () => {
    const sock = await connectTcp(target, signal)
    // reset rather than FIN: no TIME_WAIT on the director for thousands of probes per second
    sock.resetAndDestroy()
    const ep = endpointOf(target)
    return { detail: `connected to ${ep.host}:${ep.port}` }
  })
}
