// The checker of each kind behind one entry point: what the scheduler runs for a CheckSpec.
import { check as dns } from './dns.js'
import { check as exec } from './exec.js'
import { check as file } from './file.js'
import { check as http } from './http.js'
import { check as icmp } from './icmp.js'
import { check as smtp } from './smtp.js'
import { check as tcp } from './tcp.js'
import type { CheckOptions, Result, Target } from './types.js'
import { check as udp } from './udp.js'

export function runCheck(spec: CheckOptions, target: Target, signal: AbortSignal): Promise<Result> {
  switch (spec.kind) {
    case 'tcp':
      return tcp(target, spec.opts, signal)
    case 'http':
      return http(target, spec.opts, signal)
    case 'dns':
      return dns(target, spec.opts, signal)
    case 'udp':
      return udp(target, spec.opts, signal)
    case 'icmp':
      return icmp(target, spec.opts, signal)
    case 'smtp':
      return smtp(target, spec.opts, signal)
    case 'exec':
      return exec(target, spec.opts, signal)
    case 'file':
      return file(target, spec.opts, signal)
  }
}
