// Typed IPVS operations over a netlink client (<linux/ip_vs.h> genetlink family "IPVS", as ipvsadm uses it):
// family resolution with one modprobe retry, service/destination/daemon/config commands, and dumps.
import { isLvsdError, LvsdError } from '../errors.js'
import { formatAddr } from '../net/addr.js'
import { Genetlink } from '../net/genetlink.js'
import { dumpInterrupted, type NetlinkClient } from '../net/netlink-client.js'
import type { BatchOptions } from '../net/netlink-cork.js'
import { openNetlink } from '../net/netlink-transport.js'
import { NLM_F_DUMP, type NlMessage } from '../net/nlmsg.js'
import { NETLINK_GENERIC } from '../sys/constants.js'
import { CMD, cmdName, IPVS_GENL_NAME } from './attrs.js'
import { type DecodeOptions, decode, encode, type IpvsMessage, ipvsMessage } from './codec.js'
import {
  type DestEntry,
  type Destination,
  daemonFromWire,
  daemonToWire,
  destFromWire,
  destKeyToWire,
  destToWire,
  familyOfKey,
  type Info,
  infoFromWire,
  isFwmarkKey,
  type Service,
  type ServiceEntry,
  type ServiceKey,
  type SyncDaemon,
  serviceFromWire,
  serviceKeyToWire,
  serviceToWire,
  type Timeouts,
  timeoutsFromWire,
  timeoutsToWire,
} from './domain.js'

export interface IpvsClientOptions {
  /**
   * Loads the ip_vs module when the family is absent (e.g. runs `modprobe ip_vs`); called at most
   * once per open(). Injected so that tests and unprivileged callers decide what "load" means.
   */
  loadModule?: () => Promise<void> | void
  /** Per-request timeout (ms); the netlink client's default otherwise. */
  timeoutMs?: number
}

/** How often a dump the kernel marks NLM_F_DUMP_INTR (table changed meanwhile) is retried. */
const DUMP_RETRIES = 3

/** 'tcp 10.0.0.3:80', 'tcp [2001:db8::3]:443' or 'fwmark 7 (IPv4)': for errors and logs. */
export function describeKey(k: ServiceKey): string {
  if (isFwmarkKey(k)) return `fwmark ${k.fwmark} (IPv${k.family})`
  const a = formatAddr(k.addr)
  return `${k.protocol} ${k.addr.family === 6 ? `[${a}]` : a}:${k.port}`
}

export function describeDest(d: Pick<Destination, 'addr' | 'port'>): string {
  const a = formatAddr(d.addr)
  return `${d.addr.family === 6 ? `[${a}]` : a}:${d.port}`
}

/** The family id, or the kernel's refusal (ENOENT: IPVS is not registered) as the LVSD_NL_KERNEL it was. */
async function resolveFamily(nl: NetlinkClient): Promise<number> {
  const r = await new Genetlink(nl).resolveFamily(IPVS_GENL_NAME)
  if (r.available) return r.family.id
  throw r.error.cause
}

/** What a request is about, for errors: formatted only when one is thrown (addresses cost per op). */
type Target = string | (() => string)
const textOf = (t: Target) => (typeof t === 'string' ? t : t())
const nothing = () => undefined

const isEnoent = (e: unknown) => isLvsdError(e, 'LVSD_NL_KERNEL') && e.details.code === 'ENOENT'

export class IpvsClient {
  private dumps: Promise<unknown> = Promise.resolve()

  private constructor(
    private readonly nl: NetlinkClient,
    readonly familyId: number,
    private readonly timeoutMs: number | undefined,
  ) {}

  /**
   * Resolves the "IPVS" family; when the kernel does not know it, calls loadModule once and asks
   * again. Fails with LVSD_GENL_FAMILY_ABSENT when IPVS is still unavailable.
   */
  static async open(nl: NetlinkClient, opts: IpvsClientOptions = {}): Promise<IpvsClient> {
    let loadError: string | undefined
    let loaded = false
    for (;;) {
      try {
        return new IpvsClient(nl, await resolveFamily(nl), opts.timeoutMs)
      } catch (e) {
        if (!isEnoent(e)) throw e
        if (loaded || !opts.loadModule) {
          const how = !opts.loadModule ? 'no module loader given' : (loadError ?? 'loading ip_vs did not help')
          throw new LvsdError(
            'LVSD_GENL_FAMILY_ABSENT',
            `IPVS is not available in this kernel (generic netlink family "IPVS" is absent; ${how})`,
            { family: IPVS_GENL_NAME, loadError },
            { cause: e },
          )
        }
        loaded = true
        try {
          await opts.loadModule()
        } catch (le) {
          loadError = `loading ip_vs failed: ${(le as Error).message}`
        }
      }
    }
  }

  /** Opens a generic netlink socket in the caller's network namespace and resolves IPVS on it. */
  static async connect(opts: IpvsClientOptions = {}): Promise<IpvsClient> {
    const nl = openNetlink(NETLINK_GENERIC, opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs })
    try {
      return await IpvsClient.open(nl, opts)
    } catch (e) {
      nl.close()
      throw e
    }
  }

  /**
   * Runs f, sending the commands it issues together (up to the netlink client's batchLimit per datagram)
   * when it returns; each still gets its own result (with opts.ack 'last', only failures and each
   * datagram's last command are answered by the kernel). Dumps should not be issued inside.
   */
  batch<T>(f: () => T, opts?: BatchOptions): T {
    return this.nl.batch(f, opts)
  }

  /** Closes the netlink socket; outstanding requests fail with LVSD_NL_CLOSED. */
  close(): void {
    this.nl.close()
  }

  // ---- services ----

  addService(s: Service): Promise<void> {
    return this.command(ipvsMessage(CMD.NEW_SERVICE, { service: serviceToWire(s) }), () => describeKey(s.key))
  }

  editService(s: Service): Promise<void> {
    return this.command(ipvsMessage(CMD.SET_SERVICE, { service: serviceToWire(s) }), () => describeKey(s.key))
  }

  delService(key: ServiceKey): Promise<void> {
    return this.command(ipvsMessage(CMD.DEL_SERVICE, { service: serviceKeyToWire(key) }), () => describeKey(key))
  }

  async getService(key: ServiceKey): Promise<ServiceEntry> {
    const replies = await this.exchange(
      ipvsMessage(CMD.GET_SERVICE, { service: serviceKeyToWire(key) }),
      describeKey(key),
    )
    const svc = replies[0]?.service
    if (!svc) throw this.protocol(CMD.GET_SERVICE, 'no service in the reply')
    return serviceFromWire(svc)
  }

  /**
   * Every service of this network namespace, with stats (STATS64 when the kernel has it) unless
   * opts.stats is false.
   */
  async listServices(opts?: DecodeOptions): Promise<ServiceEntry[]> {
    const replies = await this.dump(ipvsMessage(CMD.GET_SERVICE), 'all services', opts)
    return replies.map((m) => {
      if (!m.service) throw this.protocol(CMD.GET_SERVICE, 'dump part without a service')
      return serviceFromWire(m.service)
    })
  }

  // ---- destinations ----

  addDest(key: ServiceKey, d: Destination): Promise<void> {
    return this.destCommand(CMD.NEW_DEST, key, d)
  }

  editDest(key: ServiceKey, d: Destination): Promise<void> {
    return this.destCommand(CMD.SET_DEST, key, d)
  }

  delDest(key: ServiceKey, d: Pick<Destination, 'addr' | 'port'>): Promise<void> {
    const msg = ipvsMessage(CMD.DEL_DEST, { service: serviceKeyToWire(key), dest: destKeyToWire(d) })
    return this.command(msg, () => `${describeKey(key)} -> ${describeDest(d)}`)
  }

  /**
   * The service's destinations in the kernel's list order (newest first: the kernel adds at the head),
   * with stats unless opts.stats is false.
   */
  async listDests(key: ServiceKey, opts?: DecodeOptions): Promise<DestEntry[]> {
    const replies = await this.dump(
      ipvsMessage(CMD.GET_DEST, { service: serviceKeyToWire(key) }),
      `destinations of ${describeKey(key)}`,
      opts,
    )
    return replies.map((m) => {
      if (!m.dest) throw this.protocol(CMD.GET_DEST, 'dump part without a destination')
      return destFromWire(m.dest, familyOfKey(key))
    })
  }

  // ---- config, info, daemons, counters ----

  async getTimeouts(): Promise<Timeouts> {
    const r = await this.exchange(ipvsMessage(CMD.GET_CONFIG), 'timeouts')
    return timeoutsFromWire(r[0]?.timeouts)
  }

  /** `ipvsadm --set tcp tcpfin udp`; a 0 leaves that timeout as it is. */
  setTimeouts(t: Timeouts): Promise<void> {
    return this.command(ipvsMessage(CMD.SET_CONFIG, { timeouts: timeoutsToWire(t) }), 'timeouts')
  }

  async getInfo(): Promise<Info> {
    const r = await this.exchange(ipvsMessage(CMD.GET_INFO), 'info')
    return infoFromWire(r[0]?.info)
  }

  async listDaemons(): Promise<SyncDaemon[]> {
    const replies = await this.dump(ipvsMessage(CMD.GET_DAEMON), 'sync daemons')
    return replies.flatMap((m) => (m.daemon ? [daemonFromWire(m.daemon)] : []))
  }

  startDaemon(d: SyncDaemon): Promise<void> {
    return this.command(ipvsMessage(CMD.NEW_DAEMON, { daemon: daemonToWire(d) }), `${d.state} sync daemon`)
  }

  stopDaemon(state: SyncDaemon['state']): Promise<void> {
    const daemon = { state: state === 'master' ? 1 : 2 }
    return this.command(ipvsMessage(CMD.DEL_DAEMON, { daemon }), `${state} sync daemon`)
  }

  /** Zeroes the counters of one service, or of all when no key is given. */
  zero(key?: ServiceKey): Promise<void> {
    const msg = key ? ipvsMessage(CMD.ZERO, { service: serviceKeyToWire(key) }) : ipvsMessage(CMD.ZERO)
    return this.command(msg, key ? describeKey(key) : 'all services')
  }

  /** Removes every service and destination of this network namespace (ipvsadm -C). */
  flush(): Promise<void> {
    return this.command(ipvsMessage(CMD.FLUSH), 'all services')
  }

  // ---- plumbing ----

  private destCommand(cmd: number, key: ServiceKey, d: Destination): Promise<void> {
    const msg = ipvsMessage(cmd, { service: serviceKeyToWire(key), dest: destToWire(d) })
    return this.command(msg, () => `${describeKey(key)} -> ${describeDest(d)}`)
  }

  private command(msg: IpvsMessage, target: Target): Promise<void> {
    return this.exchange(msg, target).then(nothing)
  }

  private async exchange(msg: IpvsMessage, target: Target, flags = 0, opts?: DecodeOptions): Promise<IpvsMessage[]> {
    const command = cmdName(msg.cmd)
    let parts: NlMessage[]
    try {
      parts = await this.nl.request(
        { type: this.familyId, flags, payload: encode(msg) },
        { op: `IPVS ${command}`, timeoutMs: this.timeoutMs },
      )
    } catch (e) {
      throw this.named(e, command, target)
    }
    if (flags & NLM_F_DUMP && dumpInterrupted(parts)) throw new Interrupted()
    return parts.map((p) => {
      if (p.type !== this.familyId) throw this.protocol(msg.cmd, `reply of netlink type ${p.type}`)
      return decode(p.payload, 0, opts).value
    })
  }

  /**
   * Dumps of this client run one after the other: a netlink socket runs a single dump, and a dump request
   * sent while another is unfinished gets EBUSY (seen on 6.1 when the reconciler's periodic read met another
   * caller's listDests). Commands are not queued behind dumps.
   */
  private dump(msg: IpvsMessage, target: Target, opts?: DecodeOptions): Promise<IpvsMessage[]> {
    const run = () => this.dumpNow(msg, target, opts)
    const p = this.dumps.then(run, run)
    this.dumps = p.catch(() => undefined)
    return p
  }

  private async dumpNow(msg: IpvsMessage, target: Target, opts?: DecodeOptions): Promise<IpvsMessage[]> {
    for (let i = 0; ; i++) {
      try {
        return await this.exchange(msg, target, NLM_F_DUMP, opts)
      } catch (e) {
        if (!(e instanceof Interrupted)) throw e
        if (i + 1 >= DUMP_RETRIES) {
          throw new LvsdError(
            'LVSD_NL_PROTOCOL',
            `IPVS ${cmdName(msg.cmd)} ${textOf(target)}: dump kept being interrupted`,
            {
              command: cmdName(msg.cmd),
              retries: DUMP_RETRIES,
            },
          )
        }
      }
    }
  }

  /** The kernel's refusal, re-thrown naming the IPVS command and what it was about. */
  private named(e: unknown, command: string, lazyTarget: Target): unknown {
    if (!isLvsdError(e, 'LVSD_NL_KERNEL')) return e
    const target = textOf(lazyTarget)
    const { errno, code, extAck } = e.details as { errno: number; code: string; extAck?: string }
    const text = `IPVS ${command} ${target}: ${code}${extAck ? `: ${extAck}` : ''}`
    return new LvsdError('LVSD_NL_KERNEL', text, { ...e.details, command, target, errno, code, extAck }, { cause: e })
  }

  private protocol(cmd: number, why: string): LvsdError {
    return new LvsdError('LVSD_NL_PROTOCOL', `IPVS ${cmdName(cmd)}: ${why}`, { command: cmdName(cmd) })
  }
}

class Interrupted extends Error {}
