// Whether a process accepts connections on a unix socket path now: a live daemon, as opposed to a
// socket file a killed one left behind. Used before taking over a control socket and before removing
// the VIPs a crashed run recorded.
import { createConnection } from 'node:net'

export function unixListening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path)
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}
