// keepalived.conf reading and parsing as pure functions over an in-memory file system: positions,
// includes, definitions, conditionals, sequences, quoting, braces, and the errors keepalived's own
// reader would trip over (look-alike spaces, unbalanced braces, unterminated quotes, include loops).
import test from 'ava'
import { expandBraces, expandInclude } from '../../src/import/kc-glob.js'
import { stripComment } from '../../src/import/kc-lines.js'
import { parse, tokenize } from '../../src/import/kc-parse.js'
import { readKeepalived } from '../../src/import/kc-source.js'
import type { KcIssue, SourceFs, Stmt } from '../../src/import/kc-types.js'

function memFs(files: Record<string, string>): SourceFs {
  return {
    read: (p) => files[p],
    list: (dir) => {
      const pre = dir.endsWith('/') ? dir : `${dir}/`
      return [
        ...new Set(
          Object.keys(files)
            .filter((f) => f.startsWith(pre))
            .map((f) => f.slice(pre.length).split('/')[0] as string),
        ),
      ]
    },
  }
}

function read(files: Record<string, string>, configId = 'lb01') {
  return readKeepalived('/etc/keepalived/keepalived.conf', { configId, fs: memFs(files) })
}

function texts(files: Record<string, string>, configId = 'lb01'): string[] {
  return read(files, configId).lines.map((l) => l.text.trim())
}

const MAIN = '/etc/keepalived/keepalived.conf'

test('comments start at # or ! outside quotes; CRLF line ends are dropped', (t) => {
  t.is(stripComment('priority 100 # the preferred node').text, 'priority 100')
  t.is(stripComment('priority 100 ! also a comment').text, 'priority 100')
  t.is(stripComment('script "/bin/echo #not-a-comment" # but this is').text, 'script "/bin/echo #not-a-comment"')
  t.deepEqual(texts({ [MAIN]: 'a 1\r\nb 2\r\n' }), ['a 1', 'b 2'])
})

test('a no-break space is reported at its line:col, not taken as whitespace silently', (t) => {
  const r = read({ [MAIN]: 'vrrp_instance V {\n  priority\u00a0100\n}\n' })
  t.is(r.errors.length, 1)
  t.deepEqual(r.errors[0]?.loc, { file: MAIN, line: 2, col: 11 })
  t.regex(r.errors[0]?.message ?? '', /no-break space \(U\+00A0\)/)
})

test('includes: globs relative to the including file, sorted; plain include of nothing is a note, includea an error', (t) => {
  const fs = {
    [MAIN]: 'include conf.d/*.conf\ninclude missing/*.conf\nincludea nothing.conf\n',
    '/etc/keepalived/conf.d/b.conf': 'b 1\ninclude ../sub/{x,y}.inc\n',
    '/etc/keepalived/conf.d/a.conf': 'a 1\n',
    '/etc/keepalived/conf.d/a.conf.orig': 'never 1\n',
    '/etc/keepalived/sub/x.inc': 'x 1\n',
    '/etc/keepalived/sub/y.inc': 'y 1\n',
  }
  const r = read(fs)
  t.deepEqual(
    r.lines.map((l) => `${l.file.replace('/etc/keepalived/', '')}:${l.line} ${l.text}`),
    ['conf.d/a.conf:1 a 1', 'conf.d/b.conf:1 b 1', 'sub/x.inc:1 x 1', 'sub/y.inc:1 y 1'],
  )
  t.is(r.notes.length, 1)
  t.is(r.errors.length, 1)
  t.deepEqual(r.errors[0]?.loc, { file: MAIN, line: 3, col: 1 })
})

test('an include loop is an error, not a hang', (t) => {
  const r = read({ [MAIN]: 'include keepalived.conf\n' })
  t.is(r.errors.length, 1)
  t.regex(r.errors[0]?.message ?? '', /include loop/)
})

test('brace expansion nests; a brace without a comma stays literal', (t) => {
  t.deepEqual(expandBraces('{foo/{,cat,dog},bar}'), ['foo/', 'foo/cat', 'foo/dog', 'bar'])
  t.deepEqual(expandBraces('a{b}c'), ['a{b}c'])
  t.deepEqual(expandInclude('/x/*.conf', memFs({ '/x/2.conf': '', '/x/1.conf': '', '/x/.h.conf': '' })), [
    '/x/1.conf',
    '/x/2.conf',
  ])
})

test('definitions: $NAME before whitespace, ${NAME} anywhere, late binding, undefined left alone', (t) => {
  const lines = texts({
    [MAIN]:
      '$ADDRESS_BASE=10.2.${ADDRESS_BASE_SUB}\n$ADDRESS_BASE_SUB=0\n${ADDRESS_BASE}.100/32\n$ADDRESS_BASE_SUB=10\n${ADDRESS_BASE}.100/32\nprio $P x\n$P=7\nprio $P x\nscript "$HOME/x"\n',
  })
  t.deepEqual(lines, ['10.2.0.100/32', '10.2.10.100/32', 'prio $P x', 'prio 7 x', 'script "$HOME/x"'])
})

test('multi-line definitions expand line by line, with conditionals and nested definitions inside', (t) => {
  const conf = [
    '$RS= \\',
    'real_server 10.0.${VSN}.${RSN} 80 { \\',
    '  @high weight 3 \\',
    '  @^high weight 1 \\',
    '} ',
    '$VS= \\',
    'virtual_server 10.0.${VSN}.4 80 { \\',
    '  $RSN=1 \\',
    '  $RS \\',
    '  $RSN=2 \\',
    '  $RS \\',
    '}',
    '$VSN=0',
    '$VS',
  ].join('\n')
  const wanted = (w: string) => [
    'virtual_server 10.0.0.4 80 {',
    'real_server 10.0.0.1 80 {',
    w,
    '}',
    'real_server 10.0.0.2 80 {',
    w,
    '}',
    '}',
  ]
  t.deepEqual(texts({ [MAIN]: conf }, 'high'), wanted('weight 3'))
  t.deepEqual(texts({ [MAIN]: conf }, 'low'), wanted('weight 1'))
})

test('@id and @^id lines against the config id; a definition may expand to a conditional', (t) => {
  const conf = '@main a 1\n@backup a 2\n@^main b 3\n$IF_MAIN=@main\n$IF_MAIN c 4\n@main $P=9\np $P\n'
  t.deepEqual(texts({ [MAIN]: conf }, 'main'), ['a 1', 'c 4', 'p 9'])
  t.deepEqual(texts({ [MAIN]: conf }, 'backup'), ['a 2', 'b 3', 'p $P'])
})

test('built-ins: _PWD is the current file’s directory, _INSTANCE the config id, _HASH and _BANG their characters', (t) => {
  const fs = {
    [MAIN]: 'include sub/x.conf\na ${_PWD} ${_INSTANCE} ${_HASH} ${_BANG}\n',
    '/etc/keepalived/sub/x.conf': 'b ${_PWD}\n',
  }
  t.deepEqual(texts(fs, 'n1'), ['b /etc/keepalived/sub', 'a /etc/keepalived n1 # !'])
  const r = read({ [MAIN]: 'w ${_RANDOM 5 9}\n' })
  t.deepEqual(
    r.lines.map((l) => l.text),
    ['w 5'],
  )
  t.is(r.notes.length, 1, 'a random value is reported, since lvsd cannot reproduce it')
})

test('~SEQ, ~SEQx and ~LST repeat the rest of the line', (t) => {
  t.deepEqual(texts({ [MAIN]: '~SEQ(N, 0, 2, 4) ip 10.0.${N}.1\n' }), ['ip 10.0.0.1', 'ip 10.0.2.1', 'ip 10.0.4.1'])
  t.deepEqual(texts({ [MAIN]: '~SEQx(N, 144, 16, 176) fe80::${N}\n' }), ['fe80::90', 'fe80::a0', 'fe80::b0'])
  t.deepEqual(texts({ [MAIN]: '~LST({A, B}, {1,2},{3,4}) ${A}.${B}\n' }), ['1.2', '3.4'])
  t.is(read({ [MAIN]: '~SEQ(N, 1, 0, 3) x\n' }).errors.length, 1)
})

test('a definition that expands into itself is an error, not a hang', (t) => {
  const r = read({ [MAIN]: '$A=${A}x\nv $A\n' })
  t.true(r.errors.length > 0)
})

function tree(src: string): { stmts: Stmt[]; errors: KcIssue[] } {
  const errors: KcIssue[] = []
  const r = read({ [MAIN]: src })
  return { stmts: parse(r.lines, errors), errors: [...r.errors, ...errors] }
}

function shape(s: Stmt[]): unknown[] {
  return s.map((x) => [x.key.text, ...x.args.map((a) => a.text), ...(x.block ? [shape(x.block)] : [])])
}

test('braces: "name{", "{" on its own line, one-line blocks and "}" ending a line are the same tree', (t) => {
  const want = [
    ['global_defs', [['router_id', 'a']]],
    [
      'vrrp_instance',
      'V',
      [
        ['state', 'BACKUP'],
        ['virtual_ipaddress', [['10.0.0.3/24']]],
      ],
    ],
  ]
  const forms = [
    'global_defs {\n  router_id a\n}\nvrrp_instance V {\n  state BACKUP\n  virtual_ipaddress {\n    10.0.0.3/24\n  }\n}\n',
    'global_defs{router_id a}\nvrrp_instance V{\nstate BACKUP\nvirtual_ipaddress { 10.0.0.3/24 }}\n',
    'global_defs\n{\n router_id a }\nvrrp_instance V\n{\n  state BACKUP\n  virtual_ipaddress\n  {\n 10.0.0.3/24\n  }\n}\n',
  ]
  for (const f of forms) {
    const r = tree(f)
    t.deepEqual(r.errors, [])
    t.deepEqual(shape(r.stmts), want, f)
  }
})

test('words carry file:line:col; quoted strings join and keep spaces, escapes are decoded', (t) => {
  const errors: KcIssue[] = []
  const words = tokenize(
    { text: `  a "b c"d 'e "f' "x\\ty" \\n`, cols: [...Array(30).keys()].map((i) => i + 1), file: 'f', line: 3 },
    errors,
  )
  t.deepEqual(
    words.map((w) => w.text),
    ['a', 'b cd', 'e "f', 'x\ty', '\\n'],
  )
  t.deepEqual(
    words.map((w) => w.loc.col),
    [3, 5, 12, 19, 26],
  )
  t.deepEqual(errors, [])
  tokenize({ text: 'script "/bin/true', cols: [...Array(17).keys()].map((i) => i + 1), file: 'f', line: 1 }, errors)
  t.is(errors.length, 1)
  t.deepEqual(errors[0]?.loc, { file: 'f', line: 1, col: 8 })
})

test('an unclosed block and a stray "}" are errors at the right place', (t) => {
  const r = tree('vrrp_instance V {\n  virtual_ipaddress {\n    10.0.0.3\n}\n}\n}\n')
  t.deepEqual(
    r.errors.map((e) => `${e.loc.line}:${e.loc.col} ${e.message}`),
    ["6:1 '}' without a block to close"],
  )
  const r2 = tree('vrrp_instance V {\n  virtual_ipaddress {\n    10.0.0.3\n}\n')
  t.deepEqual(
    r2.errors.map((e) => `${e.loc.line}:${e.loc.col}`),
    ['1:1'],
  )
})

test('positions survive expansion: a substituted word points at its $ reference', (t) => {
  const r = read({ [MAIN]: '$P=100\nvrrp_instance V {\n    priority   $P\n}\n' })
  const errors: KcIssue[] = []
  const s = parse(r.lines, errors)
  const prio = s[0]?.block?.[0]
  t.is(prio?.args[0]?.text, '100')
  t.deepEqual(prio?.args[0]?.loc, { file: MAIN, line: 3, col: 16 })
})

test('a multi-line definition used inside its own expansion, and exponential definitions, are errors, fast', (t) => {
  const start = Date.now()
  const self = read({ [MAIN]: '$RS= \\\nweight 1 \\\n~SEQ(N, 1, 4) $RS\n$RS\n' })
  t.true(self.errors.some((e) => /used inside its own expansion/.test(e.message)))
  const doubling = read({
    [MAIN]:
      '$A=x\n$B=$A $A\n$C=$B $B\n$D=$C $C\n$E=$D $D\n$F=$E $E\n$G=$F $F\n$H=$G $G\n$I=$H $H\n$J=$I $I\n$K=$J $J\n$L=$K $K\n$M=$L $L\n$N=$M $M\n$O=$N $N\n$P=$O $O\n$Q=$P $P\n$R=$Q $Q\nv $R\n',
  })
  t.true(doubling.errors.some((e) => /expands to more than 65536 characters/.test(e.message)))
  t.true(Date.now() - start < 2000)
})
