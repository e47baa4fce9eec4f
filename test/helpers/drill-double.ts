// A director pair for the drill engine's unit tests: no IPVS, lb01 MASTER and lb02 BACKUP unless a
// test says otherwise, every fault accepted at once. Tests override what they watch.
import type { DrillBackend } from '../../lab/drill/backend.js'
import type { FaultKind } from '../../lab/drill/types.js'
import type { Status } from '../../src/director/types.js'

export function directorStatus(state: string): Status {
  return { instances: [{ name: 'web', state }], services: [], config: { hash: 'h' } } as unknown as Status
}

export function doubleBackend(over: Partial<DrillBackend> = {}): DrillBackend {
  const b: Partial<DrillBackend> = {
    name: 'netns',
    topology: 'double',
    ipvs: false,
    syncRuns: false,
    probeIntervalMs: 100,
    margin: { ms: 0, why: 'a double' },
    pollMs: 5,
    stepTimeoutMs: 60,
    clockErrorMs: 0,
    can: () => true,
    kernel: () => 'none',
    startClient: async () => {},
    stopClient: async () => {},
    clientNow: () => Date.now(),
    status: async (node: string) => directorStatus(node === 'lb01' ? 'MASTER' : 'BACKUP'),
    fault: async (kind: FaultKind) => kind,
    restore: async (kind: FaultKind) => kind,
    ...over,
  }
  return b as DrillBackend
}
