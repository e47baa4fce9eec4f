// `nft -i` in a namespace, started once: a rule set changes without a process spawn at the moment
// it must. Spawning `ip netns exec … nft` took over a second in the qemu VM (TCG), longer than an
// advert interval, so the partition the drill times could go in after one more advert.
import type { ChildProcess } from 'node:child_process'
import { until } from './wait.js'

export class NftShell {
  private out = ''

  constructor(private readonly proc: ChildProcess) {
    proc.stdout?.setEncoding('utf8').on('data', (d: string) => {
      this.out += d
    })
    proc.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.out += d
    })
  }

  /**
   * Runs `command`, then `check` (a list command), and resolves once the check's output satisfies
   * `done`: the change is in the kernel then. Throws on an nft error or after `timeoutMs`.
   */
  async run(command: string, check: string, done: (listing: string) => boolean, timeoutMs: number): Promise<void> {
    this.out = ''
    this.proc.stdin?.write(`${command}\n${check}\n`)
    await until(
      `nft: ${command}`,
      timeoutMs,
      () => {
        if (/^Error:/m.test(this.out)) throw new Error(`nft: ${this.out.trim()}`)
        return done(this.out)
      },
      5,
    )
  }

  close(): void {
    this.proc.stdin?.end()
    this.proc.kill('SIGKILL')
  }
}
