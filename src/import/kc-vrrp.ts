// keepalived's vrrp_instance → an lvsd vrrp.instances entry. Keywords with no lvsd equivalent become
// notes; values keepalived rejects, errors. Scripts, track files and sync groups: kc-vrrp-parts.ts.
import { formatPrefix } from '../net/addr.js'
import { type Conv, duration, lvsdName } from './kc-context.js'
import type { KcVrrpState, Obj, Stmt, Word } from './kc-types.js'
import { entry, garpKeyword, NOTIFY, noDuplicates, scriptArgv, weighted } from './kc-vrrp-parts.js'

/** Keywords keepalived knows in a vrrp_instance that lvsd has no equivalent for, and why. */
const INSTANCE_UNSUPPORTED: Record<string, string> = {
  mcast_src_ip: 'lvsd sends multicast adverts from the interface address',
  mcast_dst_ip: 'lvsd always uses the standard VRRP group (224.0.0.18 / ff02::12)',
  dont_track_primary: 'lvsd always tracks the instance interface',
  track_src_ip: 'lvsd has no source-address tracking',
  track_process: 'use a track script (e.g. /usr/bin/pgrep) instead',
  track_bfd: 'lvsd has no BFD',
  check_unicast_src: 'lvsd always drops unicast adverts from non-peers',
  unicast_fault_no_peer: 'lvsd requires peers whenever unicast is set',
  old_unicast_checksum: 'lvsd computes the RFC checksum only',
  down_timer_adverts: 'lvsd follows the RFC (3 adverts)',
  lower_prio_no_advert: 'lvsd answers a lower-priority advert as the RFC says',
  higher_prio_send_advert: 'no lvsd equivalent',
  garp_lower_prio_delay: 'lvsd has no lower-priority GARP burst',
  garp_lower_prio_repeat: 'lvsd has no lower-priority GARP burst',
  garp_extra_if: 'lvsd sends GARPs on the instance interface only',
  garp_extra_if_vmac: 'lvsd sends GARPs on the instance interface only',
  vmac_xmit_base: 'lvsd sends adverts from the VMAC itself',
  use_vmac_addr: 'lvsd creates one VMAC per instance',
  use_ipvlan: 'lvsd has no ipvlan support',
  native_ipv6: 'deprecated in keepalived; the VIPs decide the family',
  virtual_routes: 'lvsd moves addresses only; add routes in a notify program',
  virtual_rules: 'lvsd moves addresses only; add rules in a notify program',
  promote_secondaries: 'set net.ipv4.conf.IF.promote_secondaries yourself',
  skip_check_adv_addr: 'lvsd always checks advert addresses',
  strict_mode: 'lvsd has no strict mode',
  debug: 'no effect in keepalived either',
  notify_master_rx_lower_pri: 'no lvsd equivalent',
  notify_priority_changes: 'lvsd reports priority changes in its event stream (lvsctl events)',
  smtp_alert: 'lvsd sends no e-mail; use notify programs',
  kernel_rx_buf_size: 'lvsd sizes its receive buffer itself',
  linkbeat_use_polling: 'lvsd follows link state by netlink',
  vrf: 'no lvsd equivalent',
  notify_deleted: 'no lvsd equivalent',
}

const INSTANCE_ORDER = [
  'name',
  'interface',
  'vrid',
  'priority',
  'address_owner',
  'version',
  'advert_interval',
  'initial_state',
  'preempt',
  'preempt_delay',
  'accept',
  'virtual_mac',
  'vips',
  'excluded_vips',
  'unicast',
  'track',
  'authentication',
  'notify',
  'garp',
]

function vip(c: Conv, l: Stmt, notes: string[]): Obj | undefined {
  const p = c.prefix(l.key, 'address')
  if (!p) return undefined
  const out: Obj = { address: formatPrefix(p) }
  const a = l.args
  for (let i = 0; i < a.length; i++) {
    const w = a[i] as Word
    const val = a[i + 1]
    switch (w.text) {
      case 'dev':
        out.dev = val?.text
        i++
        break
      case 'label':
        out.label = val?.text
        i++
        break
      case 'brd':
      case 'broadcast':
        notes.push(c.note(w, 'lvsd adds the address without a broadcast address', 'brd'))
        i++
        break
      case 'scope':
        if (val?.text !== 'global')
          notes.push(c.note(w, `lvsd adds addresses with scope global, not ${val?.text}`, 'scope'))
        i++
        break
      case 'peer':
      case 'preferred_lft':
      case 'track_group':
        notes.push(c.note(w, 'no lvsd equivalent'))
        i++
        break
      case 'home':
      case '-nodad':
      case 'nodad':
      case 'mngtmpaddr':
      case 'noprefixroute':
      case 'autojoin':
      case 'no_track':
      case 'use_vmac':
        notes.push(c.note(w, 'no lvsd equivalent'))
        break
      default:
        c.err(w, `unknown address option '${w.text}'`)
    }
  }
  if (Object.keys(out).length === 1 && !l.args.length) return out
  return out
}

function familyOf(addr: string): 4 | 6 {
  return addr.includes(':') ? 6 : 4
}

export function convertInstance(c: Conv, st: KcVrrpState, s: Stmt): void {
  const nameW = s.args[0]
  if (!nameW || !s.block) return void c.err(s.key, 'vrrp_instance needs a name and a { block }')
  const out: Obj = { name: lvsdName(nameW.text) }
  const notes: string[] = []
  if (out.name !== nameW.text)
    notes.push(c.note(nameW, `renamed to ${out.name} (lvsd names use letters, digits, _ . -)`, 'vrrp_instance'))
  let priority = 100
  let state: string | undefined
  let nopreempt: Word | undefined
  let pdelay: Word | undefined
  const vips: Obj[] = []
  const excl: Obj[] = []
  const track: Obj = {}
  const notify: Obj = {}
  const garp: Obj = {}
  let unicast: Obj | undefined
  for (const k of s.block) {
    const kw = k.key.text
    if (kw in NOTIFY) {
      notify[NOTIFY[kw] as string] = scriptArgv(c, k, notes)
      continue
    }
    if (garpKeyword(c, k, kw, garp)) continue
    if (kw in INSTANCE_UNSUPPORTED) {
      notes.push(c.note(k.key, INSTANCE_UNSUPPORTED[kw] as string))
      continue
    }
    switch (kw) {
      case 'state': {
        const v = c.args(k, 1)?.[0]
        if (v && v.text !== 'MASTER' && v.text !== 'BACKUP') c.err(v, `state: '${v.text}' is not MASTER or BACKUP`)
        else if (v) state = v.text
        break
      }
      case 'interface':
        out.interface = c.args(k, 1)?.[0]?.text
        break
      case 'virtual_router_id':
        out.vrid = c.int(c.args(k, 1)?.[0], 1, 255, 'virtual_router_id')
        break
      case 'priority':
        priority = c.int(c.args(k, 1)?.[0], 1, 255, 'priority') ?? priority
        break
      case 'advert_int': {
        out.advert_interval = k.args[0]?.text
        break
      }
      case 'version':
        out.version = c.int(c.args(k, 1)?.[0], 2, 3, 'version')
        break
      case 'nopreempt':
      case 'no_preempt':
        nopreempt = k.key
        break
      case 'preempt':
        break
      case 'preempt_delay':
        pdelay = c.args(k, 1)?.[0]
        break
      case 'accept':
        out.accept = true
        break
      case 'no_accept':
        out.accept = false
        break
      case 'use_vmac':
        out.virtual_mac = true
        if (k.args.length > 0)
          notes.push(
            c.note(k.args[0] as Word, 'lvsd names the VMAC vrrp.VRID and uses the standard MAC', 'use_vmac NAME/MAC'),
          )
        break
      case 'authentication':
        out.authentication = auth(c, k, notes)
        break
      case 'unicast_src_ip':
        unicast = { ...unicast, source: c.addr(c.args(k, 1)?.[0], 'unicast_src_ip') }
        break
      case 'unicast_ttl':
        unicast = { ...unicast, ttl: c.int(c.args(k, 1)?.[0], 1, 255, 'unicast_ttl') }
        break
      case 'unicast_peer': {
        const peers: string[] = []
        for (const p of k.block ?? []) {
          const a = c.addr(p.key, 'unicast_peer')
          if (a) peers.push(a)
          if (p.args.length > 0)
            notes.push(c.note(p.args[0] as Word, 'lvsd does not check the TTL of adverts', 'min_ttl/max_ttl'))
        }
        unicast = { ...unicast, peers }
        break
      }
      case 'lvs_sync_daemon_interface': {
        const itf = c.args(k, 1)?.[0]
        if (itf) st.legacySync = { interface: itf.text, follow: lvsdName(nameW.text), at: k.key }
        notes.push(c.note(k.key, 'deprecated in keepalived: imported as ipvs.sync following this instance'))
        break
      }
      case 'track_interface':
        noDuplicates(c, k)
        track.interfaces = (k.block ?? []).flatMap((t) => {
          if (t.key.text !== out.interface) return entry(weighted(c, t, 'name', -253, 253, notes))
          notes.push(
            c.note(
              t.key,
              'the instance’s own interface is tracked anyway (keepalived ignores this entry too)',
              'track_interface',
            ),
          )
          return []
        })
        break
      case 'track_script':
        noDuplicates(c, k)
        for (const t of k.block ?? [])
          if (!st.scripts.some((sc) => sc.name === lvsdName(t.key.text)))
            c.err(t.key, `track_script: no vrrp_script ${t.key.text} (keepalived -t reports this too)`)
        track.scripts = (k.block ?? []).flatMap((t) => entry(weighted(c, t, 'name', -253, 253, notes)))
        break
      case 'track_file':
        noDuplicates(c, k)
        track.files = (k.block ?? []).flatMap((t) => {
          const tf = st.trackFiles.get(t.key.text)
          if (!tf) return c.err(t.key, `track_file '${t.key.text}' is not defined`) ?? []
          const w = weighted(c, t, 'name', -254, 254, notes)
          return w ? [{ path: tf.path, weight: (w.weight as number | undefined) ?? tf.weight ?? 1 }] : []
        })
        break
      case 'virtual_ipaddress':
        for (const l of k.block ?? []) vips.push(...[vip(c, l, notes)].filter((v): v is Obj => v !== undefined))
        break
      case 'virtual_ipaddress_excluded':
        for (const l of k.block ?? []) excl.push(...[vip(c, l, notes)].filter((v): v is Obj => v !== undefined))
        break
      default:
        c.err(k.key, `unknown keyword '${kw}' in vrrp_instance`)
    }
  }
  if (out.vrid === undefined) return void c.err(s.key, `vrrp_instance ${nameW.text}: virtual_router_id must be set`)
  if (out.interface === undefined) return void c.err(s.key, `vrrp_instance ${nameW.text}: lvsd needs an interface`)
  // advert_int rules depend on the version: v2 whole seconds (keepalived rounds with an error), v3 10 ms steps.
  const version =
    (out.version as number | undefined) ??
    (vips.some((v) => familyOf(v.address as string) === 6) ? 3 : (st.version ?? 2))
  if (vips.some((v) => familyOf(v.address as string) === 6) && version === 2)
    c.err(s.key, `vrrp_instance ${nameW.text}: IPv6 needs version 3`)
  if (out.advert_interval !== undefined) {
    const w = s.block.find((k) => k.key.text === 'advert_int')?.args[0] as Word
    const ms = c.timer(w, 'advert_int', 0.01, 255)
    if (ms !== undefined && version === 2 && ms % 1000 !== 0)
      c.err(w, `advert_int ${w.text}: VRRPv2 intervals are whole seconds (keepalived rounds and reports an error)`)
    if (ms !== undefined && version === 3 && (ms > 40950 || ms % 10 !== 0))
      c.err(w, `advert_int ${w.text}: VRRPv3 intervals are 0.01..40.95 s in steps of 0.01`)
    out.advert_interval = ms === undefined ? undefined : duration(ms)
  }
  if (vips.length === 0)
    return void c.err(s.key, `vrrp_instance ${nameW.text}: no virtual_ipaddress (keepalived -t reports this too)`)
  const fam = familyOf(vips[0]?.address as string)
  for (const v of vips.slice(1))
    if (familyOf(v.address as string) !== fam)
      c.err(s.key, `vrrp_instance ${nameW.text}: VIPs of both families (put one family in virtual_ipaddress_excluded)`)
  out.priority = priority
  if (priority === 255) {
    out.address_owner = true
    notes.push(
      c.note(
        s.key,
        'the address owner: lvsd checks at start-up that the VIPs are already on the interface',
        'priority 255',
      ),
    )
  }
  if (state === 'MASTER') out.initial_state = 'master'
  if (nopreempt) {
    if (state === 'MASTER')
      c.err(nopreempt, 'nopreempt does not work with state MASTER (keepalived clears it and reports an error)')
    else out.preempt = false
  }
  if (pdelay) {
    const ms = c.timer(pdelay, 'preempt_delay', 0, 1000)
    if (ms !== undefined && state === 'MASTER') c.err(pdelay, 'preempt_delay does not work with state MASTER')
    else if (ms !== undefined && nopreempt === undefined) out.preempt_delay = duration(ms)
  }
  out.vips = vips.map((v) => (Object.keys(v).length === 1 ? v.address : v))
  if (excl.length > 0) out.excluded_vips = excl.map((v) => (Object.keys(v).length === 1 ? v.address : v))
  if (unicast) {
    if (!Array.isArray(unicast.peers) || unicast.peers.length === 0)
      notes.push(
        c.note(
          s.key,
          'unicast_src_ip without unicast_peer: keepalived sends multicast, and so does lvsd',
          'unicast_src_ip',
        ),
      )
    else out.unicast = Object.fromEntries(Object.entries(unicast).filter(([, v]) => v !== undefined))
  }
  if (Object.keys(track).length > 0) out.track = track
  if (Object.keys(notify).length > 0) out.notify = notify
  const g = Object.fromEntries(Object.entries(garp).filter(([, v]) => v !== undefined))
  if (Object.keys(g).length > 0) out.garp = g
  st.vipsOf.set(
    out.name as string,
    vips.map((v) => (v.address as string).split('/')[0] as string),
  )
  const ordered: Obj = {}
  for (const k of INSTANCE_ORDER) if (out[k] !== undefined) ordered[k] = out[k]
  st.instances.push(c.annotate(ordered, s.key.loc, notes))
}

function auth(c: Conv, k: Stmt, notes: string[]): Obj | undefined {
  let type: string | undefined
  let pass: string | undefined
  for (const a of k.block ?? []) {
    if (a.key.text === 'auth_type') type = a.args[0]?.text
    else if (a.key.text === 'auth_pass') pass = a.args[0]?.text
    else c.err(a.key, `unknown keyword '${a.key.text}' in authentication`)
  }
  if (type === 'AH') {
    notes.push(
      c.note(
        k.key,
        'IPsec AH authentication is not supported by lvsd; a pair needs the same type on both sides',
        'auth_type AH',
      ),
    )
    return undefined
  }
  if (type !== 'PASS') return c.err(k.key, `authentication: auth_type must be PASS or AH, not '${type ?? ''}'`)
  if (!pass) return c.err(k.key, 'authentication: auth_pass is missing')
  if (Buffer.byteLength(pass) > 8)
    c.err(k.key, 'auth_pass: more than 8 characters (keepalived truncates it and reports an error)')
  return { type: 'pass', password: pass }
}
