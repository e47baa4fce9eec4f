// The main thread's messages to the VRRP worker go over a Unix stream socket pair, framed, instead
// of through the worker's MessagePort. A MessagePort wakes its receiver with uv_async_send, and
// libuv before 1.45 (Debian 12's nodejs 18 has 1.44.2) makes the receiving loop spin, calling
// sched_yield, while the sender is between the two atomic steps of that call. The SCHED_RR worker,
// woken by the sender's eventfd write on the sender's CPU, preempts it right there; sched_yield
// never yields to a normal thread, so the worker spun until the kernel's real-time throttling gave
// the CPU back: 940-970 ms of spinning per message on one CPU (docs/notes.md, session 14),
// adverts late by as much. A stream is read by epoll alone: no shared flag, nothing to wait for.
// Messages up (worker to main) keep the MessagePort: a real-time sender is never preempted by the
// normal-priority main thread mid-send.
import { Socket } from 'node:net'
import { deserialize, serialize } from 'node:v8'
import { LvsdError } from '../errors.js'

const HEADER = 4
/** Far above any instance list (a reload of 10,000 instances is ~2 MB); a longer length is a bug. */
export const MAX_FRAME = 256 * 1024 * 1024

/** One message as bytes: a 4-byte big-endian length, then the structured-clone serialization. */
export function encodeFrame(m: unknown): Buffer {
  const body = serialize(m)
  const out = Buffer.allocUnsafe(HEADER + body.length)
  out.writeUInt32BE(body.length, 0)
  body.copy(out, HEADER)
  return out
}

/** Reassembles frames from a byte stream cut anywhere; a frame's chunks are joined once, when whole. */
export class FrameReader {
  private pending: Buffer[] = []
  private size = 0
  /** HEADER + length of the frame being read, once its header is in; 0 before. */
  private need = 0

  /** The messages completed by this chunk, in order. */
  push(chunk: Buffer): unknown[] {
    this.pending.push(chunk)
    this.size += chunk.length
    const out: unknown[] = []
    while (this.size >= HEADER) {
      if (this.need === 0) {
        const len = this.joined().readUInt32BE(0)
        if (len > MAX_FRAME) throw new LvsdError('LVSD_INTERNAL', `VRRP inbox: a frame of ${len} bytes`)
        this.need = HEADER + len
      }
      if (this.size < this.need) break
      const buf = this.joined()
      out.push(deserialize(buf.subarray(HEADER, this.need)))
      const rest = buf.subarray(this.need)
      this.pending = rest.length > 0 ? [rest] : []
      this.size = rest.length
      this.need = 0
    }
    return out
  }

  private joined(): Buffer {
    if (this.pending.length > 1) this.pending = [Buffer.concat(this.pending, this.size)]
    return this.pending[0] as Buffer
  }
}

/** The main thread's end: postMessage as a Worker has it. */
export class InboxWriter {
  private readonly sock: Socket

  constructor(fd: number) {
    this.sock = new Socket({ fd, readable: false, writable: true })
    // the worker's exit is reported by the Worker itself; a write after it (EPIPE) is not news
    this.sock.on('error', () => {})
    // only the Worker keeps the process alive
    this.sock.unref()
  }

  postMessage(m: unknown): void {
    if (!this.sock.destroyed) this.sock.write(encodeFrame(m))
  }

  close(): void {
    this.sock.destroy()
  }
}

/** The worker's end: every message in order, on this thread's own loop. */
export function readInbox(fd: number, onMessage: (m: unknown) => void, onError: (e: Error) => void): () => void {
  const sock = new Socket({ fd, readable: true, writable: false })
  const frames = new FrameReader()
  sock.on('data', (chunk: Buffer) => {
    let ms: unknown[]
    try {
      ms = frames.push(chunk)
    } catch (e) {
      sock.destroy()
      onError(e as Error)
      return
    }
    for (const m of ms) onMessage(m)
  })
  sock.on('error', onError)
  return () => sock.destroy()
}
