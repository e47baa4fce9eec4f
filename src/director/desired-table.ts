// The IPVS table lvsd wants now, from the config, each server's health and operator state, and each
// service's quorum; no kernel I/O. Computing it is also where quorum is judged: a change is an event,
// runs quorum_up/quorum_down, and holds or frees the preemption of the instances the service follows
// (preempt_on_quorum).
import type { Config } from '../config/types.js'
import type { EventBus } from '../events.js'
import type { ServerState } from '../health/state.js'
import type { ServiceState } from '../ipvs/model.js'
import type { Logger } from '../log.js'
import { describeResult, type ProgramResult, runProgram } from '../sys/program.js'
import { serverId } from './health-specs.js'
import { aliveWeight, serviceTable } from './ipvs-table.js'
import { idsFor, type ProgramUsers, runAs } from './program-users.js'
import { type QuorumChange, QuorumKeeper } from './quorum.js'
import type { ServerBook } from './servers.js'

type Service = Config['virtual_services'][number]

export interface DesiredTableDeps {
  config(): Config
  users(): ProgramUsers
  book: ServerBook
  health(id: string): ServerState | undefined
  events: EventBus
  log: Logger
  holdPreemption(instance: string, held: boolean): void
  programFailed(owner: string, argv: readonly string[], r: Exclude<ProgramResult, { kind: 'exit'; code: 0 }>): void
}

/** The instance a `follow` names, or the only instance when it names none. */
export function followedInstance(config: Config, follow: string | undefined): string | undefined {
  const i = config.vrrp.instances
  return follow ?? (i.length === 1 ? i[0]?.name : undefined)
}

export class DesiredTable {
  private readonly quorum = new QuorumKeeper()

  constructor(private readonly d: DesiredTableDeps) {}

  /** Each service's quorum as last judged. */
  get quorumView(): ReadonlyMap<string, boolean> {
    return this.quorum.view
  }

  /** The quorum bookkeeping of a pass, then the table it programs (IpvsSide calls it when the pass runs). */
  readonly next = (): ServiceState[] => {
    this.updateQuorum()
    const c = this.d.config()
    return c.virtual_services.map((s) => serviceTable(s, this.serversNow(s), this.quorum.view.get(s.name) ?? true))
  }

  /** Forgets the quorum of services a reload removed. */
  keepOnly(names: ReadonlySet<string>): void {
    this.quorum.keepOnly(names)
  }

  private serversNow(s: Service) {
    return s.real_servers.map((rs) => this.d.book.now(s, rs, this.d.health(serverId(s.name, rs))))
  }

  /** Each service's quorum from its servers' state now; a change is an event and runs quorum_up/quorum_down. */
  private updateQuorum(): void {
    const services = this.d.config().virtual_services
    const changes = this.quorum.update(services, (name) => {
      const s = services.find((x) => x.name === name)
      return s ? aliveWeight(this.serversNow(s)) : 0
    })
    for (const ch of changes) {
      const s = services.find((x) => x.name === ch.service)
      this.quorumChanged(ch, ch.up ? s?.quorum_up : s?.quorum_down)
    }
    this.updatePreemptHolds()
  }

  private quorumChanged(ch: QuorumChange, argv: string[] | undefined): void {
    const { service } = ch
    this.d.events.publish('quorum.change', ch)
    if (!argv || argv.length === 0) return
    void runProgram(argv, { timeoutMs: 30_000, ...runAs(idsFor(this.d.users(), undefined)) }).then((r) => {
      if (r.kind === 'exit' && r.code === 0) return
      this.d.log.error({ service, argv, err: describeResult(argv[0] ?? '', r) }, 'quorum program failed')
      this.d.programFailed(service, argv, r)
    })
  }

  /**
   * preempt_on_quorum: an instance holds preemption while a service that follows it has no quorum
   * here. Back from a link fault, its checks have marked every real server down; taking the VIP
   * before they pass again reset every client for rise × interval (the Vagrant link-down drill).
   */
  private updatePreemptHolds(): void {
    const c = this.d.config()
    for (const i of c.vrrp.instances) {
      const held =
        i.preempt_on_quorum &&
        c.virtual_services.some(
          (s) => followedInstance(c, s.follow) === i.name && this.quorum.view.get(s.name) === false,
        )
      this.d.holdPreemption(i.name, held)
    }
  }
}
