// Which user each program runs as: its own `user:`, else programs.user, else (lvsd as root) an
// unprivileged user, so a notify program never holds the director's privileges by default.
import test from 'ava'
import { loadConfigText } from '../../src/config/load.js'
import type { Config } from '../../src/config/types.js'
import { idsFor, resolveProgramUsers } from '../../src/director/program-users.js'
import type { UserIds } from '../../src/sys/users.js'

const passwd: Record<string, UserIds> = { lvsd: { uid: 990, gid: 990 }, nobody: { uid: 65534, gid: 65534 } }
const lookup =
  (without: string[] = []) =>
  async (n: string) =>
    without.includes(n) ? undefined : passwd[n]

function config(extra = ''): Config {
  const r = loadConfigText(
    `node: n
vrrp:
  instances:
    - name: web
      interface: eth0
      vrid: 51
      vips: [10.0.0.3/24]
      notify: { master: [/bin/true] }
${extra}`,
    'c.yaml',
  )
  if (!r.ok) throw new Error(JSON.stringify(r.errors))
  return r.config
}

test('as root, programs run as lvsd when that user exists, else nobody', async (t) => {
  const a = await resolveProgramUsers(config(), true, lookup())
  t.deepEqual(idsFor(a, undefined), { uid: 990, gid: 990 })
  const b = await resolveProgramUsers(config(), true, lookup(['lvsd']))
  t.deepEqual(idsFor(b, undefined), { uid: 65534, gid: 65534 })
})

test('as root with neither user present, the config is refused rather than run as root', async (t) => {
  await t.throwsAsync(resolveProgramUsers(config(), true, lookup(['lvsd', 'nobody'])), {
    code: 'LVSD_CONFIG_INVALID',
  })
})

test('programs.user wins, and not as root the default is lvsd’s own user', async (t) => {
  const a = await resolveProgramUsers(config('programs: { user: nobody }\n'), true, lookup())
  t.deepEqual(idsFor(a, undefined), { uid: 65534, gid: 65534 })
  const b = await resolveProgramUsers(config(), false, lookup())
  t.is(idsFor(b, undefined), undefined)
})
