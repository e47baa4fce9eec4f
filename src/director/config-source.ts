// The director's config reader. Each load (start and every reload) runs in a short-lived worker
// thread, so the YAML parser, the schema and their code never stay in the daemon's heap: they were
// ~1.7 MiB of the main thread's V8 heap, a quarter of what a VRRP-only lvsd adds to Node's own
// footprint (docs/benchmarks.md, "Idle cost"). A thread costs tens of ms per load; a reload is rare.
import { Worker } from 'node:worker_threads'
import type { ConfigLoad } from './config-read.js'
import type { LoadConfig } from './director.js'

const THREAD = new URL('./config-thread.js', import.meta.url)

/** `thread`: the module the load runs in (tests pass one that fails). */
export function configReader(path: string, thread: URL = THREAD): LoadConfig {
  return () =>
    new Promise<ConfigLoad>((resolve) => {
      // a thread that cannot start or dies is a refused load like an unreadable file: the running
      // config keeps serving and the operator reads why
      const refused = (why: string): ConfigLoad => ({
        ok: false,
        info: { source: path, hash: '', loadedAt: Date.now() },
        errors: [{ path: '', message: `cannot load ${path}: ${why}` }],
      })
      let result: ConfigLoad | undefined
      let failure: string | undefined
      let w: Worker
      try {
        w = new Worker(thread, { workerData: path })
      } catch (e) {
        resolve(refused(`the reader thread did not start (${String(e)})`))
        return
      }
      w.once('message', (m: ConfigLoad) => {
        result = m
      })
      w.once('error', (e) => {
        failure = `the reader thread failed (${String(e)})`
      })
      w.once('exit', (code) => resolve(result ?? refused(failure ?? `the reader thread exited with code ${code}`)))
    })
}
