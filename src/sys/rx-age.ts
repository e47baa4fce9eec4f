// How long ago the kernel received a datagram, from its receive timestamp (SO_TIMESTAMPNS). The
// stamp is CLOCK_REALTIME, the only clock sockets stamp with; read against the same clock now, the
// difference is the time the datagram spent queued and the thread took to wake up and read it.
import { sys } from './errno.js'
import { type NativeAddon, native } from './native.js'

interface RealtimeAddon {
  realtimeNs(): number
}

/**
 * Beyond this the difference is not a queueing delay but a step of the wall clock (or a stalled
 * thread, which the receive time would not describe either): the stamp is not used.
 */
export const MAX_RX_AGE_MS = 5

/**
 * ms since the kernel stamped the datagram, or undefined when the stamp cannot be trusted. A
 * datagram read late on purpose (one the kernel set aside, advert-filters.ts) passes the most it
 * can be: the time since its queue was last emptied, plus MAX_RX_AGE_MS.
 */
export function receivedMsAgo(
  timestampNs: number,
  addon: NativeAddon = native(),
  maxAgeMs = MAX_RX_AGE_MS,
): number | undefined {
  const n = addon as NativeAddon & RealtimeAddon
  const ageMs = (sys(() => n.realtimeNs()) - timestampNs) / 1e6
  return ageMs >= 0 && ageMs <= maxAgeMs ? ageMs : undefined
}
