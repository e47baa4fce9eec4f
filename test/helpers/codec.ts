// Shared checks for every codec (size / encodeInto / encode / decode) and the hex fixture reader.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ExecutionContext } from 'ava'
import { fixturesDir } from './paths.js'

export interface Codec<T> {
  size(v: T): number
  encode(v: T): Buffer
  encodeInto(v: T, buf: Buffer, offset: number): number
  decode(buf: Buffer, offset?: number): { value: T; bytes: number }
}

/**
 * dns-packet's testEncoder: decode(encode(v)) deep-equals v, the byte count equals size(v),
 * re-encoding the decoded value gives identical bytes, and encodeInto at an offset inside a
 * larger buffer writes the same bytes there and nothing outside them.
 */
export function roundTrip<T>(t: ExecutionContext, codec: Codec<T>, value: T): Buffer {
  const bytes = codec.encode(value)
  t.is(bytes.length, codec.size(value), 'encode length = size')
  const d = codec.decode(bytes)
  t.is(d.bytes, bytes.length, 'decode consumed every byte')
  t.deepEqual(d.value, value, 'decode(encode(v)) = v')
  t.deepEqual(codec.encode(d.value), bytes, 're-encode is identical')

  const pad = 7
  const big = Buffer.alloc(bytes.length + 2 * pad, 0xa5)
  t.is(codec.encodeInto(value, big, pad), bytes.length, 'encodeInto returns the count')
  t.deepEqual(big.subarray(pad, pad + bytes.length), bytes, 'encodeInto at an offset')
  t.true(
    big.subarray(0, pad).every((b) => b === 0xa5) && big.subarray(pad + bytes.length).every((b) => b === 0xa5),
    'encodeInto touched nothing outside its bytes',
  )
  const at = codec.decode(big.subarray(0, pad + bytes.length), pad)
  t.is(at.bytes, bytes.length)
  t.deepEqual(at.value, value, 'decode at an offset')
  return bytes
}

/** Reads test/fixtures/<name>: '#' lines are comments, the rest is hex (whitespace ignored). */
export function hexFixture(name: string): Buffer {
  const text = readFileSync(join(fixturesDir, name), 'utf8')
  const hex = text
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('')
    .replace(/\s+/g, '')
  if (!/^([0-9a-f]{2})*$/i.test(hex)) throw new Error(`${name}: not hex`)
  return Buffer.from(hex, 'hex')
}

export { prng } from './prng.js'
