// The keepalived.conf corpus (test/import/keepalived/NN-name/): each case's import must give exactly
// its expected.txt (status, then the errors or the notes) and expected.yaml, and every produced YAML
// must load with the code `lvsd check` uses. LVSD_UPDATE_GOLDEN=1 rewrites the goldens (review them!).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { diskFs } from '../../src/cli/import.js'
import { formatIssue, loadConfigText } from '../../src/config/load.js'
import { importKeepalived } from '../../src/import/keepalived.js'
import { configId, corpusCases, corpusDir as dir } from '../helpers/import-corpus.js'

const cases = corpusCases()
const update = process.env.LVSD_UPDATE_GOLDEN === '1'

test('the corpus has at least 40 keepalived.conf cases, converted and refused ones', (t) => {
  t.true(cases.length >= 40, `only ${cases.length} cases`)
  const statuses = cases.map((c) => readFileSync(join(dir, c, 'expected.txt'), 'utf8').split('\n')[0])
  t.true(statuses.filter((s) => s === 'status 2').length >= 10, 'at least 10 refused files')
  t.true(statuses.filter((s) => s === 'status 0').length >= 10, 'at least 10 clean conversions')
  t.true(statuses.filter((s) => s === 'status 1').length >= 10, 'at least 10 conversions with notes')
})

for (const c of cases) {
  test(`${c}: import gives the expected status, messages and YAML, and lvsd check accepts it`, (t) => {
    const r = importKeepalived(join(dir, c, 'keepalived.conf'), { configId: configId(c), fs: diskFs })
    const txt = [`status ${r.status}`, ...(r.status === 2 ? r.errors : r.notes)].join('\n') + '\n'
    const yamlFile = join(dir, c, 'expected.yaml')
    if (update) {
      writeFileSync(join(dir, c, 'expected.txt'), txt)
      if (r.yaml !== undefined) writeFileSync(yamlFile, r.yaml)
    }
    t.is(txt, readFileSync(join(dir, c, 'expected.txt'), 'utf8'))
    if (r.status === 2) {
      t.is(r.yaml, undefined)
      t.false(existsSync(yamlFile), 'a refused file has no expected.yaml')
      for (const e of r.errors) t.regex(e, /^[^:]+:\d+:\d+: \S/)
      return
    }
    t.is(r.yaml, readFileSync(yamlFile, 'utf8'))
    const loaded = loadConfigText(r.yaml as string, `${c}/expected.yaml`)
    t.true(loaded.ok, loaded.ok ? '' : loaded.errors.map(formatIssue).join('\n'))
    t.is(r.status, r.notes.length > 0 ? 1 : 0)
    for (const n of r.notes) t.regex(n, /^[^:]+:\d+: [^:]+: \S/)
    // every note also stands in the output, so nothing is dropped silently
    for (const n of r.notes) t.true((r.yaml as string).includes(n), `note missing from the YAML: ${n}`)
  })
}

// Every keyword issue #16 names, and the syntax it names, appears in at least one corpus file.
const KEYWORDS = [
  'include',
  'global_defs',
  'router_id',
  'script_user',
  'enable_script_security',
  'vrrp_version',
  'vrrp_garp_master_delay',
  'vrrp_garp_master_repeat',
  'vrrp_garp_master_refresh',
  'lvs_sync_daemon',
  'lvs_timeouts',
  'vrrp_script',
  'vrrp_instance',
  'state',
  'interface',
  'virtual_router_id',
  'priority',
  'advert_int',
  'version',
  'nopreempt',
  'preempt_delay',
  'authentication',
  'auth_type',
  'auth_pass',
  'unicast_src_ip',
  'unicast_peer',
  'track_interface',
  'track_script',
  'track_file',
  'notify_master',
  'notify_backup',
  'notify_fault',
  'notify_stop',
  'notify',
  'virtual_ipaddress',
  'virtual_ipaddress_excluded',
  'use_vmac',
  'garp_master_delay',
  'garp_master_repeat',
  'accept',
  'no_accept',
  'vrrp_sync_group',
  'group',
  'virtual_server',
  'virtual_server_group',
  'real_server',
  'TCP_CHECK',
  'HTTP_GET',
  'SSL_GET',
  'url',
  'path',
  'digest',
  'status_code',
  'MISC_CHECK',
  'misc_path',
  'DNS_CHECK',
  'SMTP_CHECK',
  'UDP_CHECK',
  'PING_CHECK',
  'FILE_CHECK',
  'delay_loop',
  'retry',
  'delay_before_retry',
  'connect_timeout',
  'lb_algo',
  'lvs_sched',
  'lb_kind',
  'lvs_method',
  'persistence_timeout',
  'persistence_granularity',
  'quorum',
  'hysteresis',
  'quorum_up',
  'quorum_down',
  'sorry_server',
  'inhibit_on_failure',
  'ops',
  'alpha',
  'omega',
  'nb_get_retry',
  'nat_mask',
  'lvs_id',
  'protocol',
  'weight',
]
const SYNTAX: Array<[string, RegExp]> = [
  ['$NAME= definition', /^\s*\$[A-Za-z_]\w*=/m],
  ['multi-line definition', /^\s*\$[A-Za-z_]\w*=\s*\\$/m],
  ['@id conditional', /^\s*@\w/m],
  ['@^id conditional', /^\s*@\^\w/m],
  ['built-in ${_INSTANCE}', /\$\{_INSTANCE\}/],
  ['built-in ${_PWD}', /\$\{_PWD\}|\$\{_HASH\}/],
  ['include with a glob', /^\s*include\s+\S*[*?[]/m],
  ['include with braces', /^\s*include\s+\S*\{/m],
  ['"{" on its own line', /^\s*\{\s*$/m],
  ['"name{" without a space', /\w\{/],
  ['one-line block', /\{[^}\n]+\}/],
  ['"!" comment', /!/],
  ['CRLF', /\r\n/],
  ['no-break space', /\u00a0/],
  ['quoted string', /"[^"\n]* [^"\n]*"/],
  ['~SEQ', /~SEQ\(/],
]

test('the corpus covers every keyword and syntax of the issue', (t) => {
  const texts: string[] = []
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name))
      else if (!e.name.startsWith('expected')) texts.push(readFileSync(join(d, e.name), 'utf8'))
    }
  }
  walk(dir)
  const all = texts.join('\n')
  const missing = KEYWORDS.filter((k) => !new RegExp(`(^|[\\s{])${k}(\\s|$)`, 'm').test(all))
  t.deepEqual(missing, [])
  t.deepEqual(
    SYNTAX.filter(([, re]) => !texts.some((x) => re.test(x))).map(([n]) => n),
    [],
  )
  t.true(
    /^virtual_server /m.test(texts.find((x) => (x.match(/^virtual_server /gm) ?? []).length >= 150) ?? ''),
    'a file with 150 services',
  )
})
