// VRRP timer arithmetic in milliseconds: Skew_Time and Master_Down_Interval for VRRPv2
// (RFC 3768 §6.1) and VRRPv3 (RFC 5798 §6.1).
//
// The RFC values are fractions of a millisecond (v2, priority 100: 609.375 ms), and they are kept
// exact: n/256 of a whole number of ms is a binary fraction, so a double holds it without error,
// and the worker's timers have sub-millisecond deadlines. Rounded to whole ms (as before
// session 13), v2 / 1 s / priority 100 took over 0.375 ms before the RFC's 3609.375 ms.

/**
 * Skew_Time in ms. v2: (256 − priority)/256 s, independent of the interval. v3:
 * ((256 − priority) × Master_Adver_Interval)/256 with the interval the master advertises.
 */
export function skewMs(version: 2 | 3, priority: number, masterAdverMs: number): number {
  const k = 256 - priority
  return version === 2 ? (k * 1000) / 256 : (k * masterAdverMs) / 256
}

/** Master_Down_Interval in ms: 3 × Master_Adver_Interval + Skew_Time, exact. */
export function masterDownMs(version: 2 | 3, priority: number, masterAdverMs: number): number {
  return 3 * masterAdverMs + skewMs(version, priority, masterAdverMs)
}

/** Interval as it goes on the wire: whole seconds for v2 (1–255), centiseconds for v3 (1–4095). */
export function intervalOnWire(version: 2 | 3, ms: number): number {
  return version === 2 ? Math.round(ms / 1000) : Math.round(ms / 10)
}
