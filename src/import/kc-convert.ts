// keepalived.conf statement tree → an lvsd.yaml document: top-level blocks in keepalived's order of
// meaning (global_defs, scripts and track files, instances, sync groups, LVS), plus errors and notes.
import { type Conv, lvsdName } from './kc-context.js'
import { convertVirtualServer, convertVsGroup, type VsGroup } from './kc-lvs.js'
import type { KcVrrpState, Obj, Stmt } from './kc-types.js'
import { convertInstance } from './kc-vrrp.js'
import { convertScript, convertSyncGroup, convertTrackFile, garpKeyword } from './kc-vrrp-parts.js'

const TOP_UNSUPPORTED: Record<string, string> = {
  static_ipaddress: 'lvsd moves VRRP addresses only; configure static addresses in the OS',
  static_routes: 'configure static routes in the OS',
  static_rules: 'configure static rules in the OS',
  linkbeat_interfaces: 'lvsd follows link state by netlink',
  interface_up_down_delays: 'no lvsd equivalent',
  track_group: 'no lvsd equivalent',
  vrrp_track_process: 'use a vrrp_script (e.g. /usr/bin/pgrep) instead',
  track_process: 'use a vrrp_script (e.g. /usr/bin/pgrep) instead',
  bfd_instance: 'lvsd has no BFD',
  SSL: 'lvsd verifies https checks against a CA file per check (ca_file); keys and passwords are not used',
  net_namespace: 'run lvsd inside the namespace (ip netns exec)',
  net_namespace_ipvs: 'no lvsd equivalent',
  namespace_with_ipsets: 'no lvsd equivalent',
  instance: 'no lvsd equivalent',
  use_pid_dir: 'lvsd is one process (systemd tracks it)',
  linkbeat_use_polling: 'lvsd follows link state by netlink',
  child_wait_time: 'lvsd is one process',
}

const GLOBAL_IGNORED = new Set([
  'notification_email',
  'notification_email_from',
  'smtp_server',
  'smtp_connect_timeout',
  'smtp_helo_name',
  'smtp_alert',
  'smtp_alert_vrrp',
  'smtp_alert_checker',
  'enable_traps',
  'enable_snmp_vrrp',
  'enable_snmp_checker',
  'enable_snmp_rfc',
  'enable_snmp_rfcv2',
  'enable_snmp_rfcv3',
  'enable_snmp_keepalived',
  'snmp_socket',
  'enable_dbus',
  'enable_dbus_read_only',
  'dbus_service_name',
  'notify_fifo',
  'notify_fifo_script',
  'vrrp_notify_fifo',
  'vrrp_notify_fifo_script',
  'lvs_notify_fifo',
  'lvs_notify_fifo_script',
  'vrrp_mcast_group4',
  'vrrp_mcast_group6',
  'vrrp_skip_check_adv_addr',
  'vrrp_strict',
  'vrrp_check_unicast_src',
  'vrrp_iptables',
  'vrrp_ipsets',
  'nftables',
  'nftables_priority',
  'nftables_ifindex',
  'vrrp_priority',
  'checker_priority',
  'bfd_priority',
  'vrrp_no_swap',
  'checker_no_swap',
  'bfd_no_swap',
  'checker_rt_priority',
  'bfd_rt_priority',
  'vrrp_rlimit_rtime',
  'checker_rlimit_rtime',
  'bfd_rlimit_rtime',
  'vrrp_cpu_affinity',
  'checker_cpu_affinity',
  'bfd_cpu_affinity',
  'lvs_flush',
  'lvs_flush_onstop',
  'lvs_flush_on_stop',
  'dynamic_interfaces',
  'process_names',
  'process_name',
  'vrrp_process_name',
  'checker_process_name',
  'bfd_process_name',
  'max_auto_priority',
  'min_auto_priority_delay',
  'vrrp_lower_prio_no_advert',
  'vrrp_higher_prio_send_advert',
  'vrrp_garp_lower_prio_delay',
  'vrrp_garp_lower_prio_repeat',
  'vrrp_min_garp',
  'vrrp_garp_extra_if',
  'vrrp_down_timer_adverts',
  'vrrp_startup_delay',
  'vrrp_netlink_cmd_rcv_bufs',
  'vrrp_netlink_cmd_rcv_bufs_force',
  'vrrp_netlink_monitor_rcv_bufs',
  'vrrp_netlink_monitor_rcv_bufs_force',
  'lvs_netlink_cmd_rcv_bufs',
  'lvs_netlink_cmd_rcv_bufs_force',
  'lvs_netlink_monitor_rcv_bufs',
  'lvs_netlink_monitor_rcv_bufs_force',
  'vrrp_rx_bufs_policy',
  'vrrp_rx_bufs_multiplier',
  'rs_init_notifies',
  'no_checker_emails',
  'tmp_config_directory',
  'config_save_dir',
  'reload_check_config',
  'reload_time_file',
  'reload_repeat',
  'reload_file',
  'startup_script',
  'startup_script_timeout',
  'shutdown_script',
  'shutdown_script_timeout',
  'script_user',
  'enable_script_security',
  'random_seed',
  'vmac_prefix',
  'vmac_addr_prefix',
  'umask',
  'data_use_instance',
  'include_check',
  'vrrp_version',
  'vrrp_garp_master_delay',
  'vrrp_garp_master_repeat',
  'vrrp_garp_master_refresh',
  'vrrp_garp_master_refresh_repeat',
  'vrrp_garp_interval',
  'vrrp_gna_interval',
  'vrrp_rt_priority',
  'lvs_sync_daemon',
  'lvs_timeouts',
  'router_id',
  'lvs_id',
])

export interface Converted {
  doc: Obj
  node?: string
}

export function convert(c: Conv, top: Stmt[]): Converted {
  const st: KcVrrpState = { scripts: [], instances: [], syncGroups: [], trackFiles: new Map(), vipsOf: new Map() }
  const vrrp: Obj = {}
  const ipvs: Obj = {}
  let node: string | undefined
  const groups = new Map<string, VsGroup>()
  // keepalived resolves names across the whole file: definitions first, users after.
  const order = (kw: string) =>
    kw === 'global_defs'
      ? 0
      : ['vrrp_script', 'track_file', 'vrrp_track_file', 'virtual_server_group'].includes(kw)
        ? 1
        : kw === 'vrrp_sync_group'
          ? 3
          : 2
  const sorted = [...top].sort((a, b) => order(a.key.text) - order(b.key.text))
  const services: Obj[] = []
  const vsStmts: Stmt[] = []
  let syncStmt: Stmt | undefined
  for (const s of sorted) {
    const kw = s.key.text
    if (kw in TOP_UNSUPPORTED) {
      c.note(s.key, TOP_UNSUPPORTED[kw] as string)
      continue
    }
    switch (kw) {
      case 'global_defs':
        for (const g of s.block ?? []) {
          const r = globalDef(c, st, vrrp, ipvs, g)
          if (r === 'node') node = lvsdName(g.args[0]?.text ?? '')
          if (r === 'sync') syncStmt = g
        }
        break
      case 'vrrp_script':
        convertScript(c, st, s)
        break
      case 'track_file':
      case 'vrrp_track_file':
        convertTrackFile(c, st, s)
        break
      case 'vrrp_instance':
        convertInstance(c, st, s)
        break
      case 'vrrp_sync_group':
        convertSyncGroup(c, st, s)
        break
      case 'virtual_server_group':
        convertVsGroup(c, groups, s)
        break
      case 'virtual_server':
        vsStmts.push(s)
        break
      default:
        c.err(s.key, `unknown keyword '${kw}'`)
    }
  }
  const names = new Set<string>()
  const keys = new Map()
  const env = { trackFiles: st.trackFiles, ...(st.scriptUser ? { scriptUser: st.scriptUser } : {}) }
  for (const s of vsStmts) services.push(...convertVirtualServer(c, { env, groups, vipsOf: st.vipsOf, names, keys }, s))
  if (syncStmt) ipvs.sync = syncDaemon(c, syncStmt, st)
  else if (st.legacySync) ipvs.sync = { interface: st.legacySync.interface, follow: st.legacySync.follow }
  if (st.scripts.length > 0) vrrp.scripts = st.scripts
  if (st.instances.length > 0) vrrp.instances = st.instances
  if (st.syncGroups.length > 0) vrrp.sync_groups = st.syncGroups
  const doc: Obj = {
    node: node ?? 'lvsd',
    vrrp: Object.keys(vrrp).length > 0 ? vrrp : undefined,
    virtual_services: services.length > 0 ? services : undefined,
    ipvs: Object.keys(ipvs).length > 0 ? ipvs : undefined,
  }
  return { doc, ...(node ? { node } : {}) }
}

/** One global_defs keyword; returns 'node' for router_id and 'sync' for lvs_sync_daemon. */
function globalDef(c: Conv, st: KcVrrpState, vrrp: Obj, ipvs: Obj, g: Stmt): string | undefined {
  const kw = g.key.text
  const a = g.args
  if (kw.startsWith('vrrp_')) {
    const garp = { ...(vrrp.garp as Obj | undefined) }
    if (garpKeyword(c, g, kw.slice(5), garp)) {
      vrrp.garp = garp
      return undefined
    }
  }
  switch (kw) {
    case 'router_id':
      if (c.args(g, 1)) return 'node'
      return undefined
    case 'script_user':
      st.scriptUser = a[0] ? lvsdName(a[0].text) : undefined
      if (a[1]) c.note(a[1], 'lvsd runs programs with the user’s own group', 'script_user … GROUP')
      return undefined
    case 'enable_script_security':
      c.note(
        g.key,
        'lvsd always refuses programs that are not absolute paths to executables; it does not check who may write them',
      )
      return undefined
    case 'vrrp_version': {
      const v = c.int(c.args(g, 1)?.[0], 2, 3, kw)
      if (v !== undefined) {
        vrrp.version = v
        st.version = v
      }
      return undefined
    }
    case 'vrrp_rt_priority': {
      const p = c.int(c.args(g, 1)?.[0], 1, 99, kw)
      if (p !== undefined) vrrp.rt_priority = p
      return undefined
    }
    case 'lvs_timeouts': {
      const t: Obj = {}
      for (let i = 0; i < a.length; i += 2) {
        const k = a[i]?.text
        const n = c.int(a[i + 1], 1, 2147483, `lvs_timeouts ${k}`)
        const key = k === 'tcp' ? 'tcp' : k === 'tcpfin' ? 'tcp_fin' : k === 'udp' ? 'udp' : undefined
        if (!key) c.err(a[i] ?? g.key, `lvs_timeouts: '${k}' is not tcp, tcpfin or udp`)
        else if (n !== undefined) t[key] = `${n}s`
      }
      ipvs.timeouts = t
      return undefined
    }
    case 'lvs_sync_daemon':
    case 'lvs_sync_daemon_interface':
      return 'sync'
  }
  if (kw === 'lvs_id') {
    c.note(g.key, 'removed from keepalived (2.2 reports an unknown keyword); it had no effect')
    return undefined
  }
  if (GLOBAL_IGNORED.has(kw) || kw.startsWith('enable_snmp') || kw.endsWith('_process_name')) {
    c.note(
      g.key,
      kw.startsWith('smtp') || kw.startsWith('notification')
        ? 'lvsd sends no e-mail; use notify programs'
        : 'no lvsd equivalent',
    )
    return undefined
  }
  c.err(g.key, `unknown keyword '${kw}' in global_defs`)
  return undefined
}

const SYNC_INTS: Record<string, [key: string, min: number, max: number]> = {
  id: ['sync_id', 0, 255],
  maxlen: ['maxlen', 36, 65507],
  port: ['port', 1, 65535],
  ttl: ['ttl', 1, 255],
}

/** `lvs_sync_daemon IF [[inst] INSTANCE] [id N] [maxlen N] [port N] [ttl N] [group ADDR]`. */
function syncDaemon(c: Conv, g: Stmt, st: KcVrrpState): Obj {
  const a = g.args
  const out: Obj = { interface: a[0]?.text }
  for (let i = 1; i < a.length; i++) {
    const w = a[i]?.text
    const v = a[i + 1]
    switch (w) {
      case 'id':
      case 'maxlen':
      case 'port':
      case 'ttl': {
        const [key, min, max] = SYNC_INTS[w] as [string, number, number]
        out[key] = c.int(v, min, max, w)
        i++
        break
      }
      case 'group':
        out.group = c.addr(v, 'group')
        i++
        break
      case 'inst':
        out.follow = v ? lvsdName(v.text) : undefined
        i++
        break
      default:
        if (i === 1 && w) out.follow = lvsdName(w)
        else c.err(a[i] ?? g.key, `lvs_sync_daemon: unexpected '${w}'`)
    }
  }
  if (out.follow && !st.instances.some((i) => i.name === out.follow))
    c.err(g.key, `lvs_sync_daemon: no vrrp_instance ${out.follow}`)
  if (!out.follow)
    c.note(
      g.key,
      'without an instance keepalived runs master and backup sync daemons all the time; lvsd follows one instance (the only one, if there is one)',
      'lvs_sync_daemon',
    )
  return out
}
