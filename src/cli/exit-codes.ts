// Exit statuses shared by lvsd and lvsctl (sysexits-style where one fits).
export const EXIT = {
  ok: 0,
  failure: 1,
  /** The configuration is invalid (all errors were printed). */
  invalidConfig: 2,
  /** The command line is not understood (EX_USAGE). */
  usage: 64,
} as const
