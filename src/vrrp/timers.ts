// VRRP timer arithmetic in integer milliseconds: Skew_Time and Master_Down_Interval for VRRPv2
// (RFC 3768 §6.1) and VRRPv3 (RFC 5798 §6.1).
//
// The RFC values are fractions of a millisecond (v2, priority 100: 609.375 ms). keepalived keeps
// microseconds; lvsd's timers are whole ms, so each value is rounded to the nearest ms once, from
// the exact fraction: 3609 ms and 609 ms for v2 / 1 s / priority 100, 361 ms and 61 ms for
// v3 / 100 ms / priority 100 — within 0.5 ms of keepalived, which measured 3610 ms and 361 ms.

/** Rounds n/256 to the nearest integer (halves up); n is a non-negative integer. */
const div256 = (n: number): number => Math.floor((n + 128) / 256)

/**
 * Skew_Time in ms. v2: (256 − priority)/256 s, independent of the interval. v3:
 * ((256 − priority) × Master_Adver_Interval)/256 with the interval the master advertises.
 */
export function skewMs(version: 2 | 3, priority: number, masterAdverMs: number): number {
  const k = 256 - priority
  return version === 2 ? div256(k * 1000) : div256(k * masterAdverMs)
}

/** Master_Down_Interval in ms: 3 × Master_Adver_Interval + Skew_Time, rounded once. */
export function masterDownMs(version: 2 | 3, priority: number, masterAdverMs: number): number {
  const k = 256 - priority
  return version === 2
    ? div256(3 * masterAdverMs * 256 + k * 1000)
    : div256(3 * masterAdverMs * 256 + k * masterAdverMs)
}

/** Interval as it goes on the wire: whole seconds for v2 (1–255), centiseconds for v3 (1–4095). */
export function intervalOnWire(version: 2 | 3, ms: number): number {
  return version === 2 ? Math.round(ms / 1000) : Math.round(ms / 10)
}
