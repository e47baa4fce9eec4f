// The VIPs this node holds as master, in a small file under /run/lvsd, so that lvsd restarted after
// a crash (SIGKILL, OOM, a watchdog kill) takes them off the wire first thing, before it has even
// read its configuration: until then two nodes answer ARP for the same address. Keyed by the
// configuration file's path (the only thing known that early); the control socket it records tells
// a crashed run (nobody listening) from a second lvsd started by mistake (then nothing is touched).
import { createHash } from 'node:crypto'
import { readFileSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { formatAddr, type Prefix } from '../net/addr.js'
import { writeStateFile } from '../sys/state-file.js'

export const RUN_DIR = '/run/lvsd'

export interface HeldVip {
  instance: string
  dev: string
  address: string
  len: number
}

export interface HeldFile {
  /** The control socket of the run that wrote the file. */
  socket: string
  vips: HeldVip[]
}

export function heldVipsFile(configPath: string, dir = RUN_DIR): string {
  const key = createHash('sha256').update(resolve(configPath)).digest('hex').slice(0, 16)
  return join(dir, `held-vips-${key}.json`)
}

export function readHeld(path: string): HeldFile | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<HeldFile>
    if (typeof v.socket !== 'string' || !Array.isArray(v.vips)) return undefined
    const vips = v.vips.filter(
      (x): x is HeldVip =>
        typeof x?.instance === 'string' &&
        typeof x.dev === 'string' &&
        typeof x.address === 'string' &&
        Number.isInteger(x.len),
    )
    return { socket: v.socket, vips }
  } catch {
    return undefined
  }
}

/** Keeps the file in step with the instances that are MASTER now. */
export class HeldVips {
  private readonly byInstance = new Map<string, HeldVip[]>()

  constructor(
    private readonly path: string,
    private readonly socket: string,
    private readonly onError: (err: Error) => void,
  ) {}

  set(instance: string, vips: { dev: string; prefix: Prefix }[] | undefined): void {
    if (vips && vips.length > 0)
      this.byInstance.set(
        instance,
        vips.map((v) => ({ instance, dev: v.dev, address: formatAddr(v.prefix.addr), len: v.prefix.len })),
      )
    else if (!this.byInstance.delete(instance)) return
    this.write()
  }

  /** A clean stop removed every VIP: nothing is held. */
  clear(): void {
    this.byInstance.clear()
    try {
      rmSync(this.path, { force: true })
    } catch (e) {
      this.onError(e as Error)
    }
  }

  private write(): void {
    try {
      if (this.byInstance.size === 0) {
        rmSync(this.path, { force: true })
        return
      }
      const body: HeldFile = { socket: this.socket, vips: [...this.byInstance.values()].flat() }
      // atomic (a crash mid-write leaves the previous list, never half of one), never through a link
      writeStateFile(this.path, `${JSON.stringify(body)}\n`)
    } catch (e) {
      this.onError(e as Error)
    }
  }
}
