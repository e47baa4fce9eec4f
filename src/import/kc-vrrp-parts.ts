// keepalived's VRRP companions → lvsd: vrrp_script, track_file, vrrp_sync_group, and the pieces
// vrrp_instance shares with them (script argv, weighted track entries, GARP keywords).
import { type Conv, duration, lvsdName } from './kc-context.js'
import type { KcVrrpState, Obj, Stmt, TrackFile, Word } from './kc-types.js'

export const NOTIFY: Record<string, string> = {
  notify_master: 'master',
  notify_backup: 'backup',
  notify_fault: 'fault',
  notify_stop: 'stop',
  notify: 'any',
}

export function convertScript(c: Conv, st: KcVrrpState, s: Stmt): void {
  const name = s.args[0]
  if (!name || !s.block) return void c.err(s.key, 'vrrp_script needs a name and a { block }')
  const out: Obj = { name: lvsdName(name.text) }
  const notes: string[] = []
  if (out.name !== name.text)
    notes.push(c.note(name, `renamed to ${out.name} (lvsd names use letters, digits, _ . -)`, 'vrrp_script'))
  for (const k of s.block) {
    switch (k.key.text) {
      case 'script':
        out.argv = scriptArgv(c, k, notes)
        break
      case 'interval': {
        const ms = c.timer(c.args(k, 1)?.[0], 'interval', 0.001)
        if (ms !== undefined) out.interval = duration(Math.max(ms, 10))
        break
      }
      case 'timeout': {
        const ms = c.timer(c.args(k, 1)?.[0], 'timeout', 0.001)
        if (ms !== undefined) out.timeout = duration(Math.max(ms, 10))
        break
      }
      case 'weight': {
        const w = c.int(k.args[0], -253, 253, 'weight')
        if (w !== undefined) out.weight = w
        if (k.args[1]?.text === 'reverse')
          notes.push(c.note(k.args[1], 'lvsd has no reversed script weight', 'weight … reverse'))
        break
      }
      case 'rise':
      case 'fall': {
        const n = c.int(c.args(k, 1)?.[0], 1, 100, k.key.text)
        if (n !== undefined) out[k.key.text] = n
        break
      }
      case 'user':
        if (k.args[0]) out.user = lvsdName(k.args[0].text)
        if (k.args[1]) notes.push(c.note(k.args[1], 'lvsd runs the script with the user’s own group', 'user … GROUP'))
        break
      case 'init_fail':
        notes.push(c.note(k.key, 'lvsd starts a script as not yet known, then applies rise/fall'))
        break
      default:
        c.err(k.key, `unknown keyword '${k.key.text}' in vrrp_script`)
    }
  }
  if (!out.argv) return void c.err(s.key, `vrrp_script ${name.text}: no script`)
  if (out.user === undefined && st.scriptUser) out.user = st.scriptUser
  st.scripts.push(c.annotate(out, s.key.loc, notes))
}

/** `script`/`notify_*` strings: argv split as keepalived does; `[user [group]]` after a quoted script. */
export function scriptArgv(c: Conv, k: Stmt, notes: string[]): string[] {
  const argv = c.argv(k.args.slice(0, 1))
  if (k.args.length > 1)
    notes.push(c.note(k.args[1] as Word, 'lvsd runs notify and track programs as its own user', `${k.key.text} … USER`))
  if (argv.length > 0 && !argv[0]?.startsWith('/'))
    c.err(
      k.args[0] as Word,
      `${k.key.text}: '${argv[0]}' is not an absolute path (lvsd runs programs without a shell or PATH)`,
    )
  return argv
}

export function convertTrackFile(c: Conv, st: KcVrrpState, s: Stmt): void {
  const name = s.args[0]
  if (!name || !s.block) return void c.err(s.key, `${s.key.text} needs a name and a { block }`)
  const tf: TrackFile = {}
  for (const k of s.block) {
    if (k.key.text === 'file') tf.path = k.args[0]?.text
    else if (k.key.text === 'weight') {
      tf.weight = c.int(k.args[0], -254, 254, 'weight')
      if (k.args[1]?.text === 'reverse' && tf.weight !== undefined) tf.weight = -tf.weight
    } else if (k.key.text === 'init_file') c.note(k.key, 'lvsd treats a missing file as 0 and never creates it')
    else c.err(k.key, `unknown keyword '${k.key.text}' in ${s.key.text}`)
  }
  if (!tf.path) return void c.err(s.key, `${s.key.text} ${name.text}: no file`)
  st.trackFiles.set(name.text, tf)
}

const GARP: Record<string, [key: string, kind: 'dur' | 'int', max: number]> = {
  garp_master_delay: ['delay', 'dur', 1000],
  garp_master_repeat: ['repeat', 'int', 100],
  garp_master_refresh: ['refresh', 'dur', 86400],
  garp_master_refresh_repeat: ['refresh_repeat', 'int', 100],
  garp_interval: ['interval', 'dur', 1],
  gna_interval: ['interval', 'dur', 1],
}

/** A GARP keyword (`garp_master_delay` in an instance, `vrrp_garp_master_delay` in global_defs) into `garp`. */
export function garpKeyword(c: Conv, k: Stmt, kw: string, garp: Obj): boolean {
  const g = GARP[kw]
  if (!g) return false
  const [key, kind, max] = g
  const v = kind === 'dur' ? dur(c, k, 0, max) : c.int(c.args(k, 1)?.[0], 1, max, k.key.text)
  if (v !== undefined) garp[key] = v
  return true
}

/** keepalived drops a repeated name in a track block and -t reports it: an error here. */
export function noDuplicates(c: Conv, k: Stmt): void {
  const seen = new Set<string>()
  for (const t of k.block ?? []) {
    if (seen.has(t.key.text))
      c.err(t.key, `${k.key.text}: ${t.key.text} is listed twice (keepalived ignores the second)`)
    seen.add(t.key.text)
  }
}

export function dur(c: Conv, k: Stmt, min: number, max: number): string | undefined {
  const ms = c.timer(c.args(k, 1)?.[0], k.key.text, min, max)
  return ms === undefined ? undefined : duration(ms)
}

/** `NAME [weight W [reverse]]` lines of track_interface / track_script / track_file; undefined = left out. */
export function weighted(c: Conv, t: Stmt, key: string, min: number, max: number, notes: string[]): Obj | undefined {
  const out: Obj = { [key]: lvsdName(t.key.text) }
  const a = t.args
  if (a[0]?.text === 'weight') {
    const w = c.int(a[1], min, max, 'weight')
    if (w !== undefined) out.weight = w
    if (a[2]?.text === 'reverse') {
      // keepalived then moves the priority the other way; lvsd cannot, and the opposite sign would be wrong.
      notes.push(c.note(a[2], `lvsd has no reversed weights: tracking ${t.key.text} is left out`, 'weight … reverse'))
      return undefined
    }
    if (a[2] && a[2].text !== 'noreverse' && a[2].text !== 'no_reverse') c.err(a[2], `unexpected '${a[2].text}'`)
  } else if (a[0]) c.err(a[0], `unexpected '${a[0].text}' (expected weight)`)
  return out
}

/** A list entry in the short form (a bare name) when it has no weight. */
export function entry(o: Obj | undefined): unknown[] {
  if (!o) return []
  return Object.keys(o).length === 1 && 'name' in o ? [o.name] : [o]
}

export function convertSyncGroup(c: Conv, st: KcVrrpState, s: Stmt): void {
  const name = s.args[0]
  if (!name || !s.block) return void c.err(s.key, 'vrrp_sync_group needs a name and a { block }')
  const out: Obj = { name: lvsdName(name.text) }
  const notes: string[] = []
  const notify: Obj = {}
  for (const k of s.block) {
    const kw = k.key.text
    if (kw === 'group') {
      // keepalived reads every word of the group block as a member, one per line or several.
      const words = (k.block ?? []).flatMap((m) => [m.key, ...m.args])
      for (const w of words)
        if (!st.instances.some((i) => i.name === lvsdName(w.text)))
          c.err(w, `vrrp_sync_group ${name.text}: no vrrp_instance ${w.text}`)
      out.members = words.map((w) => lvsdName(w.text))
    } else if (kw in NOTIFY) notify[NOTIFY[kw] as string] = scriptArgv(c, k, notes)
    else if (['track_interface', 'track_script', 'track_file', 'track_process', 'track_bfd'].includes(kw))
      notes.push(c.note(k.key, 'lvsd tracks per instance: put it in each member instance'))
    else if (['global_tracking', 'sync_group_tracking_weight', 'smtp_alert', 'notify_priority_changes'].includes(kw))
      notes.push(c.note(k.key, 'no lvsd equivalent'))
    else c.err(k.key, `unknown keyword '${kw}' in vrrp_sync_group`)
  }
  if (!Array.isArray(out.members) || out.members.length === 0)
    return void c.err(s.key, `vrrp_sync_group ${name.text}: no group`)
  if (out.members.length === 1)
    return void c.note(
      s.key,
      'a group of one instance has no effect (keepalived warns too); left out',
      'vrrp_sync_group',
    )
  if (Object.keys(notify).length > 0) out.notify = notify
  st.syncGroups.push(c.annotate(out, s.key.loc, notes))
}
