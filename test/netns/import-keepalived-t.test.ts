// keepalived's own config test (`keepalived -t`, Debian's 2.2.7) and `lvsd import keepalived` agree on
// which corpus files are invalid. Needs root: keepalived -t refuses interfaces that do not exist, so
// it runs in a namespace holding veth interfaces of the names the corpus uses (eth0, bond0, …),
// the same on every machine. Disagreements keepalived documents as defaults are listed with the reason.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import test from 'ava'
import { diskFs } from '../../src/cli/import.js'
import { importKeepalived } from '../../src/import/keepalived.js'
import { configId, corpusCases, corpusDir as dir } from '../helpers/import-corpus.js'
import { Lab, sh } from '../helpers/netns.js'

const IFACES = ['eth0', 'eth1', 'eth2', 'bond0', 'ens3', 'eth0.0', 'eth0.1']

/** Files where keepalived -t fails but the import converts with a note, and why that is right. */
const KNOWN: Record<string, string> = {
  '13-obsolete-spellings':
    'keepalived -t fails on the deprecated lvs_sync_daemon_interface and a one-member sync group; both still work, lvsd notes them',
  '46-defaults-keepalived-complains':
    'keepalived -t fails on a missing lb_kind / lb_algo, then uses NAT / wlc; lvsd writes those out with a note',
  '49-removed-keywords':
    'keepalived 2.2 -t fails on lvs_id / nat_mask it no longer knows; they never had an effect, lvsd notes them',
}

test('keepalived -t and lvsd import agree on which corpus files are invalid', (t) => {
  const lab = new Lab('kt')
  try {
    const ns = lab.addNamespace('k')
    // veth pairs (this kernel may lack the dummy module); the peer ends are named p0, p1, …
    for (const [n, i] of IFACES.entries())
      sh('ip', ['-n', ns, 'link', 'add', i, 'type', 'veth', 'peer', 'name', `p${n}`])
    const rows: string[] = []
    let invalidBoth = 0
    let validBoth = 0
    for (const c of corpusCases()) {
      const id = configId(c)
      const ka = spawnSync(
        'ip',
        ['netns', 'exec', ns, 'keepalived', '-t', '-f', join(dir, c, 'keepalived.conf'), '-i', id],
        {
          encoding: 'utf8',
          timeout: 20_000,
        },
      )
      const lvsd = importKeepalived(join(dir, c, 'keepalived.conf'), { configId: id, fs: diskFs })
      const kaValid = ka.status === 0
      const lvsdValid = lvsd.status !== 2
      if (c in KNOWN) {
        t.false(kaValid, `${c}: keepalived -t now accepts it; drop it from KNOWN`)
        t.true(lvsdValid, `${c}: lvsd import refuses it: ${lvsd.errors.join('; ')}`)
        continue
      }
      if (kaValid !== lvsdValid)
        rows.push(
          `${c}: keepalived -t ${ka.status} (${(ka.stderr + ka.stdout).trim().split('\n')[0]}), lvsd import ${lvsd.status} ${lvsd.errors[0] ?? ''}`,
        )
      else if (kaValid) validBoth++
      else invalidBoth++
    }
    t.deepEqual(rows, [])
    t.true(invalidBoth >= 10, `only ${invalidBoth} files both call invalid`)
    t.true(validBoth >= 30, `only ${validBoth} files both call valid`)
  } finally {
    lab.dispose()
  }
})
