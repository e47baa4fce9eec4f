// Generic netlink operations (<linux/genetlink.h>): resolve a family through nlctrl and send
// family commands. An absent family is a typed result, not an exception, because "this kernel has
// no IPVS" is a state lvsd reports and works around, not a failure of the call.
import { isLvsdError, LvsdError } from '../errors.js'
import { NETLINK_GENERIC } from '../sys/constants.js'
import {
  decodeFamily,
  decode as decodeGenl,
  GENL_ID_CTRL,
  type GenlFamily,
  type GenlMessage,
  genlRequest,
  getFamilyRequest,
} from './genl.js'
import type { NetlinkClient, RequestOptions } from './netlink-client.js'
import { type OpenOptions, openNetlink } from './netlink-transport.js'
import type { Attr } from './nlattr.js'

export type FamilyLookup =
  | { available: true; family: GenlFamily }
  /** reason is the errno name the kernel gave (ENOENT when the family is not registered). */
  | { available: false; name: string; reason: string; error: LvsdError }

export interface GenlRequest {
  cmd: number
  attrs: Attr[]
  /** NLM_F_* beyond REQUEST|ACK, e.g. NLM_F_DUMP. */
  flags?: number
}

export class Genetlink {
  constructor(readonly client: NetlinkClient) {}

  static open(opts: OpenOptions = {}): Genetlink {
    return new Genetlink(openNetlink(NETLINK_GENERIC, opts))
  }

  /** CTRL_CMD_GETFAMILY; a kernel refusal (ENOENT: not registered) becomes { available: false }. */
  async resolveFamily(name: string): Promise<FamilyLookup> {
    let replies: Awaited<ReturnType<NetlinkClient['request']>>
    try {
      replies = await this.client.request(getFamilyRequest(name), { op: `nlctrl GETFAMILY ${name}` })
    } catch (e) {
      if (isLvsdError(e, 'LVSD_NL_KERNEL')) {
        const reason = typeof e.details.code === 'string' ? e.details.code : 'refused'
        const error = new LvsdError(
          'LVSD_GENL_FAMILY_ABSENT',
          `generic netlink family ${name} is not available: ${reason}`,
          { name, reason, errno: e.details.errno },
          { cause: e },
        )
        return { available: false, name, reason, error }
      }
      throw e
    }
    const reply = replies.find((m) => m.type === GENL_ID_CTRL)
    if (!reply) {
      throw new LvsdError('LVSD_NL_PROTOCOL', `nlctrl answered GETFAMILY ${name} without a family`, { name })
    }
    return { available: true, family: decodeFamily(reply.payload) }
  }

  /** Like resolveFamily, but throws LVSD_GENL_FAMILY_ABSENT when the family is missing. */
  async requireFamily(name: string): Promise<GenlFamily> {
    const r = await this.resolveFamily(name)
    if (!r.available) throw r.error
    return r.family
  }

  /**
   * One command to a resolved family; resolves with the decoded genl replies (the parts of a dump,
   * or a command's answer). Kernel refusals are LVSD_NL_KERNEL naming opts.op.
   */
  async request(family: GenlFamily, req: GenlRequest, opts: RequestOptions = {}): Promise<GenlMessage[]> {
    const msg = genlRequest(family.id, req.cmd, family.version, req.attrs, req.flags ?? 0)
    const replies = await this.client.request(msg, { op: `${family.name} cmd ${req.cmd}`, ...opts })
    return replies.filter((m) => m.type === family.id).map((m) => decodeGenl(m.payload, 0, family.hdrSize).value)
  }

  close(): void {
    this.client.close()
  }
}
