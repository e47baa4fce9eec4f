// What the drill engine needs from a place where a director pair runs: the client's view (probes,
// long connection, capture), each director's control API, and the faults. Three backends implement
// it: namespaces on this kernel (also used inside the qemu VM), and the Vagrant topology.
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import type { Status } from '../../src/director/types.js'
import type { BackendName, ClientEvent, FaultKind, Frame } from './types.js'

export interface ClientSink {
  onClient(e: ClientEvent): void
  onFrame(f: Frame): void
}

/** The client prints one JSON event per line (lab/demo/client.ts): each goes to the sink; other lines are noise. */
export function forwardClientEvents(out: Readable, sink: () => ClientSink | undefined): void {
  createInterface({ input: out }).on('line', (l) => {
    try {
      sink()?.onClient(JSON.parse(l) as ClientEvent)
    } catch {}
  })
}

export interface ReloadOutcome {
  ok: boolean
  /** lvsctl's/systemctl's output: the refusal names file:line:col. */
  output: string
}

export interface DrillBackend {
  readonly name: BackendName
  readonly topology: string
  /** Real IPVS carries the client's traffic here. */
  readonly ipvs: boolean
  /** The IPVS sync daemon runs between the directors (long connections must survive a takeover). */
  readonly syncRuns: boolean
  /** New connection every … ms from the client. */
  readonly probeIntervalMs: number
  /** What virtualisation and process start-up add to the RFC timers here, and why (ms). */
  readonly margin: { ms: number; why: string }
  /**
   * How much later than the margin a director busy with its own work (a reload) may forward here,
   * with the measurement behind it; none where that is not seen.
   */
  readonly busyForwarding?: { ms: number; why: string }
  /** Between two polls of the directors' status (each costs the directors CPU). */
  readonly pollMs: number
  /** How long a step may take to settle here (wall clock). */
  readonly stepTimeoutMs: number
  /** The faults this backend can inflict, and why not the others. */
  can(kind: FaultKind): true | string
  /** The kernel the directors run. */
  kernel(): string
  /** Brings the pair up (lvsd running, real servers serving) and arms the capture. */
  up(sink: ClientSink, say: (line: string) => void): Promise<void>
  down(): Promise<void>
  /** Starts the client's load and long-lived connection (a fresh one per scenario). */
  startClient(): Promise<void>
  stopClient(): Promise<void>
  /** Now, on the client's clock. */
  clientNow(): number
  /** How far clientNow() may be off the client's own stamps (0 where they share one clock). */
  readonly clockErrorMs: number
  status(node: string): Promise<Status | null>
  /** The director the client's neighbour entry for the VIP points at, or null. */
  vipNeighbour(): Promise<string | null>
  /** The director's kernel lists the client's connection from this port (IPVS sync). */
  listsConnection(node: string, clientPort: number): Promise<boolean>
  /**
   * Inflicts a fault; returns how, in words for the timeline, and, where it goes in in steps, when
   * the step a takeover depends on was in place (the peer no longer hears the node), client's clock.
   */
  fault(kind: FaultKind, node: string): Promise<string | { how: string; inPlaceAt: number }>
  /** Undoes it (the node back, lvsd running again, the link up, the filter gone). */
  restore(kind: FaultKind, node: string): Promise<string>
  /** The director's running configuration file. */
  readConfig(node: string): Promise<string>
  /** Writes the file and asks lvsd to reload it. */
  reload(node: string, text: string): Promise<ReloadOutcome>
}
