// What lvsd put on a namespace's wire, frame by frame: tcpdump -xx inside the namespace, each frame
// kept as lowercase hex from its Ethernet header on, in the order they were seen.
import type { ChildProcess } from 'node:child_process'
import { type Lab, waitFor } from './netns.js'

export class HexCapture {
  readonly frames: string[] = []
  private text = ''

  private constructor(private readonly proc: ChildProcess) {
    proc.stdout?.on('data', (b: Buffer) => {
      this.text += b.toString()
      // a frame's dump ends where the next frame's unindented summary line begins
      const parts = this.text.split(/\n(?=\S)/)
      this.text = parts.pop() ?? ''
      for (const p of parts) this.take(p)
    })
  }

  /** Starts tcpdump on `iface` in `node`'s namespace and resolves once it is listening. */
  static async start(lab: Lab, node: string, iface: string, filter: string): Promise<HexCapture> {
    const proc = lab.spawn(node, 'tcpdump', ['-l', '-n', '-xx', '--immediate-mode', '-i', iface, filter])
    const cap = new HexCapture(proc)
    let listening = false
    let err = ''
    proc.stderr?.on('data', (b: Buffer) => {
      err += b.toString()
      if (err.includes('listening on')) listening = true
    })
    await waitFor(() => listening || proc.exitCode !== null, 20_000)
    if (!listening) throw new Error(`tcpdump did not start: ${err.trim()}`)
    return cap
  }

  /** Stops tcpdump and keeps the last frame, which no later summary line ended. */
  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const gone = new Promise((r) => this.proc.once('close', r))
      this.proc.kill('SIGTERM')
      await gone
    }
    this.take(this.text)
    this.text = ''
  }

  private take(dump: string): void {
    const hex = [...dump.matchAll(/^\s+0x[0-9a-f]+:\s+((?:[0-9a-f]{2,4}\s?)+)/gm)]
      .map((m) => m[1]?.replace(/\s/g, ''))
      .join('')
    if (hex) this.frames.push(hex)
  }
}
