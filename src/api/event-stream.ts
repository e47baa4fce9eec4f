// GET /v1/events: newline-delimited JSON, first the kept recent events after `after`, then live ones as
// they are published, until the client goes away (or `follow=false`). A reader too slow to keep up is
// cut off rather than let the daemon buffer without bound; it reconnects with after=<last seq seen>.
import type { ServerResponse } from 'node:http'
import { type AnyEvent, EVENT_NAMES, type EventBus, type EventName, isEventName } from '../events.js'
import { badRequest } from './http.js'

export interface StreamQuery {
  after: number
  follow: boolean
  /** Only these names (and prefixes like `vrrp.`); empty = all. */
  names: string[]
}

/**
 * Bytes queued for one reader before it is disconnected (default). Large enough for a burst such as a
 * reload of a big table (tens of thousands of ipvs.op events in one tick), small enough to bound memory.
 */
export const STREAM_HIGH_WATER = 16 * 1024 * 1024

export function parseStreamQuery(q: URLSearchParams): StreamQuery {
  const afterText = q.get('after') ?? '0'
  const after = Number(afterText)
  if (!/^\d+$/.test(afterText) || !Number.isSafeInteger(after)) {
    throw badRequest('after', 'after must be a sequence number (a non-negative integer)', { value: afterText })
  }
  const followText = q.get('follow') ?? 'true'
  if (followText !== 'true' && followText !== 'false') {
    throw badRequest('follow', 'follow must be true or false', { value: followText })
  }
  const names = (q.get('names') ?? '').split(',').filter((n) => n !== '')
  for (const n of names) {
    const known = n.endsWith('.')
      ? ['daemon.', 'vrrp.', 'health.', 'quorum.', 'ipvs.', 'config.', 'operator.', 'program.']
      : []
    if (!isEventName(n) && !known.includes(n)) {
      // the list itself, since the message may be read where no documentation is installed
      throw badRequest(
        'names',
        `${JSON.stringify(n)} is not an event name or prefix; names: ${EVENT_NAMES.join(', ')}`,
        {
          value: n,
        },
      )
    }
  }
  return { after, follow: followText === 'true', names }
}

function matcher(names: string[]): (name: EventName) => boolean {
  if (names.length === 0) return () => true
  return (name) => names.some((n) => (n.endsWith('.') ? name.startsWith(n) : name === n))
}

/** Serves one stream; returns the function that ends it (used when the server stops). */
export function serveEvents(
  res: ServerResponse,
  bus: EventBus,
  q: StreamQuery,
  highWater = STREAM_HIGH_WATER,
): () => void {
  const wanted = matcher(q.names)
  res.writeHead(200, {
    'content-type': 'application/x-ndjson; charset=utf-8',
    'cache-control': 'no-store',
    'x-lvsd-last-seq': String(bus.lastSeq),
  })
  // flush the headers now: a follower with nothing to replay still learns the stream is open
  res.flushHeaders()
  // Live events: a reader that falls highWater behind is cut off. The replay of kept events is paced
  // by the reader instead (written as the socket drains): the ring is already in memory, and a large
  // ring must not cut off a reader that merely asked for history.
  const writeLive = (line: string): void => {
    res.write(line)
    if (res.writableLength > highWater) res.destroy()
  }
  let replaying = true
  const held: string[] = []
  let heldBytes = 0
  // subscribe before taking the replay, in the same tick: nothing can be published in between
  const unsubscribe = q.follow
    ? bus.subscribeAll((e) => {
        if (!wanted(e.name)) return
        const line = `${JSON.stringify(e)}\n`
        if (!replaying) return writeLive(line)
        held.push(line)
        heldBytes += line.length
        if (heldBytes > highWater) res.destroy()
      })
    : () => {}
  const backlog = bus.recent(q.after)
  let next = 0
  let ended = false
  const end = (): void => {
    if (ended) return
    ended = true
    unsubscribe()
    if (!res.destroyed) res.end()
  }
  const pump = (): void => {
    while (next < backlog.length) {
      if (res.destroyed || ended) return
      const e = backlog[next++] as AnyEvent
      if (!wanted(e.name)) continue
      if (!res.write(`${JSON.stringify(e)}\n`)) {
        res.once('drain', pump)
        return
      }
    }
    replaying = false
    for (const line of held.splice(0)) writeLive(line)
    heldBytes = 0
    if (!q.follow) end()
  }
  res.on('close', end)
  pump()
  return end
}
