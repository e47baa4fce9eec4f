// The `peer:` section of node n (1 or 2) of a pair on loopback (127.0.0.1 ↔ 127.0.0.2): the unit
// tier's two directors or peer sides talk over real UDP without a namespace.
import { join } from 'node:path'

/** YAML for lb0n's peer section, its key and state files in `dir`; `extra` lines go inside it. */
export function loopbackPeer(dir: string, n: 1 | 2, port: number, extra: string[] = []): string {
  return [
    'peer:',
    `  address: 127.0.0.${3 - n}`,
    `  source: 127.0.0.${n}`,
    `  port: ${port}`,
    `  key_file: ${join(dir, 'key')}`,
    `  state_file: ${join(dir, `lb0${n}-state.json`)}`,
    '  interval: 200ms',
    ...extra.map((l) => `  ${l}`),
    '',
  ].join('\n')
}
