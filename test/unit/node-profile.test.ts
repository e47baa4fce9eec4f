// The start-up advice on Node flags: the VRRP-only profile offered to a config without services,
// a warning when the JIT is off but health checks are configured, silence when the two fit.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { profileAdvice, VRRP_ONLY_PROFILE } from '../../src/cli/node-profile.js'
import { loadConfigText } from '../../src/config/load.js'
import type { Config } from '../../src/config/types.js'
import { repoRoot } from '../helpers/paths.js'

function config(text: string, file: string): Config {
  const r = loadConfigText(text, file)
  if (!r.ok) throw new Error(JSON.stringify(r.errors))
  return r.config
}

const vrrpOnly = config(
  `node: lb
vrrp:
  instances:
    - { name: web, interface: eth0, vrid: 51, priority: 150, vips: [10.0.0.100/24] }
`,
  'vrrp-only.yaml',
)
const withServices = config(readFileSync(join(repoRoot, 'conf/lb01.yaml'), 'utf8'), 'conf/lb01.yaml')

test('a VRRP-only config under default flags is offered the profile, as an info line', (t) => {
  const a = profileAdvice(vrrpOnly, [])
  t.is(a?.level, 'info')
  t.true(a?.msg.includes(`LVSD_NODE_ARGS="${VRRP_ONLY_PROFILE}"`))
})

test('services under --lite-mode or --jitless are warned about; the profile on a VRRP-only config is silent', (t) => {
  t.is(profileAdvice(withServices, ['--lite-mode', '--no-expose-wasm'])?.level, 'warn')
  t.is(profileAdvice(withServices, ['--jitless'])?.level, 'warn')
  t.is(profileAdvice(withServices, ['--max-semi-space-size=4']), undefined)
  t.is(profileAdvice(vrrpOnly, VRRP_ONLY_PROFILE.split(' ')), undefined)
})
