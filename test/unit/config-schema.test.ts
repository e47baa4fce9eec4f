// The JSON Schema and docs/config.md are generated from the one schema declaration: the committed
// copies must be current, and the JSON Schema must agree with the validator on what is allowed.
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import test from 'ava'
import { parse } from 'yaml'
import { jsonSchemaText, referenceText } from '../../src/config/emit-schema.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))
type J = Record<string, unknown>

/** Enough of JSON Schema 2020-12 for what emit-schema produces; returns the first violation found. */
function violation(s: J, v: unknown, path = '$'): string | undefined {
  const types = s.type === undefined ? undefined : ([] as unknown[]).concat(s.type)
  if (types) {
    const t = Array.isArray(v) ? 'array' : v === null ? 'null' : Number.isInteger(v) ? 'integer' : typeof v
    if (!types.includes(t) && !(t === 'integer' && types.includes('number')))
      return `${path}: ${t} is not ${types.join('|')}`
  }
  if (s.enum && !(s.enum as unknown[]).includes(v)) return `${path}: not in enum`
  if ('const' in s && s.const !== v) return `${path}: not ${String(s.const)}`
  if (typeof v === 'string') {
    if (s.pattern && !new RegExp(s.pattern as string, 'u').test(v)) return `${path}: does not match ${s.pattern}`
    if (typeof s.minLength === 'number' && v.length < s.minLength) return `${path}: too short`
  }
  if (typeof v === 'number') {
    if (typeof s.minimum === 'number' && v < s.minimum) return `${path}: below minimum`
    if (typeof s.maximum === 'number' && v > s.maximum) return `${path}: above maximum`
  }
  if (Array.isArray(v)) {
    if (typeof s.minItems === 'number' && v.length < s.minItems) return `${path}: too few items`
    if (typeof s.maxItems === 'number' && v.length > s.maxItems) return `${path}: too many items`
    for (const [i, x] of v.entries()) {
      const e = s.items ? violation(s.items as J, x, `${path}[${i}]`) : undefined
      if (e) return e
    }
  }
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as J
    const props = (s.properties ?? {}) as Record<string, J>
    for (const r of (s.required ?? []) as string[]) if (!(r in o)) return `${path}: missing ${r}`
    for (const [k, x] of Object.entries(o)) {
      if (props[k]) {
        const e = violation(props[k], x, `${path}.${k}`)
        if (e) return e
      } else if (s.additionalProperties === false) return `${path}.${k}: additional property`
    }
  }
  if (s.anyOf && (s.anyOf as J[]).every((sub) => violation(sub, v, path) !== undefined))
    return `${path}: matches no anyOf`
  if (s.oneOf) {
    const ok = (s.oneOf as J[]).filter((sub) => violation(sub, v, path) === undefined).length
    if (ok !== 1) return `${path}: matches ${ok} of oneOf`
  }
  return undefined
}

const schema = JSON.parse(readFileSync(`${root}conf/lvsd.schema.json`, 'utf8')) as J
const examples = readdirSync(`${root}conf`).filter((f) => f.endsWith('.yaml'))

test('conf/lvsd.schema.json is what emit-schema produces now (run npm run schema)', (t) => {
  t.is(readFileSync(`${root}conf/lvsd.schema.json`, 'utf8'), jsonSchemaText())
})

test('docs/config.md is what emit-schema produces now (run npm run schema)', (t) => {
  t.is(readFileSync(`${root}docs/config.md`, 'utf8'), referenceText())
})

test('every object in the JSON Schema forbids unknown keys', (t) => {
  let objects = 0
  const walk = (s: unknown, at: string): void => {
    if (Array.isArray(s)) {
      for (const [i, x] of s.entries()) walk(x, `${at}[${i}]`)
      return
    }
    if (s === null || typeof s !== 'object') return
    const o = s as J
    if (o.properties) {
      objects++
      t.is(o.additionalProperties, false, `${at} allows unknown keys`)
    }
    for (const [k, v] of Object.entries(o)) walk(v, `${at}/${k}`)
  }
  walk(schema, '#')
  t.true(objects > 30, `only ${objects} objects found`)
})

for (const f of examples) {
  test(`the JSON Schema accepts conf/${f}`, (t) => {
    t.is(violation(schema, parse(readFileSync(`${root}conf/${f}`, 'utf8'))), undefined)
  })
}

test('the JSON Schema rejects unknown keys at the top, in an instance and in a check', (t) => {
  const base = () =>
    parse(readFileSync(`${root}conf/lb01.yaml`, 'utf8')) as J & {
      vrrp: { instances: J[] }
      virtual_services: Array<{ checks: J[] }>
    }
  const top = base()
  top.virtual_servers = []
  t.regex(violation(schema, top) ?? '', /virtual_servers: additional property/)
  const inst = base()
  inst.vrrp.instances[0]!.priorty = 150
  t.regex(violation(schema, inst) ?? '', /priorty: additional property/)
  const check = base()
  check.virtual_services[0]!.checks[0]!.helo_name = 'x'
  t.truthy(violation(schema, check), 'an smtp key in an http check')
})

test('the JSON Schema and the validator agree on the unknown-key corpus files', (t) => {
  for (const f of ['06-unknown-top-level-key.yaml', '07-unknown-nested-key-hint.yaml', '08-unknown-key-no-hint.yaml']) {
    const v = violation(schema, parse(readFileSync(`${root}test/configs/bad/${f}`, 'utf8')))
    t.regex(v ?? '', /additional property/, f)
  }
})
