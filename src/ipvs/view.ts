// The reconciler's view of the kernel's IPVS table: the table as last read, with every op the kernel
// accepted since applied to it the way ip_vs_ctl.c does (a new destination goes to the list's head, i.e.
// the end of our oldest-first list). A config pass diffs against it instead of dumping 2,284 services.
import type { Op } from './diff.js'
import type { Destination, Service } from './domain.js'
import { destId, type ServiceState, serviceId } from './model.js'

interface Entry {
  service: Service
  /** Oldest first, as readTable returns them. */
  dests: Destination[]
}

export class TableView {
  private readonly services = new Map<string, Entry>()

  /** A view of a table as readTable returned it (each service's destinations oldest first). */
  constructor(read: readonly ServiceState[]) {
    for (const s of read) this.services.set(serviceId(s.service.key), { service: s.service, dests: [...s.dests] })
  }

  get size(): number {
    return this.services.size
  }

  /** The table as diff() takes it. The arrays are the view's own: diff only reads them. */
  table(): ServiceState[] {
    return [...this.services.values()]
  }

  /** Records one op the kernel acknowledged. */
  apply(op: Op): void {
    switch (op.op) {
      case 'add-service':
        this.services.set(serviceId(op.service.key), { service: op.service, dests: [] })
        return
      case 'edit-service': {
        const e = this.services.get(serviceId(op.service.key))
        if (e) e.service = op.service
        return
      }
      case 'del-service':
        this.services.delete(serviceId(op.key))
        return
      default: {
        const e = this.services.get(serviceId(op.key))
        if (!e) return
        const id = destId(op.dest)
        const at = e.dests.findIndex((d) => destId(d) === id)
        if (op.op === 'add-dest') {
          if (at >= 0) e.dests.splice(at, 1)
          e.dests.push(op.dest)
        } else if (op.op === 'edit-dest') {
          if (at >= 0) e.dests[at] = op.dest
        } else if (at >= 0) e.dests.splice(at, 1)
      }
    }
  }
}
