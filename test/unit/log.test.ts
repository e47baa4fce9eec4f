// Log lines: one JSON object per line by default, a readable line when asked for (or on a TTY).
import { fstatSync } from 'node:fs'
import { PassThrough } from 'node:stream'
import test from 'ava'
import { createLogger, journalLine, openLogger, resolveFormat, stderrIsJournal } from '../../src/log.js'

function sink() {
  const stream = new PassThrough()
  const chunks: string[] = []
  stream.on('data', (c: Buffer) => chunks.push(c.toString('utf8')))
  return { stream, text: () => chunks.join('') }
}

test('by default each record is one JSON line carrying level, time, base fields and the child bindings', (t) => {
  const out = sink()
  const log = createLogger({ destination: out.stream, base: { node: 'lb01' } })
  log.child({ vrrp: 'web' }).info({ from: 'BACKUP', to: 'MASTER', why: 'master_down' }, 'transition')
  const lines = out.text().trimEnd().split('\n')
  t.is(lines.length, 1)
  const rec = JSON.parse(lines[0] as string) as Record<string, unknown>
  t.like(rec, {
    level: 30,
    node: 'lb01',
    vrrp: 'web',
    from: 'BACKUP',
    to: 'MASTER',
    why: 'master_down',
    msg: 'transition',
  })
  t.is(rec.pid, process.pid)
  t.regex(String(rec.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
})

test('records below the level are dropped', (t) => {
  const out = sink()
  const log = createLogger({ destination: out.stream, level: 'warn' })
  log.info('quiet')
  log.warn('loud')
  const msgs = out
    .text()
    .trimEnd()
    .split('\n')
    .map((l) => (JSON.parse(l) as { msg: string }).msg)
  t.deepEqual(msgs, ['loud'])
})

test('the pretty format prints a human line, not JSON', async (t) => {
  const out = sink()
  t.throws(() => createLogger({ destination: out.stream, format: 'pretty' }), { message: /openLogger/ })
  const log = await openLogger({ destination: out.stream, format: 'pretty' })
  log.info({ vrrp: 'web' }, 'became master')
  await new Promise((r) => setImmediate(r))
  const text = out.text()
  t.regex(text, /INFO.*became master/)
  t.regex(text, /vrrp: "web"/)
  t.throws(() => JSON.parse(text))
})

test('the journal format is one readable line per record with the sd-daemon priority prefix', (t) => {
  const out = sink()
  const log = createLogger({ destination: out.stream, format: 'journal', base: { node: 'lb01' }, level: 'debug' })
  log.error({ config: '/etc/lvsd/lvsd.yaml' }, 'reload refused: /etc/lvsd/lvsd.yaml:3:7 vrrp: bad')
  log.warn('careful')
  log.info({ vrrp: 'web', why: 'master down' }, 'transition')
  log.debug('detail')
  t.deepEqual(out.text().split('\n'), [
    '<3>reload refused: /etc/lvsd/lvsd.yaml:3:7 vrrp: bad node=lb01 config=/etc/lvsd/lvsd.yaml',
    '<4>careful node=lb01',
    '<6>transition node=lb01 vrrp=web why="master down"',
    '<7>detail node=lb01',
    '',
  ])
})

test('a multi-line message in the journal format keeps its priority on every line', (t) => {
  t.is(journalLine('{"level":50,"msg":"a\\nb","n":1}'), '<3>a\n<3>b n=1\n')
  t.is(journalLine('{"level":60,"msg":"x"}'), '<2>x\n')
})

test('auto picks the journal only when stderr is the stream JOURNAL_STREAM names', (t) => {
  const st = fstatSync(2, { bigint: true })
  t.true(stderrIsJournal({ JOURNAL_STREAM: `${st.dev}:${st.ino}` }))
  t.false(stderrIsJournal({ JOURNAL_STREAM: `${st.dev}:${st.ino + 1n}` }))
  t.false(stderrIsJournal({}))
  t.is(resolveFormat({ format: 'json' }), 'json')
})
