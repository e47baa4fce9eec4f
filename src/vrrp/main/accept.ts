// Accept_Mode (RFC 5798 §6.1, §8.3.2): a master that is not the address owner must not accept
// packets addressed to the virtual addresses unless `accept` is on. Enforced like keepalived, with
// an nftables table in the namespace that drops input to those addresses (the VIPs are local only
// while master, so the static rule acts only then). Neighbour Solicitations/Advertisements to an
// IPv6 VIP still pass: hosts must be able to resolve it. The table is replaced atomically.
import { execFile } from 'node:child_process'
import { formatAddr } from '../../net/addr.js'
import type { RuntimeInstance } from '../messages.js'

export const NFT = '/usr/sbin/nft'
export const ACCEPT_TABLE = 'lvsd_vrrp'

/** The addresses input must drop: every VIP and excluded VIP of a non-owner with accept off. */
export function noAcceptAddrs(instances: readonly RuntimeInstance[]): { v4: string[]; v6: string[] } {
  const v4 = new Set<string>()
  const v6 = new Set<string>()
  for (const i of instances) {
    if (i.accept || i.priority === 255) continue
    for (const v of [...i.vips, ...i.excludedVips]) {
      const a = v.prefix.addr
      ;(a.family === 4 ? v4 : v6).add(formatAddr(a))
    }
  }
  return { v4: [...v4].sort(), v6: [...v6].sort() }
}

/**
 * The nft script: create-then-delete makes the delete safe when the table is absent; the new
 * table (if any address needs it) follows in the same transaction, so no packet sees a gap.
 */
export function acceptRuleset(instances: readonly RuntimeInstance[]): string {
  const { v4, v6 } = noAcceptAddrs(instances)
  const lines = [`add table inet ${ACCEPT_TABLE}`, `delete table inet ${ACCEPT_TABLE}`]
  if (v4.length + v6.length === 0) return `${lines.join('\n')}\n`
  const set = (name: string, type: string, elems: string[]) =>
    `  set ${name} { type ${type}; ${elems.length > 0 ? `elements = { ${elems.join(', ')} }; ` : ''}}`
  lines.push(
    `table inet ${ACCEPT_TABLE} {`,
    set('no_accept4', 'ipv4_addr', v4),
    set('no_accept6', 'ipv6_addr', v6),
    '  chain input {',
    '    type filter hook input priority filter; policy accept;',
    '    ip daddr @no_accept4 counter drop',
    '    ip6 daddr @no_accept6 icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept',
    '    ip6 daddr @no_accept6 counter drop',
    '  }',
    '}',
  )
  return `${lines.join('\n')}\n`
}

/** Runs `nft -f -` with the script; resolves with the error text if nft is missing or refuses. */
export function runNft(script: string, nft = NFT): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = execFile(nft, ['-f', '-'], { timeout: 10_000 }, (err, _out, stderr) => {
      resolve(err ? (stderr.trim() || err.message).split('\n')[0] : undefined)
    })
    child.stdin?.end(script)
  })
}

/** Installs (or replaces, or removes when nothing needs it) the drop rules for `instances`. */
export function applyAcceptMode(instances: readonly RuntimeInstance[], nft = NFT): Promise<string | undefined> {
  return runNft(acceptRuleset(instances), nft)
}
