// Errno names and the one error shape of src/sys: LvsdError 'LVSD_SYS_CALL' with
// details {syscall, errno, code}, built from the addon's Error{code, errno, syscall}.
import { constants } from 'node:os'
import { LvsdError } from '../errors.js'

const names = new Map<number, string>()
for (const [name, value] of Object.entries(constants.errno)) {
  // os.constants.errno lists aliases (EWOULDBLOCK = EAGAIN, ENOTSUP = EOPNOTSUPP); the first wins
  if (!names.has(value)) names.set(value, name)
}

/** 'EEXIST' for 17; 'E<n>' for numbers this platform does not name. */
export function errnoName(errno: number): string {
  return names.get(Math.abs(errno)) ?? `E${Math.abs(errno)}`
}

export function errnoValue(name: string): number | undefined {
  return (constants.errno as Record<string, number>)[name]
}

export type SysErrorDetails = {
  syscall: string
  errno: number
  code: string
}

export function sysError(syscall: string, errno: number, cause?: unknown): LvsdError {
  const code = errnoName(errno)
  const details: SysErrorDetails = { syscall, errno: Math.abs(errno), code }
  return new LvsdError('LVSD_SYS_CALL', `${syscall} failed: ${code}`, details, cause ? { cause } : undefined)
}

/** Turns an addon error into LVSD_SYS_CALL; anything else (a TypeError for a bad argument) passes. */
export function wrapNativeError(e: unknown): unknown {
  if (!(e instanceof Error)) return e
  const { errno, syscall } = e as Error & { errno?: unknown; syscall?: unknown }
  if (typeof errno !== 'number' || typeof syscall !== 'string') return e
  return sysError(syscall, errno, e)
}

/** Runs one addon call, rethrowing its failure as LVSD_SYS_CALL. */
export function sys<T>(fn: () => T): T {
  try {
    return fn()
  } catch (e) {
    throw wrapNativeError(e)
  }
}

/** The errno name of an LVSD_SYS_CALL error ('EEXIST'), else undefined. */
export function sysErrorCode(e: unknown): string | undefined {
  if (!(e instanceof LvsdError) || e.code !== 'LVSD_SYS_CALL') return undefined
  const c = e.details.code
  return typeof c === 'string' ? c : undefined
}
