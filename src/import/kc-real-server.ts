// keepalived's real_server block → an lvsd real_servers entry with its checks, and the forwarding
// method syntax real servers share with virtual servers and sorry servers.
import { type CheckEnv, convertChecker, isChecker, type Timing, timingKeyword } from './kc-checks.js'
import type { Conv } from './kc-context.js'
import type { Obj, Stmt, Word } from './kc-types.js'

export const VS_UNSUPPORTED: Record<string, string> = {
  ha_suspend: 'lvsd runs checks on both directors all the time (so does keepalived without it)',
  omega: 'lvsd runs no quorum_down program when it stops',
  smtp_alert: 'lvsd sends no e-mail; use quorum_up/quorum_down',
  snmp_name: 'lvsd has no SNMP; see its Prometheus metrics',
  sorry_server_inhibit: 'lvsd removes the sorry server when quorum returns',
  'flag-3': 'no scheduler uses flag-3',
  nat_mask: 'removed from keepalived (2.2 reports an unknown keyword); it had no effect',
  notify_up: 'lvsd reports server state changes in its event stream (lvsctl events)',
  notify_down: 'lvsd reports server state changes in its event stream (lvsctl events)',
  uthreshold: '',
  lthreshold: '',
}

/** `lvs_method`/`lb_kind NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]`. */
export function method(c: Conv, k: Stmt): { forwarding?: string; tunnel?: Obj } {
  const a = k.args
  const m = a[0]?.text
  if (m === 'NAT' || m === 'DR') return { forwarding: m.toLowerCase() }
  if (m !== 'TUN') return c.err(a[0] ?? k.key, `${k.key.text}: '${m ?? ''}' is not NAT, DR or TUN`) ?? {}
  const tunnel: Obj = {}
  for (let i = 1; i < a.length; i++) {
    const w = a[i] as Word
    if (w.text === 'type') {
      tunnel.type = a[++i]?.text
      if (!['ipip', 'gue', 'gre'].includes(tunnel.type as string))
        c.err(a[i] ?? w, `tunnel type '${tunnel.type}' is not ipip, gue or gre`)
    } else if (w.text === 'port') tunnel.port = c.int(a[++i], 1, 65535, 'port')
    else if (['nocsum', 'csum', 'remcsum'].includes(w.text)) tunnel.checksum = w.text === 'nocsum' ? 'none' : w.text
    else c.err(w, `unexpected '${w.text}' in ${k.key.text} TUN`)
  }
  return { forwarding: 'tun', ...(Object.keys(tunnel).length > 0 ? { tunnel } : {}) }
}

export function realServer(
  c: Conv,
  env0: CheckEnv,
  r: Stmt,
  t: Timing,
  vsFwd: string,
  vsPort: number | undefined,
  vsInhibit: boolean,
  vsAlpha: boolean,
  notes: string[],
): Obj[] {
  const addr = c.addr(r.args[0], 'real_server')
  if (!addr) return []
  const out: Obj = { address: addr }
  const port = r.args[1] ? c.int(r.args[1], 0, 65535, 'port') : undefined
  if (port !== undefined) out.port = port
  const checks: Obj[] = []
  const env: CheckEnv = { ...env0, alpha: vsAlpha }
  const checkers: Stmt[] = []
  for (const k of r.block ?? []) {
    const kw = k.key.text
    if (timingKeyword(c, k, t)) continue
    if (isChecker(kw)) {
      checkers.push(k)
      continue
    }
    switch (kw) {
      case 'weight': {
        const w = c.int(c.args(k, 1)?.[0], 0, 2147483647, 'weight')
        if (w !== undefined && w > 65535)
          notes.push(c.note(k.key, `weight ${w} above IPVS's 65535 is not possible in lvsd; 65535`, 'weight'))
        if (w !== undefined) out.weight = Math.min(w, 65535)
        break
      }
      case 'lvs_method':
      case 'lb_kind': {
        const m = method(c, k)
        if (m.forwarding && m.forwarding !== vsFwd) out.forwarding = m.forwarding
        if (m.tunnel) out.tunnel = m.tunnel
        break
      }
      case 'uthreshold':
        out.upper_threshold = c.int(c.args(k, 1)?.[0], 0, 2147483647, kw)
        break
      case 'lthreshold':
        out.lower_threshold = c.int(c.args(k, 1)?.[0], 0, 2147483647, kw)
        break
      case 'inhibit_on_failure':
        if ((c.bool(k) ?? false) !== vsInhibit)
          notes.push(c.note(k.key, 'lvsd sets inhibit_on_failure per service, not per real server'))
        break
      case 'alpha':
        env.alpha = c.bool(k) ?? false
        break
      case 'notify_up':
      case 'notify_down':
      case 'smtp_alert':
      case 'snmp_name':
        notes.push(c.note(k.key, VS_UNSUPPORTED[kw] ?? 'no lvsd equivalent'))
        break
      default:
        c.err(k.key, `unknown keyword '${kw}' in real_server`)
    }
  }
  for (const k of checkers) checks.push(...convertChecker(c, k, t, env, notes))
  if (checks.length > 0) out.checks = checks
  if (env.alpha) out.initially_down = true
  const fwd = (out.forwarding as string | undefined) ?? vsFwd
  if (fwd === 'dr' && vsPort !== undefined && port !== undefined && port !== vsPort) {
    notes.push(
      c.note(
        r.args[1] as Word,
        `DR cannot change the port: keepalived resets ${port} to ${vsPort}, so does the import`,
        'real_server port',
      ),
    )
    out.port = vsPort
  }
  return [out]
}
