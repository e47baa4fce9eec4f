// The contract of src/sys, the one TypeScript layer over the native addon.
// Everything that crosses it is plain data: Buffers, numbers, strings. No protocol knowledge.

/**
 * A received datagram, copied out of the native receive buffer into its own ArrayBuffer (safe to
 * keep or transfer), or, from a socket opened with `borrow`, a view valid only inside the handler.
 */
export interface ReceivedDatagram {
  data: Buffer
  /** Raw source sockaddr as the kernel filled it (decode with sockaddr.ts). */
  from: Buffer
  /** Parsed control messages (only those requested with setsockopt). */
  cmsg: ControlInfo
  /** MSG_TRUNC etc. from msg_flags. */
  flags: number
}

export interface ControlInfo {
  /** IP_TTL (IPv4, needs IP_RECVTTL). */
  ttl?: number
  /** IP_PKTINFO (IPv4, needs IP_PKTINFO). */
  pktinfo4?: { ifindex: number; specDst: Uint8Array; addr: Uint8Array }
  /** IPV6_HOPLIMIT (needs IPV6_RECVHOPLIMIT). */
  hopLimit?: number
  /** IPV6_PKTINFO (needs IPV6_RECVPKTINFO). */
  pktinfo6?: { ifindex: number; addr: Uint8Array }
  /** When the kernel received the datagram, CLOCK_REALTIME in ns (needs SO_TIMESTAMPNS). */
  timestampNs?: number
  /** Control messages not understood, kept raw. */
  other?: Array<{ level: number; type: number; data: Buffer }>
}

export interface SocketApi {
  readonly fd: number
  bind(sockaddr: Buffer): void
  setOption(level: number, name: number, value: number | Buffer): void
  getOptionInt(level: number, name: number): number
  getOption(level: number, name: number, size: number): Buffer
  getSockName(): Buffer
  /** Sends one datagram. Returns false if the kernel queue is full (EAGAIN); throws on other errors. */
  send(data: Buffer, to?: Buffer | null): boolean
  /** Reads every queued datagram now (non-blocking); used by the poller and by tests. */
  receiveAll(max?: number): ReceivedDatagram[]
  /** Starts delivering datagrams on the calling thread's event loop. */
  onReceive(handler: (msg: ReceivedDatagram) => void, onError?: (err: Error) => void): void
  attachFilter(program: Buffer): void
  /** Keep / don't keep the event loop alive while receiving. */
  ref(): void
  unref(): void
  close(): void
}
