// The peer section of `lvsctl status` (docs/peer.md): the channel, the peer's version and round trip,
// the master of each instance, the sync daemons, connections side by side, health disagreements and
// config drift. One line per fact, so a script can grep it.
import type { PeerStatus } from '../director/types.js'

function ago(at: number, now: number): string {
  const ms = Math.max(0, now - at)
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`
}

export function formatPeer(p: PeerStatus, now: number): string[] {
  const out: string[] = []
  const drops = Object.entries(p.drops)
    .filter(([, n]) => n > 0)
    .map(([r, n]) => `${r} ${n}`)
  out.push(
    `Peer     ${p.node ?? '?'} ${p.address}:${p.port} channel ${p.channel}` +
      (p.version ? `, lvsd ${p.version}` : '') +
      (p.rttMs === undefined ? '' : `, rtt ${p.rttMs} ms`) +
      (p.lastHeard ? `, heard ${ago(p.lastHeard, now)} ago` : '') +
      `; sent ${p.sent}, received ${p.received}, dropped ${drops.length ? drops.join(' ') : '0'}`,
  )
  for (const i of p.instances) {
    const m = i.master
    out.push(
      `Master   ${i.name}: ` +
        (m
          ? `${m.node}${m.address ? ` (${m.address})` : ''} priority ${m.priority}, advert every ${m.advertMs} ms, last advert ${ago(m.lastHeard, now)} ago`
          : 'none known') +
        `; here ${i.here ?? '-'}, peer ${i.peer ?? '-'}`,
    )
  }
  out.push(`Sync     daemon here ${p.sync.here}, peer ${p.sync.peer ?? '-'}`)
  for (const c of p.conns)
    out.push(
      `Conns    ${c.service}: here ${c.here ?? '-'}, peer ${c.peer ?? '-'}${c.lagging ? ' (backup lagging: sync?)' : ''}`,
    )
  for (const h of p.healthDisagree)
    out.push(`Health   ${h.server}: ${h.here} here, ${h.peer} on the peer${h.reported ? '' : ' (just now)'}`)
  out.push(
    p.drift.length === 0
      ? 'Drift    none'
      : `Drift    ${p.drift.map((d) => `${d.key} ${d.kind === 'differs' ? 'differs' : d.kind === 'only-here' ? 'only here' : 'only on the peer'}`).join(', ')}`,
  )
  return out
}
