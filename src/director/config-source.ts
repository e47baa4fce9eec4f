// The director's config reader. Each load (start and every reload) runs in a short-lived worker
// thread, so the YAML parser, the schema and their code never stay in the daemon's heap: they were
// ~1.7 MiB of the main thread's V8 heap, a quarter of what a VRRP-only lvsd adds to Node's own
// footprint (docs/benchmarks.md, "Idle cost"). A thread costs tens of ms per load; a reload is rare.
import { Worker } from 'node:worker_threads'
import type { ConfigLoad } from './config-read.js'
import type { LoadConfig } from './director.js'

export function configReader(path: string): LoadConfig {
  return () =>
    new Promise<ConfigLoad>((resolve, reject) => {
      const w = new Worker(new URL('./config-thread.js', import.meta.url), { workerData: path })
      let result: ConfigLoad | undefined
      w.once('message', (m: ConfigLoad) => {
        result = m
      })
      w.once('error', reject)
      w.once('exit', (code) => {
        if (result) resolve(result)
        else reject(new Error(`the configuration reader thread exited (code ${code}) without a result`))
      })
    })
}
