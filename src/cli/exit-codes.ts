// Exit statuses shared by lvsd and lvsctl (sysexits-style where one fits). lvsd.service lists the
// permanent ones in RestartPreventExitStatus=, so systemd does not restart into the same failure.
export const EXIT = {
  ok: 0,
  failure: 1,
  /** The configuration is invalid (all errors were printed). */
  invalidConfig: 2,
  /** The command line is not understood (EX_USAGE). */
  usage: 64,
  /**
   * The host cannot run this configuration and a restart will not change it (EX_UNAVAILABLE): the
   * kernel has no IPVS (ip_vs not built or not loadable), or the native addon cannot be loaded.
   */
  unavailable: 69,
} as const
