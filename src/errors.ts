// The one table of lvsd's error codes. A released code is never renamed or reused;
// docs/errors.md lists every code (a unit test keeps the two in step).

export const CODES = {
  LVSD_DECODE_TRUNCATED: 'input ends before a field it declares',
  LVSD_DECODE_INVALID: 'a field holds a value the format does not allow',
  LVSD_ENCODE_INVALID: 'a value does not fit the field it is encoded into',
  LVSD_SYS_CALL: 'a system call failed',
  LVSD_NATIVE_MISSING: 'the native addon is not built or cannot be loaded',
  LVSD_STATE_UNSAFE: 'a state file’s directory could be changed by someone other than root or lvsd’s user',
  LVSD_NL_KERNEL: 'the kernel refused a netlink request',
  LVSD_NL_PROTOCOL: 'a netlink reply did not match its request',
  LVSD_NL_TIMEOUT: 'the kernel did not answer a netlink request in time',
  LVSD_NL_CLOSED: 'the netlink socket was closed with requests outstanding',
  LVSD_NL_WITHDRAWN: 'a held netlink request was withdrawn before it was sent',
  LVSD_GENL_FAMILY_ABSENT: 'a generic netlink family is not available in this kernel',
  LVSD_IPVS_TABLE_INVALID: 'a desired IPVS table contradicts itself',
  LVSD_CONFIG_INVALID: 'the configuration is invalid',
  LVSD_CONFIG_UNREADABLE: 'the configuration file cannot be read',
  LVSD_ADDR_INVALID: 'not an IPv4 or IPv6 address or prefix',
  LVSD_USAGE: 'the command line is not understood',
  LVSD_API_NOT_FOUND: 'the control API has no such route',
  LVSD_API_METHOD: 'the route exists but not for this HTTP method',
  LVSD_API_BAD_REQUEST: 'a request field is missing or invalid',
  LVSD_API_UNKNOWN_SERVICE: 'no virtual service by that name',
  LVSD_API_UNKNOWN_SERVER: 'the service has no real server at that address and port',
  LVSD_API_UNKNOWN_INSTANCE: 'no VRRP instance by that name',
  LVSD_API_CONFLICT: 'the request conflicts with what the daemon is doing',
  LVSD_API_BUSY: 'the daemon is at its limit for this kind of request',
  LVSD_API_FORBIDDEN: 'the socket the request came through is read-only (status, events, doctor)',
  LVSD_API_INTERNAL: 'the daemon failed while handling an API request',
  LVSD_API_SOCKET: 'the control socket cannot be set up',
  LVSD_API_UNREACHABLE: 'the control socket cannot be reached (is lvsd running?)',
  LVSD_API_PROTOCOL: 'the control API answered something the client does not understand',
  LVSD_VRRP_STOPPED: 'the VRRP runtime is stopping or has stopped, or failed to apply an update',
  LVSD_INTERNAL: 'an unexpected error inside lvsd (details name its kind and errno)',
  LVSD_REALSERVER_RECORD: 'the record of what lvsd realserver up changed cannot be read',
  LVSD_REALSERVER_REFUSED: 'lvsd realserver up will not change a host whose VIPs are assigned elsewhere',
  LVSD_PEER_KEY: 'the peer channel key file is missing, unsafe (owner, mode, symlink) or too short',
  LVSD_PEER_SOCKET: 'the peer channel socket cannot be bound',
} as const

export type Code = keyof typeof CODES

export class LvsdError extends Error {
  override readonly name = 'LvsdError'
  constructor(
    readonly code: Code,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
    options?: ErrorOptions,
  ) {
    super(message, options)
  }

  toJSON(): { code: Code; message: string; details: Readonly<Record<string, unknown>> } {
    return { code: this.code, message: this.message, details: this.details }
  }

  // Errors lose their class crossing postMessage/structuredClone; rebuild from toJSON().
  static fromJSON(j: { code: Code; message: string; details?: Record<string, unknown> }): LvsdError {
    return new LvsdError(j.code, j.message, j.details ?? {})
  }
}

/** An error as plain data, for a MessagePort or a log line. */
export interface WireError {
  code: Code
  message: string
  details: Record<string, unknown>
}

/**
 * Any thrown value as data that crosses a thread unchanged: an LvsdError keeps its code and details;
 * anything else becomes LVSD_INTERNAL with its name and errno (err.code) kept, never just a string.
 */
export function toWireError(e: unknown): WireError {
  if (e instanceof LvsdError) return { code: e.code, message: e.message, details: { ...e.details } }
  const err = e as Partial<NodeJS.ErrnoException> | undefined
  const details: Record<string, unknown> = {}
  if (err && typeof err === 'object') {
    if (err.name) details.name = err.name
    if (err.code !== undefined) details.errno = err.code
    if (err.syscall) details.syscall = err.syscall
  }
  return { code: 'LVSD_INTERNAL', message: err?.message ?? String(e), details }
}

export function fromWireError(w: WireError): LvsdError {
  return LvsdError.fromJSON(w)
}

export function isLvsdError(e: unknown, code?: Code): e is LvsdError {
  return e instanceof LvsdError && (code === undefined || e.code === code)
}
