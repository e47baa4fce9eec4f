// The default way to load IPVS when the kernel lacks the family: run `modprobe ip_vs` once (as ipvsadm
// and keepalived do). Kept out of client.ts so the client stays testable without spawning anything.
import { execFile } from 'node:child_process'

/** A loader for IpvsClientOptions.loadModule: resolves when modprobe exits 0, rejects with its stderr. */
export function modprobe(module = 'ip_vs', bin = 'modprobe', timeoutMs = 10_000): () => Promise<void> {
  return () =>
    new Promise((resolve, reject) => {
      execFile(bin, [module], { timeout: timeoutMs }, (err, _stdout, stderr) => {
        if (err) reject(new Error(`${bin} ${module}: ${String(stderr).trim() || err.message}`))
        else resolve()
      })
    })
}
