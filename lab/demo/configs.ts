// Per-run copies of the example configs (conf/lb01.yaml, conf/lb02.yaml): two daemons on one
// filesystem must not share a control socket, so each copy points `control.socket` into the run's
// temporary directory. Everything else, comments included, stays as the example has it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseDocument } from 'yaml'

export interface NodeConfig {
  node: string
  path: string
  socket: string
}

/** The example's text with control.socket set to `socket` (the block is added when absent). */
export function withControlSocket(text: string, socket: string, dropIpvs = false): string {
  const doc = parseDocument(text)
  if (dropIpvs) {
    // `--here` on a kernel without IPVS: the VRRP part only (lvsd refuses services it cannot program)
    doc.delete('virtual_services')
    doc.delete('ipvs')
  }
  doc.setIn(['control', 'socket'], socket)
  // a group named in the example may not exist on a demo machine; root needs no group anyway
  doc.deleteIn(['control', 'group'])
  return doc.toString()
}

export class DemoConfigs {
  readonly dir: string
  readonly nodes: NodeConfig[] = []

  constructor(repoRoot: string, examples: { node: string; config: string }[], dropIpvs = false) {
    this.dir = mkdtempSync(join(tmpdir(), 'lvsd-demo-'))
    for (const e of examples) {
      const socket = join(this.dir, `${e.node}.sock`)
      const path = join(this.dir, `${e.node}.yaml`)
      writeFileSync(path, withControlSocket(readFileSync(resolve(repoRoot, e.config), 'utf8'), socket, dropIpvs))
      this.nodes.push({ node: e.node, path, socket })
    }
  }

  of(node: string): NodeConfig {
    const c = this.nodes.find((n) => n.node === node)
    if (!c) throw new Error(`no config for ${node}`)
    return c
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}
