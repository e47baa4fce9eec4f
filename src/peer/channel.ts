// The peer channel's socket: one UDP socket bound to the channel port (on peer.source, or any address),
// sending to the peer's address. Datagrams go to a PeerLink for judgement; nothing here parses them.
// A send that fails (no route while a link is down) is counted, not thrown: the next interval retries.
import { createSocket, type Socket } from 'node:dgram'
import { LvsdError } from '../errors.js'

export interface ChannelOptions {
  family: 4 | 6
  /** Local address to bind (undefined: any). */
  source: string | undefined
  port: number
  peer: string
  onDatagram(buf: Buffer, source: string): void
}

export class PeerChannel {
  sendErrors = 0
  lastSendError: string | undefined
  private constructor(
    private readonly sock: Socket,
    private readonly o: ChannelOptions,
  ) {}

  static open(o: ChannelOptions): Promise<PeerChannel> {
    const sock = createSocket({ type: o.family === 6 ? 'udp6' : 'udp4', reuseAddr: false })
    return new Promise((resolve, reject) => {
      const fail = (e: Error) => {
        sock.close()
        reject(
          new LvsdError(
            'LVSD_PEER_SOCKET',
            `peer channel cannot bind ${o.source ?? 'any'}:${o.port}: ${e.message}`,
            { port: o.port, ...(o.source ? { source: o.source } : {}) },
            { cause: e },
          ),
        )
      }
      sock.once('error', fail)
      sock.bind({ port: o.port, ...(o.source ? { address: o.source } : {}), exclusive: true }, () => {
        sock.off('error', fail)
        const ch = new PeerChannel(sock, o)
        sock.on('message', (buf, rinfo) => o.onDatagram(buf, rinfo.address))
        sock.on('error', (e) => {
          ch.sendErrors += 1
          ch.lastSendError = e.message
        })
        resolve(ch)
      })
    })
  }

  send(buf: Buffer): void {
    this.sock.send(buf, this.o.port, this.o.peer, (e) => {
      if (!e) return
      this.sendErrors += 1
      this.lastSendError = e.message
    })
  }

  close(): void {
    try {
      this.sock.close()
    } catch {
      // already closed
    }
  }
}
